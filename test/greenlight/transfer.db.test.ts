// A transfer moves the members' Greenlight with their tenancy, end to end: a
// source Greenlight v3's real schema on PostgreSQL (a choir and a rowing club
// on one Greenlight, test/support/greenlight-db.ts), the tenancy naming it, a
// target Greenlight (the migration-API double, test/support/greenlight.ts) the
// transfer names. Checked as the people involved would: the notice mail lists
// each member's own rooms with their new links; after the run the rooms, links,
// shares and settings are at the target, an objector's room and shares to them
// are not, and every moved room's link resolves; the audit log names every
// object without personal data; a second run sends and logs nothing twice; a
// runner killed in the middle of the import (SIGKILL) resumes without duplicates.
// PostgreSQL only: the source Greenlight's database is a real PostgreSQL, and
// the crash case runs the built CLI as a second process on the same database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { backend } from '../support/db.js';
import { startGreenlight, type GreenlightDouble } from '../support/greenlight.js';
import { startGreenlightWorld, type GreenlightWorld } from './world.js';
import { runCli, spawnCli } from '../support/cli.js';
import { TEST_OUTBOUND_ALLOW } from '../support/server.js';
import { createTenancy } from '../support/fixtures.js';
import { transferAction, transferAudit, type World } from '../transfers/world.js';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { importMove } from '../../server/greenlight/transfer-move.js';
import { greenlightPeople } from '../../server/transfers/greenlight-step.js';
import { greenlightImportLedger } from '../../server/greenlight/table.js';
import { transfers } from '../../server/transfers/table.js';
import { SYSTEM } from '../../server/transfers/step-kit.js';
import { deliverDue, smtpTransport } from '../../server/mail/outbox.js';
import { rowsOf } from '../../server/db/index.js';

const SKB = 'feedface'.repeat(4) + 'e'.repeat(96);
const BOARD = 'ada-k2p-9xq-m4z';
const REHEARSALS = 'bob-7hd-2kq-p0w';
const ALTO = 'car-m3n-8vb-x1c';
const DAVES = 'dav-q9w-e8r-t7y';

async function account(w: World, email: string, name: string): Promise<{ accountId: string; token: string }> {
  const acc = await w.s.api('POST', '/api/v1/accounts', { body: { email, name, coop: w.uk.id } });
  expect(acc.status, acc.text).toBe(201);
  const { issueToken } = await import('../../server/accounts/service.js');
  const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
  const { token } = await issueToken(w.s.database.db, LOCAL_OPERATOR, acc.json.id, 'test', null);
  return { accountId: acc.json.id, token };
}

/** A tenancy of the UK co-op whose members are `people` (the first its owner), naming the source Greenlight. */
async function greenlightTenancy(w: World, name: string, people: Array<[string, string]>) {
  const t = await createTenancy(w.s, w.uk.id, w.ukCluster.id, { name, retentionDays: 3650 });
  const members = [];
  for (const [i, [email, who]] of people.entries()) {
    const a = await account(w, email, who);
    const put = await w.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${a.accountId}`, { body: { role: i === 0 ? 'owner' : 'member' } });
    expect(put.status, put.text).toBeLessThan(300);
    members.push(a);
  }
  const current = await w.s.api('GET', `/api/v1/tenancies/${t.id}`);
  const named = await w.s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body: { greenlight: 'old-rooms' }, headers: { 'if-match': current.headers.get('etag')! } });
  expect(named.status, named.text).toBe(200);
  return { ...t, members };
}

/** Create, check and approve (the owner last) a transfer to the German co-op; the notices reach everyone. */
async function toNotice(w: World, tenancyId: string, owner: { token: string }, body: Record<string, unknown>) {
  await w.s.api('POST', '/api/v1/processing-agreements', { token: w.sourceAdmin.token, body: { tenancy: tenancyId, coop: w.de.id, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
  const created = await w.s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: tenancyId, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 0, ...body } });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  expect((await transferAction(w, id, 'check', { token: w.sourceAdmin.token })).json.state).toBe('checked');
  await transferAction(w, id, 'approve', { token: w.sourceAdmin.token, body: { as: 'source_admin' } });
  await transferAction(w, id, 'approve', { token: w.targetAdmin.token, body: { as: 'target_admin' } });
  const approved = await transferAction(w, id, 'approve', { token: owner.token, body: { as: 'owner' } });
  expect(approved.json.state, approved.text).toBe('notice');
  const transport = smtpTransport(w.smtp.url);
  while ((await deliverDue(w.s.database.db, transport, 'meetplane@example.org', w.deps.log)).sent > 0);
  transport.close();
  return id;
}

/** The transfer's Greenlight audit entries: kind, ref and result of each object. */
async function greenlightEntries(w: World, id: string) {
  const res = await w.s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=500`);
  return res.json.items.filter((e: { json: { action: string } }) => e.json.action === 'transfer.greenlight-object').map((e: { json: { details: Record<string, string> } }) => e.json.details);
}

describe.skipIf(backend() !== 'postgres')("a transfer moves the members' Greenlight", () => {
  let world: GreenlightWorld;
  let w: World;
  let target: GreenlightDouble;

  beforeAll(async () => {
    world = await startGreenlightWorld(SKB);
    ({ w, target } = world);
  }, 120_000);
  afterAll(async () => world?.close());

  it("lists each member's own rooms in their notice, moves rooms, links, shares and settings, leaves an objector's room, and verifies every link", async () => {
    const choir = await greenlightTenancy(w, 'Choir', [
      ['ada@choir.example', 'Ada Lovelace'],
      ['bob@choir.example', 'Bob Baritone'],
      ['carol@choir.example', 'Carol Alto'],
      ['dave@choir.example', 'Dave Tenor'],
    ]);
    const [ada, , , dave] = choir.members as Array<{ accountId: string; token: string }> as [{ token: string }, unknown, unknown, { token: string }];

    // The tenancy's members use a Greenlight meetplane can read: the transfer must say where their rooms go.
    const unsaid = await w.s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: choir.id, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 0 } });
    expect(unsaid.status).toBe(400);
    expect(unsaid.json.errors).toEqual([{ path: 'targetGreenlight', message: expect.stringContaining('name the target co-op') }]);
    const notTheirs = await w.s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: choir.id, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 0, targetGreenlight: 'old-rooms' } });
    expect(notTheirs.status).toBe(400);
    expect(notTheirs.json.errors).toEqual([{ path: 'targetGreenlight', message: 'no such Greenlight of the target co-op' }]);

    const id = await toNotice(w, choir.id, ada, { targetGreenlight: 'new-rooms' });
    // Each member's notice lists their own rooms and the new links (same friendly_id, the target's host), nobody else's.
    const mailTo = (who: string) => w.smtp.mails.find((m) => m.to.includes(who) && m.text.includes(`/me/transfers/${id}`))!;
    expect(mailTo('ada@choir.example').text).toContain(`Choir board: ${target.url}/rooms/${BOARD}/join`);
    expect(mailTo('ada@choir.example').text).not.toContain(REHEARSALS);
    expect(mailTo('bob@choir.example').text).toContain(`Rehearsals: ${target.url}/rooms/${REHEARSALS}/join`);
    expect(mailTo('dave@choir.example').text).toContain(`${target.url}/rooms/${DAVES}/join`);
    // The status says what moves at Greenlight: the choir's four rooms, never the rowing club's.
    const status = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(status.greenlight.rooms.map((r: { friendlyId: string }) => r.friendlyId).sort()).toEqual([BOARD, REHEARSALS, ALTO, DAVES].sort());
    expect(status.greenlight.imported).toBeNull();

    // Dave objects during the notice: his room stays, and Ada's room is no longer shared with him at the target.
    const objected = await transferAction(w, id, 'object', { token: dave.token });
    expect(objected.status, objected.text).toBe(200);

    expect((await advanceTransfer(w.deps, id)).state).toBe('completed');
    const after = (await w.s.api('GET', `/api/v1/transfers/${id}`)).json;
    expect(after.greenlight.rooms.map((r: { friendlyId: string }) => r.friendlyId).sort()).toEqual([BOARD, REHEARSALS, ALTO].sort());
    expect(after.greenlight.imported).toMatchObject({ roomsResolving: 3, resyncCommand: expect.stringContaining(`%w[${BOARD} `) });

    // At the target Greenlight: the three members, not Dave; Carol keeps signing in through meetplane (external_id = sub).
    expect(target.users.map((u) => u.email).sort()).toEqual(['Bob@Choir.example', 'ada@choir.example', 'carol@choir.example']);
    expect(target.users.find((u) => u.email === 'carol@choir.example')).toMatchObject({ external_id: 'sub-carol-41', password_digest: null });
    const room = (fid: string) => target.rooms.find((r) => r.friendly_id === fid);
    expect(target.rooms.map((r) => r.friendly_id).sort()).toEqual([BOARD, REHEARSALS, ALTO].sort());
    expect(room(BOARD)).toMatchObject({ meeting_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' });
    expect(room(BOARD)!.settings.get('guestPolicy')).toBe('ASK_MODERATOR');
    const emailOf = (userId: string) => target.users.find((u) => u.id === userId)!.email;
    expect(room(BOARD)!.shared_user_ids.map(emailOf).sort()).toEqual(['Bob@Choir.example', 'carol@choir.example']);
    // An operator reads the same in `meetplane transfers status`: the links, and the target's resync line.
    const cli = await runCli(['transfers', 'status', id], { MEETPLANE_URL: w.s.url, MEETPLANE_TOKEN: w.targetAdmin.token });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${BOARD}  ${target.url}/rooms/${BOARD}/join`);
    expect(cli.stdout).toMatch(/greenlight: 3 rooms move, 1 stay/);
    expect(cli.stdout).toContain('bundle exec rails runner');
    // Every moved room's link answers at the target.
    for (const fid of [BOARD, REHEARSALS, ALTO]) expect((await fetch(`${target.url}/api/v1/rooms/${fid}/public.json`, { headers: { accept: 'application/json' } })).status).toBe(200);

    // The log names each object by role, opaque ref or friendly_id, never an e-mail or a name.
    const entries = await greenlightEntries(w, id);
    expect(entries.filter((e: { kind: string }) => e.kind === 'room').map((e: { ref: string }) => e.ref).sort()).toEqual([BOARD, REHEARSALS, ALTO].sort());
    expect(entries.filter((e: { kind: string }) => e.kind === 'user')).toHaveLength(3);
    expect(JSON.stringify(entries)).not.toMatch(/@|Lovelace|Baritone|Choir board/);
    // The completion's entry says what moved at Greenlight: an auditor reads it beside the recordings' counts.
    const log = (await w.s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=100`)).json.items.map((e: { json: unknown }) => e.json);
    const complete = log.find((e: { action: string }) => e.action === 'transfer.complete');
    expect(complete.details.greenlight).toEqual({ rooms: 3, roomsResolving: 3, users: 3 });
    // At the German co-op the tenancy names the Greenlight its rooms moved to.
    expect((await w.s.api('GET', `/api/v1/tenancies/${choir.id}`)).json.greenlight).toBe(after.greenlight.targetGreenlightId);

    // Run again (an operator's retry would): nothing is sent twice, nothing is logged twice.
    const before = { users: target.users.length, rooms: target.rooms.length, posts: target.requests.filter((r) => r.method === 'POST').length };
    const t = (await w.s.database.db.select().from(transfers).where(eq(transfers.id, id)))[0]!;
    await importMove({ db: w.deps.db, box: w.deps.box, outbound: w.deps.outbound, actor: SYSTEM }, id, { sourceGreenlightId: t.sourceGreenlightId!, targetGreenlightId: t.targetGreenlightId! }, await greenlightPeople(w.deps.db, t));
    expect({ users: target.users.length, rooms: target.rooms.length }).toEqual({ users: before.users, rooms: before.rooms });
    expect(target.requests.filter((r) => r.method === 'POST').length).toBe(before.posts);
    expect(await greenlightEntries(w, id)).toHaveLength(entries.length);
  }, 180_000);

  it('a runner killed in the middle of the import resumes where it stopped: every object once at the target and once in the log', async () => {
    const rowing = await greenlightTenancy(w, 'Rowing', [
      ['erin@rowing.example', 'Erin Stroke'],
      ['frank@rowing.example', 'Frank Bow'],
    ]);
    const second = await startGreenlight({ secretKeyBase: SKB });
    try {
      const put = await w.s.api('PUT', `/api/v1/coops/${w.de.id}/greenlights/boathouse`, { body: { baseUrl: second.url, version: 'v3', secretKeyBase: SKB }, token: w.targetAdmin.token });
      expect(put.status, put.text).toBe(201);
      const id = await toNotice(w, rowing.id, rowing.members[0]!, { targetGreenlight: 'boathouse' });
      const run = (failpoint: string) =>
        spawnCli(['transfers', 'run', '--wait', '20'], {
          DATABASE_URL: w.s.database.url!,
          MASTER_KEY: w.s.masterKey,
          DATA_DIR: w.s.dataDir,
          PUBLIC_URL: w.s.url,
          TRANSFER_MIN_NOTICE_DAYS: '0',
          TRANSFER_MEETING_GRACE: '0',
          TRANSFER_SOURCE_GRACE_DAYS: '0',
          TRANSFER_LEASE: '1',
          MEETPLANE_FAILPOINT: failpoint,
          OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
        }).done;
      // Killed after the third object (the Captain and User roles, then Erin) was recorded.
      const killed = await run('greenlight.after-object:3');
      expect(killed.signal).toBe('SIGKILL');
      const ledger = async () =>
        rowsOf<{ n: number }>(await w.s.database.db.execute(sql`select count(*)::int as n from ${greenlightImportLedger} where ${greenlightImportLedger.transferId} = ${id}`))[0]!.n;
      expect(await ledger()).toBe(3);
      expect(second.users).toHaveLength(1);

      const resumed = await run('');
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      expect((await w.s.api('GET', `/api/v1/transfers/${id}`)).json.state).toBe('completed');
      // Erin and Frank once each, their two rooms once each; the Regatta keeps Frank's share, not Ada's (another tenancy's).
      expect(second.users.map((u) => u.email).sort()).toEqual(['erin@rowing.example', 'frank@rowing.example']);
      expect(second.rooms.map((r) => r.friendly_id).sort()).toEqual(['eri-z1x-c2v-b3n', 'fra-a5s-d6f-g7h']);
      const regatta = second.rooms.find((r) => r.friendly_id === 'eri-z1x-c2v-b3n')!;
      expect(regatta.shared_user_ids.map((u) => second.users.find((x) => x.id === u)!.email)).toEqual(['frank@rowing.example']);
      // Each object once in the ledger and once in the log, however often the runner started.
      const entries = await greenlightEntries(w, id);
      const keys = entries.map((e: { kind: string; ref: string }) => `${e.kind}:${e.ref}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(await ledger()).toBe(keys.length);
      expect(keys.filter((k: string) => k.startsWith('room:')).sort()).toEqual(['room:eri-z1x-c2v-b3n', 'room:fra-a5s-d6f-g7h']);
      const rows = await w.s.database.db.select().from(greenlightImportLedger).where(and(eq(greenlightImportLedger.transferId, id), eq(greenlightImportLedger.kind, 'user')));
      expect(rows).toHaveLength(2);
    } finally {
      await second.close();
    }
  }, 240_000);
});
