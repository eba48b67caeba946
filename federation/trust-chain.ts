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
import { TrustMarkError, unexpired, verifyStatusResponse, verifyTrustMarks, type TrustMarkIssuer, type TrustMarkReport } from './trust-mark.js';

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
  /**
   * The subject's trust marks (§7.3) checked against the anchor's trust_mark_issuers and each
   * issuer's keys when the chain was resolved; their status is asked by checkTrustMarks.
   */
  trustMarks: TrustMarkReport;
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
/** Trust mark issuers other than the anchor and the subject are resolved too, but not their issuers' issuers. */
const MAX_ISSUER_DEPTH = 1;
/** Status answers remembered at most (the map is emptied when full: a cache, not a record). */
const MAX_STATUSES = 1000;

const statusEndpointOf = (s: { metadata?: Record<string, Record<string, unknown>> }) => {
  const e = s.metadata?.federation_entity?.federation_trust_mark_status_endpoint;
  return typeof e === 'string' ? e : undefined;
};

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
  /** Trust mark status answers by endpoint and mark, with when they were learnt. */
  readonly #statuses = new Map<string, { status?: string; failure?: string; at: number }>();
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
    return this.#resolve(subject, anchor, 0);
  }

  async #resolve(subject: string, anchor: TrustAnchor, depth: number): Promise<ResolvedChain> {
    // Keyed by the anchor's keys too: they come from the database on every resolve, so an anchor
    // configured anew with another key (on any process) is never answered from an old chain.
    const key = `${subject} ${anchor.entityId} ${JSON.stringify(anchor.jwks)}${depth > 0 ? ' as issuer' : ''}`;
    const cached = this.#cache.get(key);
    if (cached && cached.expiresAt * 1000 > this.#now()) return cached;
    this.#cache.delete(key);
    const leaf = await this.fetchConfiguration(subject);
    const path = await this.#climb(leaf, anchor, [leaf.jwt], [leaf.statement], new Set([subject]));
    const chain = this.#finish(subject, anchor, path.jwts, path.statements);
    chain.trustMarks = await this.#trustMarks(chain, anchor, depth);
    this.#cache.set(key, chain);
    return chain;
  }

  /** The anchor's configuration, checked with the keys it was configured with (not merely its own). */
  async anchorConfiguration(anchor: TrustAnchor): Promise<{ jwt: string; statement: EntityStatement }> {
    const jwt = await this.#get(wellKnown(anchor.entityId));
    const claims = this.#peek(jwt);
    if (claims.iss !== anchor.entityId || claims.sub !== anchor.entityId) throw new TrustChainError(`entity configuration of ${anchor.entityId} is not its own`);
    return { jwt, statement: { ...(await this.#verify(jwt, anchor.jwks)), jwks: anchor.jwks } };
  }

  /** §7.3 for the subject's marks: the anchor names the issuers, each issuer's keys come from a chain to the same anchor. */
  async #trustMarks(chain: ResolvedChain, anchor: TrustAnchor, depth: number): Promise<TrustMarkReport> {
    const leaf = chain.statements[0]!;
    const top = chain.statements[chain.statements.length - 1]!;
    const issuer = async (iss: string): Promise<TrustMarkIssuer> => {
      if (iss === anchor.entityId) return { jwks: anchor.jwks, statusEndpoint: statusEndpointOf(top) };
      if (iss === chain.subject) return { jwks: leaf.jwks, statusEndpoint: statusEndpointOf(leaf) }; // self-issued, where the anchor allows anyone
      if (depth >= MAX_ISSUER_DEPTH) throw new TrustChainError('an issuer of an issuer is not followed');
      const issuerChain = await this.#resolve(iss, anchor, depth + 1);
      return { jwks: issuerChain.statements[0]!.jwks, statusEndpoint: statusEndpointOf(issuerChain.statements[0]!) };
    };
    const field = (s: EntityStatement, name: string) => (s as Record<string, unknown>)[name];
    return verifyTrustMarks(field(leaf, 'trust_marks'), {
      subject: chain.subject,
      trustMarkIssuers: field(top, 'trust_mark_issuers'),
      trustMarkOwners: field(top, 'trust_mark_owners'),
      issuer,
      now: this.#now(),
    });
  }

  /**
   * The chain's trust marks as they stand now: expired ones dropped, and each one whose issuer
   * publishes a status endpoint asked there (§8.4). A mark whose status cannot be learnt is
   * dropped: a fact the data-protection rules rely on is not assumed.
   */
  async checkTrustMarks(chain: ResolvedChain, opts: { statusMaxAgeMs?: number } = {}): Promise<TrustMarkReport> {
    const now = this.#now();
    const { valid, dropped } = unexpired(chain.trustMarks, now);
    const kept = [];
    for (const m of valid) {
      if (!m.statusEndpoint) {
        kept.push(m);
        continue;
      }
      const answer = await this.#cachedStatus(m.statusEndpoint, m, now, opts.statusMaxAgeMs ?? 0);
      if (answer.status === 'active') kept.push(m);
      else if (answer.status) dropped.push({ trust_mark_type: m.trust_mark_type, iss: m.iss, reason: `its issuer's status endpoint says ${answer.status}` });
      else dropped.push({ trust_mark_type: m.trust_mark_type, iss: m.iss, reason: `its status could not be checked: ${answer.failure}` });
    }
    return { valid: kept, dropped };
  }

  /**
   * The issuer's answer, reused for `maxAgeMs` (0: always asked). Failures are reused too: what
   * unauthenticated callers can make this instance ask is bounded by the age, not by their rate.
   */
  async #cachedStatus(endpoint: string, mark: TrustMarkReport['valid'][number], now: number, maxAgeMs: number): Promise<{ status?: string; failure?: string }> {
    const key = `${endpoint} ${mark.jwt}`;
    const cached = this.#statuses.get(key);
    if (maxAgeMs > 0 && cached && now - cached.at < maxAgeMs) return cached;
    let answer: { status?: string; failure?: string };
    try {
      answer = { status: await this.#status(endpoint, mark, now) };
    } catch (err) {
      if (!(err instanceof TrustMarkError || err instanceof TrustChainError)) throw err;
      answer = { failure: err.message };
    }
    if (this.#statuses.size >= MAX_STATUSES) this.#statuses.clear();
    this.#statuses.set(key, { ...answer, at: now });
    return answer;
  }

  async #status(endpoint: string, mark: TrustMarkReport['valid'][number], now: number): Promise<string> {
    const where = `${new URL(endpoint).origin}${new URL(endpoint).pathname}`;
    let res: Response;
    try {
      res = await this.#fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/trust-mark-status-response+jwt' },
        body: new URLSearchParams({ trust_mark: mark.jwt }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new TrustChainError(`could not reach ${where}: ${(err as Error).message}`);
    }
    const body = (await res.text()).trim();
    if (res.status === 404) throw new TrustChainError(`${where} does not know this mark`);
    if (!res.ok) throw new TrustChainError(`${where} answered ${res.status}`);
    return verifyStatusResponse(body, mark, now);
  }

  /** Forgets cached chains: all (an anchor changed, a peer unpinned), or those of one subject (resolve it afresh). */
  forget(subject?: string): void {
    if (subject === undefined) return this.#cache.clear();
    for (const key of this.#cache.keys()) if (key.startsWith(`${subject} `)) this.#cache.delete(key);
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
          superior = await this.anchorConfiguration(anchor);
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
    return { subject, trustAnchor: anchor.entityId, statements, jwts: chainJwts, metadata, expiresAt, trustMarks: { valid: [], dropped: [] } };
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
