// Trust marks (OpenID Federation §7) on both sides. As trust anchor: platform admins grant a
// mark type to an enrolled entity (audited); the instance names itself in `trust_mark_issuers`,
// signs the mark on request at its trust mark endpoint (§8.6) and answers for it at its status
// endpoint (§8.4). As subject: the instance fetches the marks its anchors' issuers hold for it
// and publishes them in its own entity configuration (`trust_marks`).
import { and, asc, eq, isNull } from 'drizzle-orm';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import type { Outbound } from '../net/outbound.js';
import { appendAudit } from '../audit/trail.js';
import { problems } from '../http/problem.js';
import type { EntityStatement } from '../../federation/entity-statement.js';
import { TrustChainError, type TrustChainResolver } from '../../federation/trust-chain.js';
import {
  peekTrustMark,
  signStatusResponse,
  signTrustMark,
  TRUST_MARK_CONTENT_TYPE,
  TrustMarkError,
  trustMarkIssuersSchema,
  verifyTrustMark,
  type TrustMarkStatus,
} from '../../federation/trust-mark.js';
import { federationHeldTrustMarks, federationSubordinates, federationTrustMarks, federationAnchors } from './table.js';
import { federationPublicKeys, federationSigningKey } from './keys.js';
import type { SecretBox } from '../crypto/secretbox.js';

/** What the trust mark functions need (the federation service's deps, without importing it). */
export interface FederationDeps {
  db: Db;
  box: SecretBox;
  publicUrl: string;
}

const actorId = (actor: Principal) => (actor.via === 'local' || actor.machine ? null : actor.accountId);
const normalise = (id: string) => id.replace(/\/+$/, '');
const inForce = (type: string, subject: string) => and(eq(federationTrustMarks.trustMarkType, type), eq(federationTrustMarks.subject, subject), isNull(federationTrustMarks.revokedAt));

type GrantRow = typeof federationTrustMarks.$inferSelect;
const grantView = (r: GrantRow, now = Date.now()) => ({
  id: r.id,
  entityId: r.subject,
  trustMarkType: r.trustMarkType,
  status: (r.revokedAt ? 'revoked' : r.expiresAt && r.expiresAt.getTime() <= now ? 'expired' : 'active') as 'active' | 'expired' | 'revoked',
  grantedAt: r.grantedAt.toISOString(),
  expiresAt: r.expiresAt?.toISOString() ?? null,
  revokedAt: r.revokedAt?.toISOString() ?? null,
});

export interface GrantInput {
  entityId: string;
  trustMarkType: string;
  expiresAt?: Date;
}

/** Grants a mark type to an enrolled entity; granting again replaces the expiry of the grant in force. */
export async function grantTrustMark(d: FederationDeps, actor: Principal, input: GrantInput) {
  const subject = normalise(input.entityId);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw problems.badRequest('expiresAt must be in the future');
  return d.db.transaction(async (tx) => {
    const [enrolled] = await tx.select({ id: federationSubordinates.entityId }).from(federationSubordinates).where(eq(federationSubordinates.entityId, subject));
    if (!enrolled) throw problems.badRequest(`${subject} is not enrolled here: only enrolled entities are given trust marks`);
    const [before] = await tx.select().from(federationTrustMarks).where(inForce(input.trustMarkType, subject));
    const [row] = before
      ? await tx.update(federationTrustMarks).set({ expiresAt: input.expiresAt ?? null }).where(eq(federationTrustMarks.id, before.id)).returning()
      : await tx.insert(federationTrustMarks).values({ trustMarkType: input.trustMarkType, subject, expiresAt: input.expiresAt ?? null, grantedBy: actorId(actor) }).returning();
    await appendAudit(tx, {
      actor,
      action: 'federation.trust_mark.grant',
      subject: { type: 'federation_entity', id: subject },
      before: before ? { trustMarkType: before.trustMarkType, expiresAt: before.expiresAt?.toISOString() ?? null } : null,
      after: { trustMarkType: input.trustMarkType, expiresAt: input.expiresAt?.toISOString() ?? null, grant: row!.id },
    });
    return grantView(row!);
  });
}

/** Revokes the grant in force: the marks it backed are "revoked" at the status endpoint from now on. */
export async function revokeTrustMark(d: FederationDeps, actor: Principal, entityId: string, trustMarkType: string) {
  const subject = normalise(entityId);
  return d.db.transaction(async (tx) => {
    const [row] = await tx.update(federationTrustMarks).set({ revokedAt: new Date(), revokedBy: actorId(actor) }).where(inForce(trustMarkType, subject)).returning();
    if (!row) return undefined;
    await appendAudit(tx, {
      actor,
      action: 'federation.trust_mark.revoke',
      subject: { type: 'federation_entity', id: subject },
      before: { trustMarkType, grant: row.id },
      after: null,
    });
    return grantView(row);
  });
}

export async function listTrustMarks(db: Db) {
  const [issued, held] = await Promise.all([
    db.select().from(federationTrustMarks).orderBy(asc(federationTrustMarks.subject), asc(federationTrustMarks.trustMarkType), asc(federationTrustMarks.grantedAt)),
    db.select().from(federationHeldTrustMarks).orderBy(asc(federationHeldTrustMarks.trustMarkType)),
  ]);
  return {
    issued: issued.map((r) => grantView(r)),
    held: held.map((h) => ({ trustMarkType: h.trustMarkType, issuer: h.issuer, expiresAt: h.expiresAt?.toISOString() ?? null, fetchedAt: h.fetchedAt.toISOString() })),
  };
}

/** §8.6: the mark for `sub`, signed now, if a grant of that type is in force; undefined otherwise. */
export async function issueTrustMark(d: FederationDeps, trustMarkType: string, sub: string): Promise<string | undefined> {
  const [row] = await d.db.select().from(federationTrustMarks).where(inForce(trustMarkType, normalise(sub)));
  if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
  const exp = row.expiresAt ? Math.floor(row.expiresAt.getTime() / 1000) : undefined;
  return signTrustMark({ iss: d.publicUrl, sub: row.subject, trust_mark_type: row.trustMarkType, exp, jti: row.id }, await federationSigningKey(d.db, d.box));
}

/** §8.5: the entities holding a mark of this type in force. */
export async function trustMarkedEntities(db: Db, trustMarkType: string, sub?: string): Promise<string[]> {
  const rows = await db.select().from(federationTrustMarks).where(isNull(federationTrustMarks.revokedAt)).orderBy(asc(federationTrustMarks.subject));
  const now = Date.now();
  return rows.filter((r) => r.trustMarkType === trustMarkType && (!sub || r.subject === normalise(sub)) && !(r.expiresAt && r.expiresAt.getTime() <= now)).map((r) => r.subject);
}

/**
 * §8.4: the status of a mark this instance issued, as a signed response; undefined when it is no
 * mark of ours (the endpoint answers 404). Checked with every federation key still published, so
 * a mark signed before a key rotation is still answered for.
 */
export async function trustMarkStatus(d: FederationDeps, jwt: string): Promise<string | undefined> {
  let claims;
  try {
    claims = peekTrustMark(jwt);
  } catch {
    return undefined;
  }
  if (claims.iss !== d.publicUrl || typeof claims.jti !== 'string' || !/^[0-9a-f-]{36}$/.test(claims.jti)) return undefined;
  const [row] = await d.db.select().from(federationTrustMarks).where(eq(federationTrustMarks.id, claims.jti));
  if (!row || row.subject !== claims.sub || row.trustMarkType !== claims.trust_mark_type) return undefined;
  let status: TrustMarkStatus;
  try {
    // Our own signature, checked as any resolver would (the anchor accepts itself as issuer of its types).
    await verifyTrustMark(
      { trust_mark_type: claims.trust_mark_type, trust_mark: jwt },
      { subject: claims.sub, trustMarkIssuers: { [claims.trust_mark_type]: [d.publicUrl] }, issuer: async () => ({ jwks: { keys: await federationPublicKeys(d.db) } }), now: Date.now() },
    );
    status = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
  } catch (err) {
    if (!(err instanceof TrustMarkError)) throw err;
    status = row.revokedAt ? 'revoked' : err.message === 'expired' ? 'expired' : 'invalid';
  }
  return signStatusResponse(d.publicUrl, jwt, status, await federationSigningKey(d.db, d.box));
}

/**
 * What the entity configuration says about marks: as anchor, itself as issuer of every type it
 * has granted (revoked grants too, so their marks are dropped as revoked, not as unknown); as
 * subject, the unexpired marks it holds.
 */
export async function trustMarkClaims(d: Pick<FederationDeps, 'db' | 'publicUrl'>): Promise<Record<string, unknown>> {
  const [types, held] = await Promise.all([
    d.db.selectDistinct({ type: federationTrustMarks.trustMarkType }).from(federationTrustMarks).orderBy(asc(federationTrustMarks.trustMarkType)),
    d.db.select().from(federationHeldTrustMarks).orderBy(asc(federationHeldTrustMarks.trustMarkType), asc(federationHeldTrustMarks.issuer)),
  ]);
  const now = Date.now();
  const marks = held.filter((h) => !h.expiresAt || h.expiresAt.getTime() > now).map((h) => ({ trust_mark_type: h.trustMarkType, trust_mark: h.jwt }));
  return {
    ...(types.length > 0 ? { trust_mark_issuers: Object.fromEntries(types.map((t) => [t.type, [d.publicUrl]])) } : {}),
    ...(marks.length > 0 ? { trust_marks: marks } : {}),
  };
}

type HeldRow = Pick<typeof federationHeldTrustMarks.$inferSelect, 'trustMarkType' | 'issuer' | 'jwt' | 'expiresAt'>;
/** A held mark as the audit log names it: type, issuer, expiry, the issuer's signing key and its id for the mark (jti, if any). */
const described = (h: HeldRow) =>
  `${h.trustMarkType} ${h.issuer} until ${h.expiresAt?.toISOString() ?? 'never'} key ${String(decodeProtectedHeader(h.jwt).kid)} id ${String(decodeJwt(h.jwt).jti ?? '-')}`;

interface Fetched {
  trustMarkType: string;
  issuer: string;
  jwt?: string;
  expiresAt?: Date | null;
  /** Why nothing could be learnt from this issuer (what was held is kept). */
  failure?: string;
}

/** Asks `issuer` for its mark of `type` about `self`: a mark, none (404), or a failure. */
async function askIssuer(outbound: Pick<Outbound, 'fetch'>, issuer: { id: string; statement: EntityStatement }, type: string, self: string): Promise<Fetched> {
  const base = { trustMarkType: type, issuer: issuer.id };
  const endpoint = issuer.statement.metadata?.federation_entity?.federation_trust_mark_endpoint;
  if (typeof endpoint !== 'string') return { ...base, failure: `${issuer.id} publishes no federation_trust_mark_endpoint` };
  const url = new URL(endpoint);
  url.searchParams.set('trust_mark_type', type);
  url.searchParams.set('sub', self);
  let res: Response;
  try {
    res = await outbound.fetch(url.toString(), { headers: { accept: TRUST_MARK_CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    return { ...base, failure: `could not reach ${url.origin}${url.pathname}: ${(err as Error).message}` };
  }
  const body = (await res.text()).trim();
  if (res.status === 404) return base; // not (or no longer) granted
  if (!res.ok) return { ...base, failure: `${url.origin}${url.pathname} answered ${res.status}` };
  try {
    // The mark must be one a resolver would accept from this issuer: checked before it is published.
    const mark = await verifyTrustMark(
      { trust_mark_type: type, trust_mark: body },
      { subject: self, trustMarkIssuers: { [type]: [issuer.id] }, issuer: async () => ({ jwks: issuer.statement.jwks }), now: Date.now() },
    );
    return { ...base, jwt: body, expiresAt: mark.exp ? new Date(mark.exp * 1000) : null };
  } catch (err) {
    if (err instanceof TrustMarkError) return { ...base, failure: `answered a mark this instance would not accept: ${err.message}` };
    throw err;
  }
}

/**
 * Fetches the marks this instance holds from the issuers its anchors accept (trust_mark_issuers
 * of each anchor's configuration, checked with the anchor's configured keys): stores those
 * granted, drops those no longer granted, keeps what it held where an issuer could not answer.
 */
export async function refreshHeldTrustMarks(d: FederationDeps, resolver: TrustChainResolver, outbound: Pick<Outbound, 'fetch'>, actor: Principal) {
  const self = d.publicUrl;
  const anchors = await d.db.select().from(federationAnchors).orderBy(asc(federationAnchors.entityId));
  const results: Fetched[] = [];
  for (const a of anchors) {
    if (a.entityId === self) continue;
    let anchorEc: EntityStatement;
    try {
      anchorEc = (await resolver.anchorConfiguration({ entityId: a.entityId, jwks: a.jwks })).statement;
    } catch (err) {
      if (!(err instanceof TrustChainError)) throw err;
      results.push({ trustMarkType: '*', issuer: a.entityId, failure: err.message });
      continue;
    }
    const parsed = trustMarkIssuersSchema.safeParse((anchorEc as Record<string, unknown>).trust_mark_issuers ?? {});
    if (!parsed.success) {
      results.push({ trustMarkType: '*', issuer: a.entityId, failure: 'its trust_mark_issuers is malformed' });
      continue;
    }
    for (const [type, issuers] of Object.entries(parsed.data)) {
      for (const iss of issuers) {
        if (iss === self) continue;
        let statement = anchorEc;
        if (iss !== a.entityId) {
          try {
            statement = (await resolver.fetchConfiguration(iss)).statement;
          } catch (err) {
            if (!(err instanceof TrustChainError)) throw err;
            results.push({ trustMarkType: type, issuer: iss, failure: err.message });
            continue;
          }
        }
        results.push(await askIssuer(outbound, { id: iss, statement }, type, self));
      }
    }
  }
  return d.db.transaction(async (tx) => {
    const before = await tx.select().from(federationHeldTrustMarks);
    const key = (r: { trustMarkType: string; issuer: string }) => `${r.trustMarkType} ${r.issuer}`;
    const answered = results.filter((r) => !r.failure);
    const anchorSilent = results.some((r) => r.trustMarkType === '*');
    for (const h of before) {
      const r = results.find((x) => key(x) === key(h));
      // Kept: what an issuer could not answer for, and (while an anchor did not answer) what no anchor named.
      if (r ? r.failure || r.jwt : anchorSilent) continue;
      await tx.delete(federationHeldTrustMarks).where(and(eq(federationHeldTrustMarks.trustMarkType, h.trustMarkType), eq(federationHeldTrustMarks.issuer, h.issuer)));
    }
    for (const r of answered.filter((x) => x.jwt)) {
      const row = { trustMarkType: r.trustMarkType, issuer: r.issuer, jwt: r.jwt!, expiresAt: r.expiresAt ?? null, fetchedAt: new Date() };
      // The mark held is kept while it says the same (same expiry, same signing key): a refresh that learns nothing changes nothing.
      const held = before.find((h) => key(h) === key(r));
      if (held && described(held) === described(row)) continue;
      await tx.insert(federationHeldTrustMarks).values(row).onConflictDoUpdate({ target: [federationHeldTrustMarks.trustMarkType, federationHeldTrustMarks.issuer], set: row });
    }
    const after = await tx.select().from(federationHeldTrustMarks).orderBy(asc(federationHeldTrustMarks.trustMarkType), asc(federationHeldTrustMarks.issuer));
    const names = (rows: Array<HeldRow>) => rows.map(described).sort();
    if (JSON.stringify(names(before)) !== JSON.stringify(names(after))) {
      await appendAudit(tx, {
        actor,
        action: 'federation.trust_marks.refresh',
        subject: { type: 'federation_entity', id: self },
        before: { held: names(before) },
        after: { held: names(after) },
      });
    }
    return {
      held: after.map((h) => ({ trustMarkType: h.trustMarkType, issuer: h.issuer, expiresAt: h.expiresAt?.toISOString() ?? null })),
      failures: results.filter((r) => r.failure).map((r) => ({ trustMarkType: r.trustMarkType, issuer: r.issuer, reason: r.failure! })),
    };
  });
}
