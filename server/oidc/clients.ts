// OIDC clients registered for a co-op or one of its tenancies. Secrets are
// generated here, shown once, and stored sealed (oidc-provider needs the
// plain value to check client_secret_basic). The provider reads clients
// through `clientMetadata`, so a deleted client stops working at once.
import { randomBytes } from 'node:crypto';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { AdapterPayload } from 'oidc-provider';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { uuidv7 } from '../ids.js';
import { appendAudit, type AuditValue } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import { revokeClientGrantsIn } from '../grants/service.js';
import { oidcClients } from './table.js';
import { dbCache } from '../cache/db-caches.js';

export type ClientKind = 'web' | 'public' | 'machine';
type ClientRow = typeof oidcClients.$inferSelect;
export type OidcClient = Omit<ClientRow, 'secretSealed'> & { hasSecret: boolean };

export const USER_SCOPES = ['openid', 'email', 'profile', 'meetplane', 'offline_access', 'api'] as const;
export const MACHINE_SCOPES = ['api'] as const;
/**
 * Algorithms a client may have its ID tokens (and logout tokens) signed with.
 * ES256 is the default; RS256 for relying parties that know nothing else. No
 * EdDSA: the JWKS is shared by all clients and cjose-based ones (Apache's
 * mod_auth_openidc) cannot parse Ed25519 keys.
 */
export const ID_TOKEN_ALGS = ['ES256', 'RS256'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];
export const secretLabel = (clientId: string) => `oidc-client-secret:${clientId}`;

export interface ClientInput {
  name: string;
  coopId: string;
  tenancyId: string | null;
  kind: ClientKind;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scope?: string | undefined;
  /** OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed (web and public clients). */
  backchannelLogoutUri?: string | null | undefined;
  /** The client needs `sid` in logout tokens. */
  backchannelLogoutSessionRequired?: boolean | undefined;
  idTokenSignedResponseAlg?: IdTokenAlg | undefined;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a redirect URI is refused, or null. https everywhere; http only to loopback (native apps, tests). */
export function redirectUriProblem(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.hash || value.includes('#')) return 'must not have a fragment';
  if (u.username || u.password) return 'must not carry credentials';
  if (value.includes('*')) return 'must not contain wildcards';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return null;
  return 'must use https (http is allowed for loopback addresses only)';
}

function validate(input: ClientInput): string {
  const errors: Array<{ path: string; message: string }> = [];
  input.redirectUris.forEach((uri, i) => {
    const bad = redirectUriProblem(uri);
    if (bad) errors.push({ path: `redirectUris.${i}`, message: bad });
  });
  input.postLogoutRedirectUris.forEach((uri, i) => {
    const bad = redirectUriProblem(uri);
    if (bad) errors.push({ path: `postLogoutRedirectUris.${i}`, message: bad });
  });
  if (input.backchannelLogoutUri) {
    const bad = redirectUriProblem(input.backchannelLogoutUri);
    if (bad) errors.push({ path: 'backchannelLogoutUri', message: bad });
    if (input.kind === 'machine') errors.push({ path: 'backchannelLogoutUri', message: 'machine clients sign nobody in, so there is nobody to log out' });
  } else if (input.backchannelLogoutSessionRequired) errors.push({ path: 'backchannelLogoutSessionRequired', message: 'needs a backchannelLogoutUri' });
  if (input.kind === 'machine' && input.redirectUris.length > 0)
    errors.push({ path: 'redirectUris', message: 'machine clients use client credentials and have no redirect URIs' });
  if (input.kind !== 'machine' && input.redirectUris.length === 0) errors.push({ path: 'redirectUris', message: 'at least one is required' });
  const allowed: readonly string[] = input.kind === 'machine' ? MACHINE_SCOPES : USER_SCOPES;
  const scope = input.scope ?? (input.kind === 'machine' ? 'api' : 'openid email profile meetplane offline_access api');
  for (const s of scope.split(' ').filter(Boolean))
    if (!allowed.includes(s)) errors.push({ path: 'scope', message: `"${s}" is not available to ${input.kind} clients (${allowed.join(', ')})` });
  if (input.kind !== 'machine' && !scope.split(' ').includes('openid')) errors.push({ path: 'scope', message: 'must include openid' });
  if (errors.length) throw problems.validation(errors);
  return [...new Set(scope.split(' ').filter(Boolean))].join(' ');
}

function out(row: ClientRow): OidcClient {
  const { secretSealed, ...rest } = row;
  return { ...rest, hasSecret: secretSealed !== null };
}

function auditView(c: OidcClient): Record<string, AuditValue> {
  return {
    clientId: c.clientId,
    name: c.name,
    coop: c.coopId,
    tenancy: c.tenancyId,
    kind: c.kind,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    scope: c.scope,
    backchannelLogoutUri: c.backchannelLogoutUri,
    backchannelLogoutSessionRequired: c.backchannelLogoutSessionRequired,
    idTokenSignedResponseAlg: c.idTokenSignedResponseAlg,
  };
}

const newSecret = () => 'mp_cs_' + randomBytes(32).toString('base64url');

export async function createClient(db: Db, box: SecretBox, actor: Principal, input: ClientInput): Promise<{ client: OidcClient; secret: string | null }> {
  const scope = validate(input);
  const id = uuidv7();
  const clientId = 'mpc_' + randomBytes(16).toString('base64url');
  const secret = input.kind === 'public' ? null : newSecret();
  const client = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(oidcClients)
      .values({
        id,
        clientId,
        name: input.name,
        coopId: input.coopId,
        tenancyId: input.tenancyId,
        kind: input.kind,
        redirectUris: input.redirectUris,
        postLogoutRedirectUris: input.postLogoutRedirectUris,
        scope,
        backchannelLogoutUri: input.backchannelLogoutUri ?? null,
        backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired ?? false,
        idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? 'ES256',
        secretSealed: secret ? box.seal(secret, secretLabel(clientId)) : null,
      })
      .returning();
    const c = out(row!);
    await appendAudit(tx, { actor, action: 'oidc-client.create', subject: { type: 'oidc-client', id }, after: auditView(c) });
    return c;
  });
  return { client, secret };
}

export async function findClient(db: Executor, idOrClientId: string): Promise<OidcClient | undefined> {
  const where = /^[0-9a-f-]{36}$/i.test(idOrClientId) ? eq(oidcClients.id, idOrClientId) : eq(oidcClients.clientId, idOrClientId);
  const [row] = await db.select().from(oidcClients).where(where).limit(1);
  return row ? out(row) : undefined;
}

export async function listClients(db: Db, opts: { coopId?: string | null; after?: string; limit: number }): Promise<OidcClient[]> {
  const conds = [];
  if (opts.coopId !== undefined) conds.push(opts.coopId === null ? sql`false` : eq(oidcClients.coopId, opts.coopId));
  if (opts.after) conds.push(gt(oidcClients.id, opts.after));
  const rows = await db.select().from(oidcClients).where(and(...conds)).orderBy(asc(oidcClients.id)).limit(opts.limit + 1);
  return rows.map(out);
}

/** What PATCH /clients/{id} may change: how the client is told of logouts, and how its ID tokens are signed. */
export interface ClientUpdate {
  backchannelLogoutUri?: string | null | undefined;
  backchannelLogoutSessionRequired?: boolean | undefined;
  idTokenSignedResponseAlg?: IdTokenAlg | undefined;
}

export async function updateClient(db: Db, actor: Principal, current: OidcClient, patch: ClientUpdate): Promise<OidcClient> {
  const next = {
    backchannelLogoutUri: patch.backchannelLogoutUri === undefined ? current.backchannelLogoutUri : patch.backchannelLogoutUri,
    backchannelLogoutSessionRequired: patch.backchannelLogoutSessionRequired ?? (patch.backchannelLogoutUri === null ? false : current.backchannelLogoutSessionRequired),
    idTokenSignedResponseAlg: patch.idTokenSignedResponseAlg ?? current.idTokenSignedResponseAlg,
  };
  // The same rules as at registration (the redirect URIs are unchanged and valid).
  validate({ ...current, ...next, scope: current.scope });
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(oidcClients)
      .set({ ...next, version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(oidcClients.id, current.id), eq(oidcClients.version, current.version)))
      .returning();
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    const after = out(row);
    await appendAudit(tx, { actor, action: 'oidc-client.update', subject: { type: 'oidc-client', id: current.id }, before: auditView(current), after: auditView(after) });
    return after;
  });
}

export async function rotateClientSecret(db: Db, box: SecretBox, actor: Principal, current: OidcClient): Promise<{ client: OidcClient; secret: string }> {
  if (current.kind === 'public') throw problems.conflict('public-client', 'public clients have no secret');
  const secret = newSecret();
  const client = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(oidcClients)
      .set({ secretSealed: box.seal(secret, secretLabel(current.clientId)), version: current.version + 1, updatedAt: new Date() })
      .where(and(eq(oidcClients.id, current.id), eq(oidcClients.version, current.version)))
      .returning();
    if (!row) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, { actor, action: 'oidc-client.rotate-secret', subject: { type: 'oidc-client', id: current.id }, details: { version: row.version } });
    return out(row);
  });
  return { client, secret };
}

export async function deleteClient(db: Db, actor: Principal, current: OidcClient): Promise<void> {
  await db.transaction(async (tx) => {
    // Its grants are revoked (kept as the record), with everything delegated from them.
    const revoked = current.kind === 'machine' ? await revokeClientGrantsIn(tx, actor, current.id, 'client deleted') : [];
    const gone = await tx
      .delete(oidcClients)
      .where(and(eq(oidcClients.id, current.id), eq(oidcClients.version, current.version)))
      .returning({ id: oidcClients.id });
    if (gone.length === 0) throw problems.preconditionFailed('(changed meanwhile)');
    await appendAudit(tx, {
      actor,
      action: 'oidc-client.delete',
      subject: { type: 'oidc-client', id: current.id },
      before: auditView(current),
      after: null,
      ...(revoked.length ? { details: { revokedGrants: revoked } } : {}),
    });
  });
}

/**
 * The client's metadata as oidc-provider expects it, or undefined when unknown. Read on every
 * token request, so it is cached until a client changes anywhere (a rotated secret, a deleted
 * client): the change notice retires it on every process (server/cache/db-caches.ts).
 */
export async function clientMetadata(db: Db, box: SecretBox, clientId: string): Promise<AdapterPayload | undefined> {
  if (!/^mpc_[A-Za-z0-9_-]{22}$/.test(clientId)) return undefined;
  return dbCache<string, AdapterPayload>(db, 'oidc-client-metadata', { tables: ['oidc_clients'] }).get(clientId, () => readClientMetadata(db, box, clientId));
}

async function readClientMetadata(db: Db, box: SecretBox, clientId: string): Promise<AdapterPayload | undefined> {
  const [row] = await db.select().from(oidcClients).where(eq(oidcClients.clientId, clientId)).limit(1);
  if (!row) return undefined;
  const base = {
    client_id: row.clientId,
    client_name: row.name,
    scope: row.scope,
    // Only the algorithm it registered (oidc-provider would otherwise pick its default).
    id_token_signed_response_alg: row.idTokenSignedResponseAlg,
  };
  if (row.kind === 'machine')
    return {
      ...base,
      client_secret: box.open(row.secretSealed!, secretLabel(row.clientId)),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    };
  return {
    ...base,
    ...(row.secretSealed ? { client_secret: box.open(row.secretSealed, secretLabel(row.clientId)) } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: row.redirectUris,
    post_logout_redirect_uris: row.postLogoutRedirectUris,
    ...(row.backchannelLogoutUri
      ? { backchannel_logout_uri: row.backchannelLogoutUri, backchannel_logout_session_required: row.backchannelLogoutSessionRequired }
      : {}),
    token_endpoint_auth_method: row.kind === 'public' ? 'none' : 'client_secret_basic',
  };
}
