// Verifies RFC 9068 JWT access tokens for the REST API with jose, against the
// provider's own public keys (no HTTP round trip), and turns them into a
// Principal. Tokens must be `typ: at+jwt`, from our issuer, for the API
// audience, unexpired, and carry the `api` scope.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { accounts } from '../accounts/table.js';
import { UUID_RE } from '../ids.js';
import { oidcClients } from './table.js';
import { API_SCOPE } from './provider.js';
import { dbCache } from '../cache/db-caches.js';

type AccountRow = { id: string; coopId: string | null; platformAdmin: boolean };
type ClientRow = { id: string; coopId: string; tenancyId: string | null; kind: string };

/** Seconds a token is still accepted past its `exp` (clock skew between processes). */
const CLOCK_TOLERANCE_S = 5;
/** Verified tokens kept; past this many the memo starts again (a token is a few hundred bytes). */
const MAX_VERIFIED = 2_000;

export class AccessTokenVerifier {
  #jwks: ReturnType<typeof createLocalJWKSet>;
  /**
   * Tokens whose signature and claims were verified, until they expire or the keys change. All
   * the checks but the expiry depend on the token's bytes and the keys alone, so a token seen
   * again needs only its expiry checked: a client sends the same token for minutes, and the
   * signature check is the largest part of an authorised read.
   */
  #verified = new Map<string, JWTPayload & { exp: number }>();
  readonly #accountQuery;
  readonly #clientQuery;

  constructor(
    private readonly db: Db,
    readonly issuer: string,
    readonly audience: string,
    jwks: JSONWebKeySet,
  ) {
    this.#jwks = createLocalJWKSet(jwks);
    // Prepared: every authenticated API request runs one of these.
    this.#accountQuery = db
      .select({ id: accounts.id, coopId: accounts.coopId, platformAdmin: accounts.platformAdmin })
      .from(accounts)
      // A suspended (or erased) account's access tokens are refused from the next request on.
      .where(and(eq(accounts.id, sql.placeholder('id')), isNull(accounts.suspendedAt)))
      .limit(1)
      .prepare('oidc_principal_account');
    this.#clientQuery = db
      .select({ id: oidcClients.id, coopId: oidcClients.coopId, tenancyId: oidcClients.tenancyId, kind: oidcClients.kind })
      .from(oidcClients)
      .where(eq(oidcClients.clientId, sql.placeholder('clientId')))
      .limit(1)
      .prepare('oidc_principal_client');
  }

  /** How many verified tokens are held now (at most MAX_VERIFIED): what the memo costs in memory. */
  get remembered(): number {
    return this.#verified.size;
  }

  setKeys(jwks: JSONWebKeySet): void {
    this.#jwks = createLocalJWKSet(jwks);
    // A key no longer published no longer vouches for the tokens it signed.
    this.#verified = new Map();
  }

  /** The verified claims, or null for any token that is not valid for the API. */
  async verify(token: string): Promise<JWTPayload | null> {
    const seen = this.#verified.get(token);
    // As jose decides `exp`: accepted while it is after now less the tolerance.
    if (seen && seen.exp > Math.floor(Date.now() / 1000) - CLOCK_TOLERANCE_S) return seen;
    if (seen) this.#verified.delete(token);
    const payload = await this.#verify(token);
    if (payload) {
      if (this.#verified.size >= MAX_VERIFIED) this.#verified.clear();
      this.#verified.set(token, payload);
    }
    return payload;
  }

  async #verify(token: string): Promise<(JWTPayload & { exp: number }) | null> {
    try {
      const { payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.issuer,
        audience: this.audience,
        typ: 'at+jwt',
        // The provider signs access tokens with ES256 only (provider.ts); its RS256 key signs ID tokens for relying parties that need it.
        algorithms: ['ES256'],
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (!scope.includes(API_SCOPE)) return null;
      return payload as JWTPayload & { exp: number }; // required above, a number (jose checks it)
    } catch {
      return null;
    }
  }

  async principal(token: string): Promise<Principal | null> {
    const claims = await this.verify(token);
    if (!claims) return null;
    const clientId = String(claims.client_id);
    const scope = String(claims.scope).split(' ');
    const tokenId = String(claims.jti);
    // Client credentials: the subject is the client itself (a machine client of a co-op).
    if (claims.sub === clientId) {
      // Cached until a client changes anywhere: a deleted client's tokens stop on every process as the change notice arrives.
      const client = await dbCache<string, ClientRow>(this.db, 'token-clients', { tables: ['oidc_clients'] }).get(clientId, async () => (await this.#clientQuery.execute({ clientId }))[0]);
      if (!client || client.kind !== 'machine') return null;
      return { accountId: client.id, coopId: client.coopId, platformAdmin: false, via: 'oidc', tokenId, clientId, scope, machine: { tenancyId: client.tenancyId } };
    }
    if (!UUID_RE.test(String(claims.sub))) return null; // present: a required claim
    // Cached until an account changes anywhere (a suspension among them).
    const account = await dbCache<string, AccountRow>(this.db, 'token-accounts', { tables: ['accounts'] }).get(claims.sub!, async () => (await this.#accountQuery.execute({ id: claims.sub! }))[0]);
    if (!account) return null;
    return { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId, clientId, scope };
  }
}
