// The instance's side of OpenID Federation: the facts it publishes about itself, the statements
// it issues about enrolled instances, and the anchors and pinned peers it trusts. Every change is
// a platform admin's, audited in the same transaction.
import { asc, eq } from 'drizzle-orm';
import { calculateJwkThumbprint } from 'jose';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { activeLogKeyRow } from '../audit/log-keys.js';
import { coops } from '../coops/table.js';
import { clusters } from '../clusters/table.js';
import { problems } from '../http/problem.js';
import { signStatement, type Constraints, type Jwks } from '../../federation/entity-statement.js';
import { entityConfigurationClaims, subordinateStatementClaims } from '../../federation/entity-configuration.js';
import { checkEntityTypePolicy, PolicyError, type MetadataPolicy } from '../../federation/metadata-policy.js';
import { TrustChainError, TrustChainResolver, verifyPinnedPeer, type ResolvedChain } from '../../federation/trust-chain.js';
import { federationAnchors, federationPeers, federationSubordinates } from './table.js';
import { federationPublicKeys, federationSigningKey, rotateFederationKey, STATEMENT_LIFETIME_S } from './keys.js';
import { trustMarkClaims } from './trust-marks.js';
import { witnessKey } from './witness-key.js';
import { stopPeerWitnessing, syncPeerWitnessing } from './peer-witnessing.js';

export interface FederationDeps {
  db: Db;
  box: SecretBox;
  publicUrl: string;
  /** Lifetime of the subordinate statements issued as anchor (FEDERATION_STATEMENT_LIFETIME). */
  statementLifetimeS?: number;
}

/** How long the entity configuration (and, unless configured, subordinate statements) are valid. */
export const CONFIGURATION_LIFETIME_S = 3600;

export async function entityConfiguration(d: FederationDeps, openidProvider: Record<string, unknown> | undefined, openidRelyingParty?: Record<string, unknown>): Promise<string> {
  const key = await federationSigningKey(d.db, d.box);
  const witness = await witnessKey(d.db, d.box, d.publicUrl); // created on first use, in its own transaction
  const [hosted, clusterRows, logKey, anchors] = await Promise.all([
    d.db
      .select({ id: coops.id, slug: coops.slug, name: coops.name, jurisdiction: coops.jurisdiction, legalRegime: coops.legalRegime, dpfListed: coops.dpfListed, pipedaSubject: coops.pipedaSubject, contactEmail: coops.contactEmail })
      .from(coops)
      .orderBy(asc(coops.name)),
    d.db.select({ coopId: clusters.coopId, slug: clusters.slug, country: clusters.country }).from(clusters).orderBy(asc(clusters.slug)),
    activeLogKeyRow(d.db),
    d.db.select({ entityId: federationAnchors.entityId }).from(federationAnchors).orderBy(asc(federationAnchors.entityId)),
  ]);
  const claims = entityConfigurationClaims({
    entityId: d.publicUrl,
    keys: await federationPublicKeys(d.db),
    // The anchors this instance trusts are the authorities it names (a small federation's usual shape).
    authorityHints: anchors.map((a) => a.entityId).filter((a) => a !== d.publicUrl),
    organizationName: new URL(d.publicUrl).host,
    contacts: [],
    openidProvider,
    openidRelyingParty,
    meetplane: {
      coops: hosted.map((c) => ({
        slug: c.slug,
        name: c.name,
        jurisdiction: c.jurisdiction,
        legal_regime: c.legalRegime,
        dpf_listed: c.dpfListed,
        pipeda_subject: c.pipedaSubject,
        // Members told of a move to this co-op write to it here.
        contact_email: c.contactEmail,
        clusters: clusterRows.filter((r) => r.coopId === c.id).map((r) => ({ slug: r.slug, country: r.country })),
      })),
      cluster_jurisdictions: [...new Set(clusterRows.map((r) => r.country))].sort(),
      transfer_endpoint: `${d.publicUrl}/federation/transfers`,
      audit_log: { origin: logKey?.origin ?? '', verifier_key: logKey?.vkey ?? '', tiles_url: `${d.publicUrl}/api/v1/audit` },
      // Peers that pin this instance witness its log and ask this witness to cosign theirs (peer-witnessing.ts).
      witness: { add_checkpoint_url: `${d.publicUrl}/witness/add-checkpoint`, vkey: witness.vkey },
    },
  });
  // trust_mark_issuers (as anchor) and trust_marks (the marks it holds).
  return signStatement({ ...claims, ...(await trustMarkClaims(d)) }, key, CONFIGURATION_LIFETIME_S);
}

export async function subordinateStatement(d: FederationDeps, sub: string): Promise<string | undefined> {
  const [row] = await d.db.select().from(federationSubordinates).where(eq(federationSubordinates.entityId, sub));
  if (!row) return undefined;
  const claims = subordinateStatementClaims(d.publicUrl, {
    entityId: row.entityId,
    jwks: row.jwks,
    metadataPolicy: row.metadataPolicy as MetadataPolicy | null,
    constraints: row.constraints as Constraints | null,
  });
  // Instances cache a chain until its earliest exp: this lifetime bounds how long they keep trusting an unenrolled entity.
  return signStatement(claims, await federationSigningKey(d.db, d.box), Math.min(d.statementLifetimeS ?? CONFIGURATION_LIFETIME_S, STATEMENT_LIFETIME_S));
}

export async function subordinateIds(db: Db): Promise<string[]> {
  return (await db.select({ id: federationSubordinates.entityId }).from(federationSubordinates).orderBy(asc(federationSubordinates.entityId))).map((r) => r.id);
}

/** Fetches `entityId`'s configuration and checks it is signed by the key with `thumbprint`; returns that key. */
async function pinnedKey(resolver: TrustChainResolver, entityId: string, thumbprint: string) {
  try {
    const statement = await verifyPinnedPeer(resolver, entityId, thumbprint);
    for (const k of statement.jwks.keys) if ((await calculateJwkThumbprint(k)) === thumbprint) return k;
  } catch (err) {
    if (err instanceof TrustChainError) throw problems.badRequest(err.message);
    throw err;
  }
  throw problems.badRequest(`${entityId} does not publish the key ${thumbprint}`);
}

/** The account behind a change, for the row (the local operator and machine clients are no account). */
const actorId = (actor: Principal) => (actor.via === 'local' || actor.machine ? null : actor.accountId);

function normaliseEntityId(id: string): string {
  return id.replace(/\/+$/, '');
}

export interface EnrolInput {
  entityId: string;
  thumbprint: string;
  metadataPolicy?: MetadataPolicy;
  constraints?: Constraints;
}

/** Enrols a subordinate: its configuration must be signed by the key the admin names by thumbprint. */
export async function enrol(d: FederationDeps, resolver: TrustChainResolver, actor: Principal, input: EnrolInput) {
  const entityId = normaliseEntityId(input.entityId);
  try {
    for (const p of Object.values(input.metadataPolicy ?? {})) checkEntityTypePolicy(p);
  } catch (err) {
    if (err instanceof PolicyError) throw problems.badRequest(`metadata policy: ${err.message}`);
    throw err;
  }
  const key = await pinnedKey(resolver, entityId, input.thumbprint);
  const row = { entityId, jwks: { keys: [key] }, metadataPolicy: input.metadataPolicy ?? null, constraints: (input.constraints ?? null) as Record<string, unknown> | null, enrolledBy: actorId(actor) };
  return d.db.transaction(async (tx) => {
    const [before] = await tx.select().from(federationSubordinates).where(eq(federationSubordinates.entityId, entityId));
    await tx.insert(federationSubordinates).values(row).onConflictDoUpdate({ target: federationSubordinates.entityId, set: { ...row, enrolledAt: new Date() } });
    await appendAudit(tx, {
      actor,
      action: 'federation.enrol',
      subject: { type: 'federation_entity', id: entityId },
      before: before ? { thumbprint: await calculateJwkThumbprint(before.jwks.keys[0]!) } : null,
      after: { thumbprint: input.thumbprint, metadataPolicy: JSON.stringify(input.metadataPolicy ?? {}), constraints: JSON.stringify(input.constraints ?? {}) },
    });
    return { entityId, thumbprint: input.thumbprint, metadataPolicy: input.metadataPolicy ?? {}, constraints: input.constraints ?? {} };
  });
}

export async function removeSubordinate(d: FederationDeps, actor: Principal, entityId: string): Promise<boolean> {
  return d.db.transaction(async (tx) => {
    const gone = await tx.delete(federationSubordinates).where(eq(federationSubordinates.entityId, normaliseEntityId(entityId))).returning();
    if (gone.length === 0) return false;
    await appendAudit(tx, { actor, action: 'federation.unenrol', subject: { type: 'federation_entity', id: gone[0]!.entityId }, before: { enrolled: true }, after: null });
    return true;
  });
}

/** Adds a trust anchor: its configuration must be signed by the key named by thumbprint, which is kept as the anchor's key. */
export async function addAnchor(d: FederationDeps, resolver: TrustChainResolver, actor: Principal, input: { entityId: string; thumbprint: string }) {
  const entityId = normaliseEntityId(input.entityId);
  const key = await pinnedKey(resolver, entityId, input.thumbprint);
  await d.db.transaction(async (tx) => {
    const row = { entityId, jwks: { keys: [key] }, addedBy: actorId(actor) };
    await tx.insert(federationAnchors).values(row).onConflictDoUpdate({ target: federationAnchors.entityId, set: { ...row, addedAt: new Date() } });
    await appendAudit(tx, { actor, action: 'federation.anchor.add', subject: { type: 'federation_entity', id: entityId }, after: { thumbprint: input.thumbprint } });
  });
  resolver.forget();
  return { entityId, thumbprint: input.thumbprint };
}

/**
 * Adds a pinned peer (no anchor): checked now, and at every resolve. Unless `witness` is false, the
 * two instances then witness each other's logs from the peer's metadata (peer-witnessing.ts).
 */
export async function addPeer(d: FederationDeps, resolver: TrustChainResolver, actor: Principal, input: { entityId: string; thumbprint: string; witness?: boolean }) {
  const entityId = normaliseEntityId(input.entityId);
  const witness = input.witness ?? true;
  await pinnedKey(resolver, entityId, input.thumbprint);
  await d.db.transaction(async (tx) => {
    const row = { entityId, thumbprint: input.thumbprint, witness, addedBy: actorId(actor) };
    await tx.insert(federationPeers).values(row).onConflictDoUpdate({ target: federationPeers.entityId, set: { ...row, addedAt: new Date() } });
    await appendAudit(tx, { actor, action: 'federation.peer.add', subject: { type: 'federation_entity', id: entityId }, after: { thumbprint: input.thumbprint, witness } });
  });
  return { entityId, thumbprint: input.thumbprint, witness, witnessing: await syncPeerWitnessing(d.db, resolver, actor, entityId) };
}

/** Unpins a peer: its chains are forgotten at once, so nothing keeps trusting it from a cache; witnessing it stops. */
export async function removePeer(d: FederationDeps, resolver: TrustChainResolver, actor: Principal, entityId: string): Promise<boolean> {
  const removed = await d.db.transaction(async (tx) => {
    const gone = await tx.delete(federationPeers).where(eq(federationPeers.entityId, normaliseEntityId(entityId))).returning();
    if (gone.length === 0) return false;
    await appendAudit(tx, { actor, action: 'federation.peer.remove', subject: { type: 'federation_entity', id: gone[0]!.entityId }, before: { thumbprint: gone[0]!.thumbprint }, after: null });
    await stopPeerWitnessing(tx, actor, gone[0]!.entityId);
    return true;
  });
  resolver.forget();
  return removed;
}

export async function listTrust(d: FederationDeps) {
  const db = d.db;
  const own = await federationSigningKey(d.db, d.box);
  const { d: _private, ...ownPublic } = own;
  const [anchors, peers, subordinates] = await Promise.all([
    db.select().from(federationAnchors).orderBy(asc(federationAnchors.entityId)),
    db.select().from(federationPeers).orderBy(asc(federationPeers.entityId)),
    db.select().from(federationSubordinates).orderBy(asc(federationSubordinates.entityId)),
  ]);
  return {
    // What another instance's admin needs to enrol, anchor or pin this one.
    self: { entityId: d.publicUrl, thumbprint: await calculateJwkThumbprint(ownPublic) },
    anchors: await Promise.all(anchors.map(async (a) => ({ entityId: a.entityId, thumbprint: await calculateJwkThumbprint(a.jwks.keys[0]!), addedAt: a.addedAt.toISOString() }))),
    peers: peers.map((p) => ({ entityId: p.entityId, thumbprint: p.thumbprint, witness: p.witness, addedAt: p.addedAt.toISOString() })),
    subordinates: await Promise.all(
      subordinates.map(async (s) => ({ entityId: s.entityId, thumbprint: await calculateJwkThumbprint(s.jwks.keys[0]!), metadataPolicy: s.metadataPolicy ?? {}, constraints: s.constraints ?? {}, enrolledAt: s.enrolledAt.toISOString() })),
    ),
  };
}

export type Resolution =
  | { kind: 'chain'; chain: ResolvedChain }
  | { kind: 'pinned'; subject: string; thumbprint: string; metadata: Record<string, unknown>; expiresAt: number; jwks: Jwks };

/**
 * The federation keys a resolution vouches for: those the immediate superior's statement names for the
 * subject (a chain), or those of a configuration signed by the pinned key.
 */
export const resolvedKeys = (r: Resolution): Jwks => (r.kind === 'pinned' ? r.jwks : (r.chain.statements[1] ?? r.chain.statements[0]!).jwks);

/** The metadata a resolution yields: the chain's, with the anchors' policies applied, or the pinned peer's own. */
export const resolvedMetadata = (r: Resolution): Record<string, unknown> => (r.kind === 'chain' ? r.chain.metadata : r.metadata);

/**
 * Resolves `sub` to `trustAnchor` (or to each configured anchor in turn), or checks it as a pinned
 * peer. Refusals are TrustChainErrors naming what failed.
 */
export async function resolveEntity(db: Db, resolver: TrustChainResolver, sub: string, trustAnchor?: string): Promise<Resolution> {
  const subject = normaliseEntityId(sub);
  const anchors = await db.select().from(federationAnchors).orderBy(asc(federationAnchors.entityId));
  const candidates = trustAnchor ? anchors.filter((a) => a.entityId === normaliseEntityId(trustAnchor)) : anchors;
  if (trustAnchor && candidates.length === 0) throw new TrustChainError(`${trustAnchor} is not a trust anchor of this instance`, 'invalid_trust_anchor');
  const failures: Array<{ anchor: string; err: TrustChainError }> = [];
  for (const a of candidates) {
    try {
      return { kind: 'chain', chain: await resolver.resolve(subject, { entityId: a.entityId, jwks: a.jwks }) };
    } catch (err) {
      if (!(err instanceof TrustChainError)) throw err;
      failures.push({ anchor: a.entityId, err });
    }
  }
  // A peer pinned as well is trusted by its pin when no anchor vouches for it (or none answers).
  if (!trustAnchor) {
    const [peer] = await db.select().from(federationPeers).where(eq(federationPeers.entityId, subject));
    if (peer) {
      const statement = await verifyPinnedPeer(resolver, subject, peer.thumbprint);
      return { kind: 'pinned', subject, thumbprint: peer.thumbprint, metadata: statement.metadata ?? {}, expiresAt: statement.exp, jwks: statement.jwks };
    }
  }
  if (failures.length === 1) throw failures[0]!.err;
  throw new TrustChainError(failures.length > 0 ? failures.map((f) => `${f.anchor}: ${f.err.message}`).join('; ') : `${subject} is neither reachable from a trust anchor nor a pinned peer`);
}

/**
 * Rotates the federation key. The retired key stays published for a statement lifetime, but
 * superiors vouch only for the keys they enrolled: each anchor must enrol the new thumbprint.
 */
export async function rotateKey(d: FederationDeps, actor: Principal): Promise<{ thumbprint: string; retired: string[] }> {
  await federationSigningKey(d.db, d.box); // a key to retire, on an instance that never signed
  const { added, retired } = await rotateFederationKey(d.db, d.box);
  const key = await federationSigningKey(d.db, d.box);
  const { d: _private, ...pub } = key;
  const thumbprint = await calculateJwkThumbprint(pub);
  await d.db.transaction((tx) => appendAudit(tx, { actor, action: 'federation.key.rotate', subject: { type: 'federation_key', id: added }, before: { retired: retired.join(',') }, after: { thumbprint } }));
  return { thumbprint, retired };
}
