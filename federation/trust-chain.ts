// Trust chain resolution (OpenID Federation 1.0 §10): from a subject's entity configuration up
// through its authority hints to a configured trust anchor, checking every signature against the
// key set the superior vouched for, the constraints on the way, the earliest expiry, and finally
// applying the merged metadata policy. Every request goes through the server's one door out.
import type { Outbound } from '../server/net/outbound.js';
import {
  ENTITY_STATEMENT_CONTENT_TYPE,
  peekStatement,
  StatementError,
  thumbprints,
  verifyStatement,
  WELL_KNOWN_PATH,
  type Constraints,
  type EntityStatement,
  type Jwks,
} from './entity-statement.js';
import { applyMetadataPolicy, mergePolicyChain, PolicyError, type Metadata, type MetadataPolicy } from './metadata-policy.js';

/** A trust anchor this instance trusts: its entity id and the key set it was configured with. */
export interface TrustAnchor {
  entityId: string;
  jwks: Jwks;
}

export interface ResolvedChain {
  subject: string;
  trustAnchor: string;
  /** Statements leaf first: the subject's configuration, then each superior's statement about the one below. */
  statements: EntityStatement[];
  /** The signed statements as received, in the same order (the trust_chain of §4.3). */
  jwts: string[];
  /** The subject's metadata after the chain's policies (and the immediate superior's `metadata`). */
  metadata: Metadata;
  /** Seconds since the epoch: the earliest `exp` in the chain. */
  expiresAt: number;
}

export class TrustChainError extends Error {
  override name = 'TrustChainError';
  constructor(
    message: string,
    /** The OpenID Federation error code a resolve endpoint answers with. */
    readonly code: 'invalid_trust_chain' | 'invalid_metadata' | 'invalid_policy' | 'invalid_trust_anchor' = 'invalid_trust_chain',
  ) {
    super(message);
  }
}

const MAX_DEPTH = 8;

function wellKnown(entityId: string): string {
  return `${entityId.replace(/\/+$/, '')}${WELL_KNOWN_PATH}`;
}

/** Does `entityId` satisfy the naming constraints (RFC 5280 style host names: ".example.org" = any subdomain)? */
export function namingAllows(entityId: string, c: NonNullable<Constraints['naming_constraints']>): boolean {
  const host = new URL(entityId).hostname;
  const matches = (pattern: string) => (pattern.startsWith('.') ? host.endsWith(pattern) : host === pattern);
  if (c.excluded?.some(matches)) return false;
  if (c.permitted && !c.permitted.some(matches)) return false;
  return true;
}

export class TrustChainResolver {
  readonly #fetch: Outbound['fetch'];
  readonly #cache = new Map<string, ResolvedChain>();
  readonly #now: () => number;

  constructor(outbound: Pick<Outbound, 'fetch'>, now: () => number = Date.now) {
    this.#fetch = outbound.fetch;
    this.#now = now;
  }

  async #get(url: string): Promise<string> {
    let res: Response;
    try {
      res = await this.#fetch(url, { headers: { accept: ENTITY_STATEMENT_CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new TrustChainError(`could not fetch ${new URL(url).origin}${new URL(url).pathname}: ${(err as Error).message}`);
    }
    const body = await res.text();
    if (!res.ok) throw new TrustChainError(`${new URL(url).origin}${new URL(url).pathname} answered ${res.status}`);
    return body.trim();
  }

  /** Fetches an entity configuration and checks it is signed by a key of its own jwks. */
  async fetchConfiguration(entityId: string): Promise<{ jwt: string; statement: EntityStatement }> {
    const jwt = await this.#get(wellKnown(entityId));
    const claims = this.#peek(jwt);
    if (claims.iss !== entityId || claims.sub !== entityId) throw new TrustChainError(`entity configuration of ${entityId} names iss ${claims.iss}, sub ${claims.sub}`);
    return { jwt, statement: await this.#verify(jwt, claims.jwks) };
  }

  #peek(jwt: string): EntityStatement {
    try {
      return peekStatement(jwt);
    } catch (err) {
      throw new TrustChainError((err as Error).message);
    }
  }

  async #verify(jwt: string, jwks: Jwks): Promise<EntityStatement> {
    try {
      return await verifyStatement(jwt, jwks, this.#now());
    } catch (err) {
      if (err instanceof StatementError) throw new TrustChainError(err.message);
      throw err;
    }
  }

  async #fetchSubordinate(superior: EntityStatement, subject: string): Promise<{ jwt: string; statement: EntityStatement }> {
    const endpoint = (superior.metadata?.federation_entity as { federation_fetch_endpoint?: unknown } | undefined)?.federation_fetch_endpoint;
    if (typeof endpoint !== 'string') throw new TrustChainError(`${superior.sub} publishes no federation_fetch_endpoint`);
    const url = new URL(endpoint);
    url.searchParams.set('sub', subject);
    const jwt = await this.#get(url.toString());
    const claims = this.#peek(jwt);
    if (claims.iss !== superior.sub || claims.sub !== subject) throw new TrustChainError(`${superior.sub} answered a statement of ${claims.iss} about ${claims.sub}`);
    // Signed by the superior: checked with the key set its own configuration (or the anchor's configured keys) holds.
    return { jwt, statement: await this.#verify(jwt, superior.jwks) };
  }

  /**
   * Resolves the chain from `subject` to `anchor`, depth first over authority hints.
   * Cached until the chain's earliest expiry.
   */
  async resolve(subject: string, anchor: TrustAnchor): Promise<ResolvedChain> {
    // Keyed by the anchor's keys too: they come from the database on every resolve, so an anchor
    // configured anew with another key (on any process) is never answered from an old chain.
    const key = `${subject} ${anchor.entityId} ${JSON.stringify(anchor.jwks)}`;
    const cached = this.#cache.get(key);
    if (cached && cached.expiresAt * 1000 > this.#now()) return cached;
    this.#cache.delete(key);
    const leaf = await this.fetchConfiguration(subject);
    const path = await this.#climb(leaf, anchor, [leaf.jwt], [leaf.statement], new Set([subject]));
    const chain = this.#finish(subject, anchor, path.jwts, path.statements);
    this.#cache.set(key, chain);
    return chain;
  }

  /** Forgets cached chains (an anchor removed, a peer's enrolment changed). */
  forget(): void {
    this.#cache.clear();
  }

  async #climb(
    current: { jwt: string; statement: EntityStatement },
    anchor: TrustAnchor,
    jwts: string[],
    statements: EntityStatement[],
    seen: Set<string>,
  ): Promise<{ jwts: string[]; statements: EntityStatement[] }> {
    const hints = current.statement.authority_hints ?? [];
    if (hints.length === 0) throw new TrustChainError(`${current.statement.sub} names no authority leading to ${anchor.entityId}`);
    if (seen.size > MAX_DEPTH) throw new TrustChainError('trust chain too long');
    const failures: string[] = [];
    for (const hint of hints) {
      if (seen.has(hint)) continue;
      try {
        let superior: { jwt: string; statement: EntityStatement };
        if (hint === anchor.entityId) {
          // The anchor's configuration must be signed with the keys it was configured with, not merely its own.
          const jwt = await this.#get(wellKnown(hint));
          const claims = this.#peek(jwt);
          if (claims.iss !== hint || claims.sub !== hint) throw new TrustChainError(`entity configuration of ${hint} is not its own`);
          superior = { jwt, statement: { ...(await this.#verify(jwt, anchor.jwks)), jwks: anchor.jwks } };
        } else {
          superior = await this.fetchConfiguration(hint);
        }
        const about = await this.#fetchSubordinate(superior.statement, current.statement.sub);
        // The key that signed the entity below must be one the superior vouches for.
        await this.#verify(current.jwt, about.statement.jwks);
        const nextJwts = [...jwts, about.jwt, superior.jwt];
        const nextStatements = [...statements, about.statement, superior.statement];
        if (hint === anchor.entityId) return { jwts: nextJwts, statements: nextStatements };
        return await this.#climb(superior, anchor, nextJwts, nextStatements, new Set([...seen, hint]));
      } catch (err) {
        if (!(err instanceof TrustChainError)) throw err;
        failures.push(err.message);
      }
    }
    throw new TrustChainError(failures.length === 1 ? failures[0]! : `no chain to ${anchor.entityId}: ${failures.join('; ')}`);
  }

  #finish(subject: string, anchor: TrustAnchor, jwts: string[], all: EntityStatement[]): ResolvedChain {
    // all = [leaf EC, (sup about leaf), (sup EC), (sup2 about sup), (sup2 EC), ..., anchor EC].
    // The chain of §4.3 keeps the leaf's configuration, the subordinate statements, and the anchor's configuration.
    const statements: EntityStatement[] = [all[0]!];
    const chainJwts: string[] = [jwts[0]!];
    for (let i = 1; i < all.length - 1; i += 2) {
      statements.push(all[i]!);
      chainJwts.push(jwts[i]!);
    }
    statements.push(all[all.length - 1]!);
    chainJwts.push(jwts[jwts.length - 1]!);
    const expiresAt = Math.min(...all.map((s) => s.exp));
    const leaf = statements[0]!;
    const subordinates = statements.slice(1, -1); // subordinates[0] is the immediate superior's statement
    // Constraints: each subordinate statement constrains the chain below its subject.
    subordinates.forEach((s, i) => {
      const c = s.constraints;
      if (!c) return;
      if (c.max_path_length !== undefined && i > c.max_path_length)
        throw new TrustChainError(`${s.iss} allows at most ${c.max_path_length} intermediates below it, the chain has ${i}`);
      if (c.naming_constraints) {
        for (const below of statements.slice(0, i + 2))
          if (!namingAllows(below.sub, c.naming_constraints)) throw new TrustChainError(`${below.sub} is outside the naming constraints of ${s.iss}`);
      }
    });
    let metadata: Metadata = structuredClone((leaf.metadata ?? {}) as Metadata);
    for (const s of subordinates) {
      const allowed = s.constraints?.allowed_entity_types;
      if (allowed) for (const type of Object.keys(metadata)) if (type !== 'federation_entity' && !allowed.includes(type)) delete metadata[type];
    }
    const immediate = subordinates[0];
    // The immediate superior's `metadata` overrides the leaf's own values (§6.1.4.1 step 1).
    for (const [type, values] of Object.entries(immediate?.metadata ?? {})) metadata[type] = { ...(metadata[type] ?? {}), ...(values as Metadata[string]) };
    try {
      const crit = subordinates.flatMap((s) => s.metadata_policy_crit ?? []);
      if (crit.length > 0) throw new PolicyError('invalid_policy', `critical policy operators not supported: ${crit.join(', ')}`);
      const policy = mergePolicyChain(subordinates.map((s) => (s.metadata_policy ?? {}) as MetadataPolicy).reverse());
      metadata = applyMetadataPolicy(policy, metadata);
    } catch (err) {
      if (err instanceof PolicyError) throw new TrustChainError(`metadata policy: ${err.message}`, err.code);
      throw err;
    }
    return { subject, trustAnchor: anchor.entityId, statements, jwts: chainJwts, metadata, expiresAt };
  }
}

/**
 * A pinned peer (no anchor between two co-ops): its configuration must be signed by the key with
 * the thumbprint exchanged out of band, and that key must be in its jwks.
 */
export async function verifyPinnedPeer(resolver: TrustChainResolver, entityId: string, thumbprint: string): Promise<EntityStatement> {
  const { jwt, statement } = await resolver.fetchConfiguration(entityId);
  const prints = await thumbprints(statement.jwks);
  const pinned = statement.jwks.keys.filter((_k, i) => prints[i] === thumbprint);
  if (pinned.length === 0) throw new TrustChainError(`${entityId} does not publish the pinned key ${thumbprint}`);
  try {
    return await verifyStatement(jwt, { keys: pinned });
  } catch (err) {
    throw new TrustChainError(`${entityId}'s configuration is not signed by the pinned key: ${(err as Error).message}`);
  }
}
