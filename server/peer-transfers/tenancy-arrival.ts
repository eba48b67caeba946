// At the target, once every file of a transfer's package is here and matches: the tenancy itself.
// Its content (tenancy-content.ts at the source) is fetched with the capability and checked against
// the manifest's tenancy_sha256; then one transaction creates the tenancy with the source's id (its
// recordings' meta tag names it, the gateway filters on it) and secret (front ends keep it), frozen
// until the source switched, in the accepting co-op on the accepted cluster; its rooms; its
// recordings; its members: an account here with the member's address gets the membership, anyone
// else a new account and a mailed link to set its password. The peer row names the tenancy in the
// same transaction, so a run after a crash finds it created and goes on. The recordings' playback
// URLs name this cluster's playback host instead of the source's (as their metadata.xml, relink.ts).
import { eq, inArray } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { FEDERATION_ACTOR } from '../federation/peer-witnessing.js';
import { findTenancy, secretLabel, type Tenancy } from '../tenancies/service.js';
import { tenancies } from '../tenancies/table.js';
import { recordings, rooms } from '../inventory/table.js';
import { accounts, memberships } from '../accounts/table.js';
import { writeMembership } from '../accounts/service.js';
import { insertInvitation } from '../accounts/credentials.js';
import { enqueueMail } from '../mail/outbox.js';
import { coops } from '../coops/table.js';
import { OIDC_PREFIX } from '../oidc/provider.js';
import { chooseLanguage } from '../web/i18n.js';
import type { Cluster } from '../clusters/service.js';
import { playbackHostsRewriter } from '../transfers/playback-links.js';
import { sha256Hex, type Manifest } from '../../federation/transfer-messages.js';
import { tenancyContentSchema, type TenancyContent } from '../../federation/tenancy-content.js';
import { arrivalMailText } from './arrival-mail.js';
import { PackageMismatch, type CapabilityHolder, type packageUrls } from './package-client.js';
import { peerTransfers } from './table.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/** How long a new member's link to set a password stays valid (as INVITATION_TTL's default). */
export const ARRIVAL_LINK_TTL_S = 7 * 86_400;
const CHUNK = 500;

/** The BBB API of a tenancy at an instance: what its front ends are configured with. */
export const gatewayUrlOf = (publicUrl: string, slug: string) => `${publicUrl}/t/${slug}/bigbluebutton/api`;

/**
 * The tenancy of a transfer whose files are all here: created from the source's content (asked for
 * only then: `content`, fetchContent's) on the first run, found on later ones. Null when the
 * transfer is no longer being pulled (withdrawn meanwhile): nothing is created then. A content that is not the one the manifest names, or that
 * cannot be hosted here as it is (its id or a meeting id already taken), is a PackageMismatch.
 */
export async function establishTenancy(
  d: PeerTransferDeps,
  row: PeerTransfer,
  content: () => Promise<TenancyContent>,
  cluster: Cluster,
): Promise<Tenancy | null> {
  const [current] = await d.db.select({ tenancyId: peerTransfers.tenancyId }).from(peerTransfers).where(eq(peerTransfers.id, row.id));
  if (current?.tenancyId) return (await findTenancy(d.db, current.tenancyId))!;
  const checked = await content();
  return d.db.transaction(async (tx) => {
    const [locked] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, row.id)).for('update');
    if (locked?.state !== 'pulling') return null;
    // Another run created it meanwhile.
    if (locked.tenancyId) return (await findTenancy(tx, locked.tenancyId))!;
    return createTenancy(d, tx, locked, checked, cluster);
  });
}

/** The source's content of the tenancy, checked against the manifest's tenancy_sha256. */
export async function fetchContent(caps: CapabilityHolder, urls: ReturnType<typeof packageUrls>, manifest: Manifest, transferId: string): Promise<TenancyContent> {
  const url = urls.tenancy;
  const res = await caps.get(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`the source answered ${res.status} for the tenancy's content`);
  if (sha256Hex(text) !== manifest.tenancy_sha256) throw new PackageMismatch("the tenancy's content served is not the one the manifest names (SHA-256 differs)");
  let parsed;
  try {
    parsed = tenancyContentSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success || parsed.data.transfer_id !== transferId) throw new PackageMismatch("the tenancy's content is malformed or for another transfer");
  return parsed.data;
}

const chunks = <T>(xs: T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));
const date = (s: string | null) => (s ? new Date(s) : null);

/** The slug if no tenancy here has it, else the first free `<slug>-2`, `<slug>-3`, ... (at most 63 characters). */
async function freeSlug(tx: Tx, slug: string): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const candidate = `${slug.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
    const [taken] = await tx.select({ id: tenancies.id }).from(tenancies).where(eq(tenancies.slug, candidate)).limit(1);
    if (!taken) return candidate;
  }
  throw new PackageMismatch(`no free slug like "${slug}" here`);
}

async function createTenancy(d: PeerTransferDeps, tx: Tx, row: PeerTransfer, content: TenancyContent, cluster: Cluster): Promise<Tenancy> {
  const t = content.tenancy;
  const subject = { type: 'peer-transfer', id: row.id };
  const [sameId] = await tx.select({ id: tenancies.id }).from(tenancies).where(eq(tenancies.id, t.id)).limit(1);
  if (sameId) throw new PackageMismatch(`a tenancy with the id ${t.id} exists here already; the tenancy keeps its id, so it cannot be created`);
  // A meeting id belongs to one tenancy here (the gateway's rule): one already owned cannot move in.
  for (const part of chunks(content.rooms.map((r) => r.meeting_id))) {
    const owned = await tx.select({ meetingId: rooms.meetingId }).from(rooms).where(inArray(rooms.meetingId, part)).limit(1);
    if (owned.length) throw new PackageMismatch(`meeting id ${owned[0]!.meetingId} belongs to another tenancy here`);
  }
  const slug = await freeSlug(tx, t.slug);
  const [tenancy] = await tx
    .insert(tenancies)
    .values({
      id: t.id,
      slug,
      name: t.name,
      coopId: row.targetCoopId!,
      clusterId: cluster.id,
      residency: t.residency,
      retentionDays: t.retention_days,
      language: t.language,
      state: 'frozen',
      bbbSecretSealed: d.box.seal(t.bbb_secret, secretLabel(t.id)),
    })
    .returning({ id: tenancies.id });
  await appendAudit(tx, {
    actor: FEDERATION_ACTOR,
    action: 'tenancy.create',
    subject: { type: 'tenancy', id: tenancy!.id },
    after: { slug, name: t.name, coop: row.targetCoopId, cluster: cluster.id, residency: t.residency, retentionDays: t.retention_days, language: t.language, state: 'frozen' },
    details: { transfer: row.id, peer: row.peer, ...(slug !== t.slug ? { slugAtSource: t.slug } : {}) },
  });
  const now = new Date();
  const relink = playbackHostsRewriter(content.playback_hosts, cluster);
  // None of its meetings runs here yet: each is created on the tenancy's cluster when next started.
  for (const part of chunks(content.rooms))
    await tx.insert(rooms).values(
      part.map((r) => ({ id: uuidv7(), tenancyId: t.id, meetingId: r.meeting_id, name: r.name, clusterId: null, recordingReadyUrl: r.recording_ready_url, endedAt: date(r.ended_at) ?? now, firstSeenAt: new Date(r.first_seen_at), lastCreatedAt: date(r.last_created_at) })),
    );
  // At the tenancy's current cluster (cluster_id null): where the files were pulled to.
  for (const part of chunks(content.recordings))
    await tx.insert(recordings).values(
      part.map((r) => ({
        id: uuidv7(),
        tenancyId: t.id,
        clusterId: null,
        recordId: r.record_id,
        meetingId: r.meeting_id,
        name: r.name,
        state: r.state,
        published: r.published,
        startTime: date(r.start_time),
        endTime: date(r.end_time),
        participants: r.participants,
        size: r.size,
        formats: r.formats.map((f) => ({ type: f.type, url: relink(f.url), length: f.length, processingTime: f.processing_time })),
        metadata: r.metadata,
      })),
    );
  const members = await addMembers(d, tx, row, content, slug);
  const [named] = await tx
    .update(peerTransfers)
    .set({ tenancyId: t.id, version: row.version + 1, updatedAt: now })
    .where(eq(peerTransfers.id, row.id))
    .returning({ id: peerTransfers.id });
  if (!named) throw new Error('the transfer disappeared while its tenancy was created');
  await appendAudit(tx, {
    actor: FEDERATION_ACTOR,
    action: 'peer-transfer.tenancy-created',
    subject,
    after: { tenancy: t.id, slug, state: 'frozen' },
    details: { peer: row.peer, rooms: content.rooms.length, recordings: content.recordings.length, ...members, ...(slug !== t.slug ? { slugAtSource: t.slug } : {}) },
  });
  return (await findTenancy(tx, t.id))!;
}

/** Each member's membership: on the account with their address, or on a new one with a link to set its password. */
async function addMembers(d: PeerTransferDeps, tx: Tx, row: PeerTransfer, content: TenancyContent, slug: string) {
  const [coop] = await tx.select({ name: coops.name }).from(coops).where(eq(coops.id, row.targetCoopId!));
  let joined = 0;
  let accountsCreated = 0;
  for (const m of content.members) {
    const email = m.email.toLowerCase();
    const [existing] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, email)).limit(1);
    if (existing) {
      await writeMembership(tx, FEDERATION_ACTOR, content.tenancy.id, existing.id, m.role, { transfer: row.id });
      joined++;
      continue;
    }
    const [account] = await tx.insert(accounts).values({ id: uuidv7(), email, name: m.name, coopId: row.targetCoopId, language: m.language }).returning();
    await appendAudit(tx, {
      actor: FEDERATION_ACTOR,
      action: 'account.create',
      subject: { type: 'account', id: person(account!.id) },
      after: { coop: account!.coopId, platformAdmin: false },
      details: { transfer: row.id, tenancy: content.tenancy.id },
    });
    await writeMembership(tx, FEDERATION_ACTOR, content.tenancy.id, account!.id, m.role, { transfer: row.id });
    const link = await insertInvitation(tx, FEDERATION_ACTOR, account!.id, ARRIVAL_LINK_TTL_S);
    const lang = chooseLanguage(undefined, m.language ?? content.tenancy.language);
    const text = arrivalMailText(lang, { name: m.name, tenancy: content.tenancy.name, coop: coop?.name ?? slug, link: `${d.publicUrl}${OIDC_PREFIX}/invitation/${link.token}`, expiresAt: link.expiresAt });
    await enqueueMail(tx, [{ to: email, topic: `peer-transfer-arrival:${row.id}`, ...text }]);
    accountsCreated++;
  }
  return { members: content.members.length, membershipsOnExistingAccounts: joined, accountsCreated };
}

/**
 * A transfer withdrawn after its tenancy was created here (a crash came between the creation and
 * `pulled`): the tenancy goes again, with its rooms, recordings and memberships, in the caller's
 * transaction. Accounts made for its members stay (they hold nothing of the tenancy).
 */
export async function removeArrivedTenancy(tx: Tx, row: PeerTransfer): Promise<boolean> {
  if (!row.tenancyId) return false;
  const id = row.tenancyId;
  await tx.update(peerTransfers).set({ tenancyId: null }).where(eq(peerTransfers.id, row.id));
  await tx.delete(memberships).where(eq(memberships.tenancyId, id));
  // Rooms, recordings and member invitations go with it (on delete cascade).
  const deleted = await tx.delete(tenancies).where(eq(tenancies.id, id)).returning({ id: tenancies.id });
  if (deleted.length) await appendAudit(tx, { actor: FEDERATION_ACTOR, action: 'tenancy.delete', subject: { type: 'tenancy', id }, before: { state: 'frozen' }, after: null, details: { transfer: row.id, reason: 'transfer withdrawn by the source' } });
  return deleted.length > 0;
}
