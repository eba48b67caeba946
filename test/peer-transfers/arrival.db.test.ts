// The tenancy itself arrives at the target of a transfer between instances: A (a UK co-op) packages a
// frozen tenancy with its content (tenancy, rooms, recordings, members who did not object, its BBB
// secret); B (a Québec co-op) pulls the files, fetches the content with its capability, checks its
// SHA-256 against the signed manifest and creates, in one transaction, the tenancy with A's id and
// secret (frozen), its rooms, recordings and members (an account B has with the address, or a new one
// with a mailed link to set its password). The recordings answer through B's gateway with A's secret.
// A content changed after packaging is refused with nothing created; a crash between the creation
// and `pulled` creates nothing twice; A's switch message makes the tenancy active at B.
// The freeze and the objections belong to the lifecycle: these tests write them in A's database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { eq, like, sql } from 'drizzle-orm';
import { startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { createCluster, createTenancy } from '../support/fixtures.js';
import { uuidv7 } from '../../server/ids.js';
import { boxOf as box, entityOf as self, peerDepsOf as deps, pinEachOther, ukAndQuebec, type Entity, type Person } from '../support/peer-pair.js';
import type { TestServer } from '../support/server.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { armFailpoint } from '../../server/failpoints.js';
import { BbbClient } from '../../server/bbb/client.js';
import { createAccount, setMembership } from '../../server/accounts/service.js';
import { findInvitation } from '../../server/accounts/credentials.js';
import { accounts, memberships } from '../../server/accounts/table.js';
import { tenancies } from '../../server/tenancies/table.js';
import { recordings, rooms } from '../../server/inventory/table.js';
import { mailOutbox } from '../../server/mail/table.js';
import { transferObjections, transfers } from '../../server/transfers/table.js';
import { peerTransfers, tenancyContentLabel } from '../../server/peer-transfers/table.js';
import { packageTransfer } from '../../server/peer-transfers/package.js';
import { deliverDueMessages } from '../../server/peer-transfers/due.js';
import { announceSwitch } from '../../server/peer-transfers/switched.js';
import { peerSteps } from '../../server/peer-transfers/steps.js';
import { findTransfer } from '../../server/transfers/service.js';
import type { PeerTransferDeps } from '../../server/peer-transfers/deps.js';

let a: TestServer, b: TestServer;
let A: Entity, B: Entity;
let bbb: BbbPair;
let uk: { id: string };
let ukCluster: { id: string };
let quebec: { id: string; slug: string };
let montreal: { id: string; slug: string };
let bAdmin: { token: string };
const agreement = createHash('sha256').update('dpa').digest('hex');
let n = 0;

const later = (s: TestServer): PeerTransferDeps => ({ ...deps(s), transfer: { ...deps(s).transfer, now: () => new Date(Date.now() + 3_600_000) } });
const rowAt = async (s: TestServer, id: string) => (await s.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, id)))[0]!;
const actions = async (s: TestServer, type: string, id: string) =>
  (await s.api('GET', `/api/v1/audit/entries?subjectType=${type}&subject=${id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action) as string[];
const tenancyAt = async (s: TestServer, id: string) => (await s.database.db.select().from(tenancies).where(eq(tenancies.id, id)))[0];
const accountAt = async (s: TestServer, email: string) => (await s.database.db.select().from(accounts).where(eq(accounts.email, email)))[0];

/** How much of the tenancy B holds: what a second creation would double. */
async function heldAtB(tenancyId: string, transferId: string) {
  const db = b.database.db;
  const count = async (q: Promise<unknown[]>) => (await q).length;
  return {
    tenancies: await count(db.select().from(tenancies).where(eq(tenancies.id, tenancyId))),
    rooms: await count(db.select().from(rooms).where(eq(rooms.tenancyId, tenancyId))),
    recordings: await count(db.select().from(recordings).where(eq(recordings.tenancyId, tenancyId))),
    memberships: await count(db.select().from(memberships).where(eq(memberships.tenancyId, tenancyId))),
    mails: await count(db.select().from(mailOutbox).where(eq(mailOutbox.topic, `peer-transfer-arrival:${transferId}`))),
  };
}

/**
 * A tenancy of A with recordings (in A's inventory, so with rooms) and members, offered to B's co-op,
 * accepted there, frozen at A; `objector` objected to the transfer (the lifecycle's record at A).
 */
async function acceptedAndFrozen(name: string, opts: { slug?: string; pastRetention?: boolean } = {}) {
  const tag = `${Date.now().toString(36)}${n++}`;
  const t = await createTenancy(a, uk.id, ukCluster.id, { name, retentionDays: 3650, language: 'fr', ...(opts.slug ? { slug: opts.slug } : {}) });
  const written = [];
  for (let i = 0; i < 2; i++)
    written.push(
      await writeRecording(bbb.dirs.source, {
        meetingId: `${t.slug}-room-${i}`,
        name: `Lesson ${i}`,
        host: bbb.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        files: { 'shapes.svg': `<svg id="${t.slug}-${i}"/>`, 'video/webcams.webm': `webm ${i}` },
      }),
    );
  // A recording of long ago: still listed by A's cluster, as one past retention may be until it is gone.
  const old = opts.pastRetention
    ? await writeRecording(bbb.dirs.source, {
        meetingId: `${t.slug}-room-0`,
        name: 'Lesson of long ago',
        host: bbb.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        startTime: Date.now() - 20 * 365 * 86_400_000,
        files: { 'shapes.svg': `<svg id="${t.slug}-old"/>`, 'video/webcams.webm': 'webm old' },
      })
    : undefined;
  const listed = old ? 3 : 2;
  expect((await a.api('POST', `/api/v1/tenancies/${t.id}/recordings/refresh`)).json).toMatchObject({ recordings: listed, added: listed });
  const people = {
    owner: `owner-${tag}@harbour.example`,
    known: `known-${tag}@harbour.example`, // has an account at B already
    member: `member-${tag}@harbour.example`,
    objector: `objector-${tag}@harbour.example`,
  };
  const ids: Record<string, string> = {};
  for (const [who, email] of Object.entries(people)) {
    const acc = await createAccount(a.database.db, LOCAL_OPERATOR, { email, name: `Person ${who}`, coopId: uk.id });
    ids[who] = acc.id;
    await setMembership(a.database.db, LOCAL_OPERATOR, t.id, acc.id, who === 'owner' ? 'owner' : who === 'known' ? 'admin' : 'member');
  }
  await a.database.db.update(accounts).set({ language: 'de' }).where(eq(accounts.id, ids.member!));
  const knownAtB = await createAccount(b.database.db, LOCAL_OPERATOR, { email: people.known, name: 'Known at B', coopId: null });
  const offered = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: agreement } });
  expect(offered.json.state, offered.text).toBe('offered');
  const id = offered.json.id as string;
  const accepted = await b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } });
  expect(accepted.status, accepted.text).toBe(200);
  // The lifecycle's transfer of the same id holds the members' objections at A.
  await a.database.db.insert(transfers).values({
    id,
    tenancyId: t.id,
    sourceCoopId: uk.id,
    sourceClusterId: ukCluster.id,
    peer: B.entityId,
    requestedBy: ids.owner!,
    evidence: { dpfListed: false, pipedaSubject: true, sccsDocuments: [], impactAssessment: null, claimedBasis: 'adequacy' },
    noticeDays: 0,
  }).onConflictDoNothing(); // made with the offer once the lifecycle runs transfers between instances
  await a.database.db.insert(transferObjections).values({ transferId: id, accountId: ids.objector!, kind: 'member' });
  await a.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${t.id}`);
  return { id, tenancy: t, written, old, people, knownAtB };
}

beforeAll(async () => {
  [a, b] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' })];
  [A, B] = [await self(a), await self(b)];
  bbb = await startBbbPair({ source: 'src-secret-19', target: 'dst-secret-19' });
  ({ uk, ukCluster, quebec, montreal, bAdmin } = await ukAndQuebec(a, b, bbb, { source: 'src-secret-19', target: 'dst-secret-19' }));
  await pinEachOther(a, b, { witness: false });
}, 120_000);

afterAll(async () => {
  armFailpoint(null);
  await bbb?.close();
  for (const s of [b, a]) await s?.stop();
});

describe('a tenancy arriving at the target', () => {
  let t: Awaited<ReturnType<typeof acceptedAndFrozen>>;

  it('is created at B with the same id, secret, rooms, recordings and members, frozen; A learns its gateway URL', async () => {
    t = await acceptedAndFrozen('Harbour School');
    const packaged = await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    expect(JSON.parse(packaged.manifest!).tenancy_sha256).toMatch(/^[0-9a-f]{64}$/);
    // The content is served only with a capability: without one, nothing of it (nor the secret) is answered.
    const bare = await fetch(`${A.entityId}/federation/transfers/${t.id}/tenancy`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).not.toContain(t.tenancy.bbbSecret);

    await deliverDueMessages(deps(b));
    const atB = await rowAt(b, t.id);
    expect(atB.state, atB.lastError ?? '').toBe('pulled');
    expect(atB.tenancyId).toBe(t.tenancy.id);
    const tenancy = (await tenancyAt(b, t.tenancy.id))!;
    expect(tenancy).toMatchObject({ id: t.tenancy.id, slug: t.tenancy.slug, name: 'Harbour School', coopId: quebec.id, clusterId: montreal.id, state: 'frozen', retentionDays: 3650, language: 'fr' });
    const roomsAtA = (await a.database.db.select().from(rooms).where(eq(rooms.tenancyId, t.tenancy.id))).map((r) => r.meetingId).sort();
    expect(roomsAtA.length).toBe(2);
    expect((await b.database.db.select().from(rooms).where(eq(rooms.tenancyId, t.tenancy.id))).map((r) => r.meetingId).sort()).toEqual(roomsAtA);
    expect((await b.database.db.select().from(recordings).where(eq(recordings.tenancyId, t.tenancy.id))).map((r) => r.recordId).sort()).toEqual(t.written.map((w) => w.recordId).sort());

    // A front end only changes its gateway URL: the same secret lists the recordings through B's gateway.
    const verifiedAtA = await rowAt(a, t.id);
    expect(verifiedAtA.state).toBe('verified');
    expect(verifiedAtA.targetGatewayUrl).toBe(`${B.entityId}/t/${t.tenancy.slug}/bigbluebutton/api`);
    const frontEnd = new BbbClient({ apiUrl: verifiedAtA.targetGatewayUrl!, secret: t.tenancy.bbbSecret, algorithm: 'sha256', retries: 0, fetch });
    const listed = await frontEnd.getRecordings();
    expect(listed.map((r) => r.recordID).sort()).toEqual(t.written.map((w) => w.recordId).sort());
    // Played from B's cluster: A deletes its copies after its grace period, so no link may name A's.
    const atBOrigin = (r: { recordID: string }) => `${bbb.target.origin}/playback/presentation/2.3/${r.recordID}`;
    for (const r of listed) expect(r.playback.map((f) => f.url)).toEqual([atBOrigin(r)]);
    const rows = await b.database.db.select().from(recordings).where(eq(recordings.tenancyId, t.tenancy.id));
    for (const r of rows) expect(r.formats.map((f) => f.url)).toEqual([atBOrigin({ recordID: r.recordId })]);
    // A's own rows keep A's links (the source still plays them until the switch).
    const rowsAtA = await a.database.db.select().from(recordings).where(eq(recordings.tenancyId, t.tenancy.id));
    for (const r of rowsAtA) expect(r.formats[0]!.url.startsWith(`${bbb.source.origin}/playback/`)).toBe(true);

    // Members: the account B had with the address keeps its id; the others are new accounts of the co-op with a link to set a password.
    const members = await b.database.db.select().from(memberships).where(eq(memberships.tenancyId, t.tenancy.id));
    const accountIds = new Map<string, string | undefined>();
    for (const email of Object.values(t.people)) accountIds.set(email, (await accountAt(b, email))?.id);
    const roleOf = (email: string) => members.find((m) => m.accountId === accountIds.get(email))?.role;
    expect(accountIds.get(t.people.known)).toBe(t.knownAtB.id);
    expect(roleOf(t.people.known)).toBe('admin');
    expect(roleOf(t.people.owner)).toBe('owner');
    expect(roleOf(t.people.member)).toBe('member');
    expect(members.length).toBe(3);
    // The member who objected is not there at all: no account, no membership.
    expect(accountIds.get(t.people.objector)).toBeUndefined();
    const mails = await b.database.db.select().from(mailOutbox).where(eq(mailOutbox.topic, `peer-transfer-arrival:${t.id}`));
    expect(mails.map((m) => m.toAddress).sort()).toEqual([t.people.member, t.people.owner].sort());
    for (const m of mails) {
      const token = /\/oidc\/invitation\/(mp_inv_[A-Za-z0-9_-]+)/.exec(m.body)?.[1];
      expect((await findInvitation(b.database.db, token!))?.accountId).toBe(accountIds.get(m.toAddress));
      expect((await accountAt(b, m.toAddress))!.coopId).toBe(quebec.id);
    }
    // In the member's language (German), else the tenancy's (French).
    expect(mails.find((m) => m.toAddress === t.people.member)!.subject).toMatch(/zieht zu Coop Érable um/);
    expect(mails.find((m) => m.toAddress === t.people.owner)!.subject).toMatch(/passe chez Coop Érable/);
    expect(await actions(b, 'peer-transfer', t.id)).toEqual(expect.arrayContaining(['peer-transfer.tenancy-created', 'peer-transfer.pulled']));
    expect(await actions(b, 'tenancy', t.tenancy.id)).toEqual(expect.arrayContaining(['tenancy.create', 'membership.create']));
  });

  it("becomes active at B when A announces its switch, and the transfer is complete on both sides", async () => {
    const switched = await announceSwitch(deps(a), await rowAt(a, t.id));
    expect(switched).toMatchObject({ state: 'switched', nextAttemptAt: null, lastError: null });
    expect(await rowAt(b, t.id)).toMatchObject({ state: 'completed', nextAttemptAt: null });
    expect((await tenancyAt(b, t.tenancy.id))!.state).toBe('active');
    expect(await actions(b, 'peer-transfer', t.id)).toContain('peer-transfer.switched');
    expect(await actions(a, 'peer-transfer', t.id)).toContain('peer-transfer.switch');
    // Announced again (a retry): nothing changes.
    expect((await announceSwitch(deps(a), await rowAt(a, t.id))).state).toBe('switched');
    expect((await rowAt(b, t.id)).state).toBe('completed');
    // Now a front end can start a meeting there with the same secret.
    const frontEnd = new BbbClient({ apiUrl: (await rowAt(a, t.id)).targetGatewayUrl!, secret: t.tenancy.bbbSecret, algorithm: 'sha256', retries: 0, fetch });
    expect((await frontEnd.create({ meetingID: `${t.tenancy.slug}-room-0`, name: 'Lesson 0' })).meetingID).toBe(`${t.tenancy.slug}-room-0`);
  });
});

describe('recordings past the tenancy\'s retention', () => {
  it('are left out of the package, whatever A\'s cluster still lists: not in the manifest, the content, nor at B', async () => {
    const t = await acceptedAndFrozen('Harbour Archive', { pastRetention: true });
    const old = t.old!.recordId;
    // The execution chose it before the package (and deleted it at A); A's cluster still lists it.
    await a.database.db.update(transfers).set({ retentionExpired: [old] }).where(eq(transfers.id, t.id));
    const stillListed = new BbbClient({ apiUrl: bbb.source.url, secret: 'src-secret-19', algorithm: 'sha256', retries: 0, fetch });
    expect((await stillListed.getRecordings()).map((r) => r.recordID)).toContain(old);
    const waiting = await peerSteps(deps(a), 0).package((await findTransfer(a.database.db, t.id))!);
    expect(waiting).toEqual({ state: 'waiting' });

    const row = await rowAt(a, t.id);
    const manifest = JSON.parse(row.manifest!) as { files: Array<{ path: string }> };
    expect(manifest.files.filter((f) => f.path.includes(old))).toEqual([]);
    expect(manifest.files.filter((f) => f.path.includes(t.written[0]!.recordId)).length).toBeGreaterThan(0);
    const content = JSON.parse(box(a).open(row.tenancyContentSealed!, tenancyContentLabel(t.id))) as { recordings: Array<{ record_id: string }> };
    expect(content.recordings.map((r) => r.record_id).sort()).toEqual(t.written.map((w) => w.recordId).sort());

    await deliverDueMessages(deps(b));
    expect((await rowAt(b, t.id)).state).toBe('pulled');
    expect(readdirSync(bbb.dirs.target, { recursive: true }).filter((p) => String(p).includes(old))).toEqual([]);
    expect((await b.database.db.select().from(recordings).where(eq(recordings.tenancyId, t.tenancy.id))).map((r) => r.recordId).sort()).toEqual(t.written.map((w) => w.recordId).sort());
    const frontEnd = new BbbClient({ apiUrl: (await rowAt(a, t.id)).targetGatewayUrl!, secret: t.tenancy.bbbSecret, algorithm: 'sha256', retries: 0, fetch });
    expect((await frontEnd.getRecordings()).map((r) => r.recordID)).not.toContain(old);
  });
});

describe('a content that is not the one the manifest names', () => {
  it('is refused: the transfer fails at B, audited, and nothing of the tenancy is created', async () => {
    const t = await acceptedAndFrozen('Harbour College');
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    // After packaging, the content A serves changes (another name): its SHA-256 is not the manifest's.
    const row = await rowAt(a, t.id);
    const content = JSON.parse(box(a).open(row.tenancyContentSealed!, tenancyContentLabel(t.id)));
    content.tenancy.name = 'Harbour College (changed)';
    await a.database.db.update(peerTransfers).set({ tenancyContentSealed: box(a).seal(JSON.stringify(content), tenancyContentLabel(t.id)) }).where(eq(peerTransfers.id, t.id));
    await deliverDueMessages(deps(b));
    const atB = await rowAt(b, t.id);
    expect(atB.state).toBe('failed');
    expect(atB.lastError).toMatch(/tenancy's content served is not the one the manifest names/);
    expect(atB.tenancyId).toBeNull();
    expect(await heldAtB(t.tenancy.id, t.id)).toEqual({ tenancies: 0, rooms: 0, recordings: 0, memberships: 0, mails: 0 });
    expect(await accountAt(b, t.people.owner)).toBeUndefined();
    expect(await actions(b, 'peer-transfer', t.id)).toContain('peer-transfer.pull-failed');
    expect((await rowAt(a, t.id)).state).toBe('packaged');
  });
});

describe('a crash between the creation and `pulled`', () => {
  it('is taken up where it stopped: nothing is created twice; a slug taken at B gets a suffix', async () => {
    const slug = `harbour-night-${Date.now().toString(36)}`;
    // B has a tenancy with that slug already.
    await createTenancy(b, quebec.id, montreal.id, { slug, name: 'Other school' });
    const t = await acceptedAndFrozen('Harbour Night School', { slug });
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    armFailpoint('throw:peer-transfers.tenancy-created');
    await deliverDueMessages(deps(b));
    armFailpoint(null);
    const crashed = await rowAt(b, t.id);
    expect(crashed.state).toBe('pulling');
    expect(crashed.lastError).toMatch(/failpoint peer-transfers.tenancy-created/);
    const once = await heldAtB(t.tenancy.id, t.id);
    expect(once).toEqual({ tenancies: 1, rooms: 2, recordings: 2, memberships: 3, mails: 2 });
    const accountsOnce = await b.database.db.select({ id: accounts.id }).from(accounts).where(like(accounts.email, `%${t.people.owner.slice(6)}`));

    await deliverDueMessages(later(b));
    expect((await rowAt(b, t.id)).state).toBe('pulled');
    expect(await heldAtB(t.tenancy.id, t.id)).toEqual(once);
    expect(await b.database.db.select({ id: accounts.id }).from(accounts).where(like(accounts.email, `%${t.people.owner.slice(6)}`))).toEqual(accountsOnce);
    expect((await actions(b, 'tenancy', t.tenancy.id)).filter((x) => x === 'tenancy.create')).toHaveLength(1);
    const tenancy = (await tenancyAt(b, t.tenancy.id))!;
    expect(tenancy.slug).toBe(`${slug}-2`);
    expect((await rowAt(a, t.id)).targetGatewayUrl).toBe(`${B.entityId}/t/${slug}-2/bigbluebutton/api`);
    const created = (await b.api('GET', `/api/v1/audit/entries?subjectType=peer-transfer&subject=${t.id}&limit=100`)).json.items.find((e: { json: { action: string } }) => e.json.action === 'peer-transfer.tenancy-created');
    expect(created.json.details).toMatchObject({ slugAtSource: slug });
  });
});

describe('a tenancy whose recordings are partly on a cluster of its co-op it left', () => {
  it('is not packaged at A: no manifest, nothing to pull, while a recording would be left behind', async () => {
    const t = await acceptedAndFrozen('Drained School');
    // The tenancy ran its meetings on another of the co-op's clusters before it was moved (a drain); a recording is still there.
    const former = await createCluster(a, uk.id, { apiUrl: bbb.target.url, secret: 'dst-secret-19', country: 'GB' });
    const meetingId = `${t.tenancy.slug}-before-the-drain`;
    const behind = await writeRecording(bbb.dirs.target, { meetingId, name: 'Before the drain', host: bbb.target.origin, meta: { 'meetplane-tenancy': t.tenancy.id } });
    await a.database.db.insert(rooms).values({ id: uuidv7(), tenancyId: t.tenancy.id, meetingId, name: 'Before the drain', clusterId: former.id, endedAt: new Date() });
    const refused = await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 409, problemType: 'recordings-left-behind' });
    expect((refused as Error).message).toContain(behind.recordId);
    const row = await rowAt(a, t.id);
    expect(row.state).toBe('accepted');
    expect(row.manifest).toBeNull();
  });
});
