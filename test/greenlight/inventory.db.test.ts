// The inventory of a source Greenlight v3 (server/greenlight/inventory.ts) against
// Greenlight's real schema on PostgreSQL (test/support/greenlight-db.ts): one
// Greenlight serving a choir and a rowing club, and a tenant "harbour". It needs
// a real PostgreSQL (Greenlight's database is one), so it runs in the postgres project only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGreenlightInventory, readOnlySnapshot, InventoryError, type Inventory } from '../../server/greenlight/inventory.js';
import { importToGreenlight, memoryLedger } from '../../server/greenlight/import.js';
import { Outbound } from '../../server/net/outbound.js';
import { backend } from '../support/db.js';
import { checksum, DIGESTS, greenlightSource, type GreenlightSource } from '../support/greenlight-db.js';
import { startGreenlight } from '../support/greenlight.js';

const SKB = 'c0ffee00c0ffee00c0ffee00c0ffee00' + 'd'.repeat(96);
const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
const CHOIR = { emails: ['ADA@choir.example', 'bob@choir.example', 'carol@choir.example', 'dave@choir.example', 'zoe@choir.example'], objectorEmails: ['Dave@Choir.example'], provider: 'greenlight' };
const ROWING = { emails: ['erin@rowing.example', 'frank@rowing.example'], objectorEmails: [], provider: 'greenlight' };
const BOARD = 'ada-k2p-9xq-m4z';
const BOARD_MEETING = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

const sorted = (xs: string[]) => [...xs].sort();


describe.skipIf(backend() !== 'postgres')('inventory of a source Greenlight v3', () => {
  let source: GreenlightSource;
  let choir: Inventory;
  beforeAll(async () => {
    source = await greenlightSource();
    choir = await readGreenlightInventory(source.url, CHOIR);
  });
  afterAll(async () => {
    await source?.drop();
  });

  it("selects exactly the choir's people, roles and rooms, never the rowing club's or the harbour tenant's", () => {
    const { plan, report } = choir;
    expect(sorted(plan.users.map((u) => u.email))).toEqual(['Bob@Choir.example', 'ada@choir.example', 'carol@choir.example']);
    expect(sorted(plan.rooms.map((r) => r.friendlyId))).toEqual([BOARD, 'bob-7hd-2kq-p0w', 'car-m3n-8vb-x1c']);
    const ada = plan.users.find((u) => u.email === 'ada@choir.example')!;
    expect(ada).toMatchObject({ name: 'Ada Lovelace', role: 'Organiser', language: 'en', createdAt: '2024-02-01T10:00:00Z', login: { kind: 'local', passwordDigest: DIGESTS.ada } });
    expect(plan.users.find((u) => u.email === 'carol@choir.example')!.login).toEqual({ kind: 'oidc', sub: 'sub-carol-41' });
    expect(sorted(plan.roles.map((r) => r.name))).toEqual(['Organiser', 'User']);
    expect(plan.roles.find((r) => r.name === 'Organiser')!.permissions).toMatchObject({ CreateRoom: 'true', ManageRooms: 'true', CanRecord: 'false', RoomLimit: '5' });
    // Nothing of the other organisation or tenant: not a name, an e-mail, a room or a digest.
    const text = JSON.stringify(choir);
    for (const other of ['rowing.example', 'Erin', 'Frank', 'Regatta', 'Boathouse', 'Captain', 'Harbour', 'hrb-j8k-l9m-n0p', DIGESTS.harbour, DIGESTS.erin]) expect(text).not.toContain(other);
    expect(report.membersWithoutAccount).toBe(1); // zoe
    expect(report.counts).toMatchObject({ users: 3, rooms: 3, roles: 2 });
    expect(plan.users.every((u) => /^gl-user-[0-9a-f-]{36}$/.test(u.ref))).toBe(true);
  });

  it("selects the rowing club's own when asked, and drops its share into the choir", async () => {
    const { plan, report } = await readGreenlightInventory(source.url, ROWING);
    expect(sorted(plan.users.map((u) => u.email))).toEqual(['erin@rowing.example', 'frank@rowing.example']);
    expect(sorted(plan.rooms.map((r) => r.name))).toEqual(['Boathouse', 'Regatta']);
    expect(plan.rooms.find((r) => r.name === 'Regatta')!.sharedWithEmails).toEqual(['frank@rowing.example']);
    expect(report.sharesDropped).toEqual([{ friendlyId: 'eri-z1x-c2v-b3n', reason: 'shared with someone outside the tenancy' }]);
    expect(JSON.stringify(plan)).not.toContain('choir.example');
  });

  it('finds a member who signs in through meetplane by their subject when their e-mail changed, and an objector the same way', async () => {
    // Carol's meetplane e-mail is no longer the one her Greenlight account holds; her account carries her subject.
    const moved = await readGreenlightInventory(source.url, { ...CHOIR, emails: ['ada@choir.example', 'carol@new-address.example'], subs: [{ email: 'carol@new-address.example', sub: 'sub-carol-41' }] });
    expect(sorted(moved.plan.users.map((u) => u.email))).toEqual(['ada@choir.example', 'carol@choir.example']);
    expect(sorted(moved.plan.rooms.map((r) => r.friendlyId))).toEqual([BOARD, 'car-m3n-8vb-x1c']);
    expect(moved.report.membersWithoutAccount).toBe(0);
    // Without her subject she is not found.
    const lost = await readGreenlightInventory(source.url, { ...CHOIR, emails: ['ada@choir.example', 'carol@new-address.example'] });
    expect(lost.plan.users.map((u) => u.email)).toEqual(['ada@choir.example']);
    expect(lost.report.membersWithoutAccount).toBe(1);
    // Frank objected under an e-mail his Greenlight account does not hold: his subject still keeps him, his room and shares to him out.
    const rowing = await readGreenlightInventory(source.url, { ...ROWING, emails: ['erin@rowing.example', 'frank@elsewhere.example'], subs: [{ email: 'frank@elsewhere.example', sub: 'sub-frank-07' }], objectorEmails: ['frank@elsewhere.example'], objectorSubs: ['sub-frank-07'] });
    expect(rowing.plan.users.map((u) => u.email)).toEqual(['erin@rowing.example']);
    expect(rowing.report.roomsLeftOut).toEqual([{ friendlyId: 'fra-a5s-d6f-g7h', reason: 'its owner objected' }]);
    expect(rowing.report.sharesDropped).toContainEqual({ friendlyId: 'eri-z1x-c2v-b3n', reason: 'shared with an objector' });
    expect(rowing.report.objectorsFound).toBe(1);
  });

  it('leaves the objector, his room and the shares to him out, and says so', () => {
    const { plan, report } = choir;
    expect(plan.users.map((u) => u.email.toLowerCase())).not.toContain('dave@choir.example');
    expect(plan.rooms.map((r) => r.friendlyId)).not.toContain('dav-q9w-e8r-t7y');
    expect(report.roomsLeftOut).toEqual([{ friendlyId: 'dav-q9w-e8r-t7y', reason: 'its owner objected' }]);
    expect(report.objectorsFound).toBe(1);
    expect(plan.objectorEmails).toEqual(['dave@choir.example']);
    expect(report.sharesDropped).toContainEqual({ friendlyId: BOARD, reason: 'shared with an objector' });
    expect(report.recordings).not.toHaveProperty('d1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
  });

  it('moves a room shared across the organisations without that share, and reports it', () => {
    const board = choir.plan.rooms.find((r) => r.friendlyId === BOARD)!;
    expect(sorted(board.sharedWithEmails)).toEqual(['Bob@Choir.example', 'carol@choir.example']);
    const dropped = [...choir.report.sharesDropped].sort((a, b) => a.reason.localeCompare(b.reason));
    expect(dropped).toEqual([
      { friendlyId: BOARD, reason: 'shared with an objector' },
      { friendlyId: BOARD, reason: 'shared with someone outside the tenancy' },
    ]);
    expect(choir.plan.rooms.find((r) => r.friendlyId === 'car-m3n-8vb-x1c')!.sharedWithEmails).toEqual(['ada@choir.example']);
    expect(choir.report.counts.shares).toBe(3);
  });

  it('carries room options, site settings and rooms configurations as the strings Greenlight stores', () => {
    const board = choir.plan.rooms.find((r) => r.friendlyId === BOARD)!;
    expect(board).toMatchObject({ name: 'Choir board', meetingId: BOARD_MEETING, lastSession: '2026-10-01T09:00:00Z', ownerEmail: 'ada@choir.example' });
    expect(board.settings).toMatchObject({ record: 'true', muteOnStart: 'true', guestPolicy: 'ASK_MODERATOR', glViewerAccessCode: 'x7k2q1', glAnyoneCanStart: 'false' });
    expect(choir.plan.rooms.find((r) => r.friendlyId === 'bob-7hd-2kq-p0w')!.settings).toMatchObject({ record: 'false', glAnyoneCanStart: 'true' });
    expect(choir.plan.rooms.find((r) => r.friendlyId === 'car-m3n-8vb-x1c')!.lastSession).toBeNull();
    const settings = choir.plan.settings!;
    expect(settings.siteSettings).toMatchObject({ PrimaryColor: '#7b1fa2', RegistrationMethod: 'invite', ShareRooms: 'true', Terms: 'https://gl.example/terms' });
    expect(settings.roomsConfigurations).toMatchObject({ record: 'default_enabled', glRequireAuthentication: 'true', muteOnStart: 'default_enabled', guestPolicy: 'optional' });
    const values = [...choir.plan.rooms.flatMap((r) => Object.values(r.settings)), ...Object.values(settings.siteSettings), ...Object.values(settings.roomsConfigurations)];
    expect(values.every((v) => typeof v === 'string')).toBe(true);
  });

  it("reports the moving rooms' recordings rows by meeting id, and those BigBlueButton does not hold", async () => {
    expect(choir.report.recordings[BOARD_MEETING]).toEqual({ rows: 2, recordIds: [`${BOARD_MEETING}-1756717200000`, `${BOARD_MEETING}-1759309200000`] });
    expect(choir.report.counts.recordings).toBe(3);
    const { report } = await readGreenlightInventory(source.url, { ...CHOIR, bbbRecordIds: [`${BOARD_MEETING}-1759309200000`] });
    expect(report.recordings[BOARD_MEETING]!.notOnBbb).toEqual([`${BOARD_MEETING}-1756717200000`]);
  });

  it('writes nothing: every table is the same after reading, and a write in its transaction is refused', async () => {
    const before = await checksum(source.url);
    await readGreenlightInventory(source.url, CHOIR);
    await readGreenlightInventory(source.url, ROWING);
    expect(await checksum(source.url)).toBe(before);

    const write = readOnlySnapshot(source.url, (tx) => tx`insert into settings (name, created_at, updated_at) values ('Injected', now(), now())`);
    await expect(write).rejects.toThrow(/a write was attempted in the read-only transaction/);
    const mode = await readOnlySnapshot(source.url, async (tx) => (await tx<{ r: string; i: string }[]>`select current_setting('transaction_read_only') as r, current_setting('transaction_isolation') as i`)[0]);
    expect(mode).toEqual({ r: 'on', i: 'repeatable read' });
    expect(await checksum(source.url)).toBe(before);
  });

  it('fails with a message naming the host and database, never the password', async () => {
    const secret = 'S3cr3t-pa55word';
    const u = new URL(source.url);
    const cases: Array<[string, RegExp]> = [
      [`postgres://nobody_${Date.now()}:${secret}@${u.host}${u.pathname}`, /refused the credentials/],
      [`postgres://postgres:${secret}@${u.host}/no_such_greenlight_db`, /no such database/],
      [`postgres://postgres:${secret}@127.0.0.1:1/greenlight`, /connection refused/],
      [`postgres://postgres:${secret}@${u.host}/postgres`, /not Greenlight v3's/],
    ];
    for (const [url, why] of cases) {
      const err = await readGreenlightInventory(url, CHOIR).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InventoryError);
      const e = err as InventoryError;
      expect(e.message).toMatch(why);
      expect(e.message).toContain(`"${new URL(url).pathname.slice(1)}" on ${new URL(url).hostname}`);
      expect(`${e.message} ${e.stack} ${JSON.stringify(e)} ${String(e.cause)}`).not.toContain(secret);
    }
  });

  it("round trip: the choir's plan imports into a Greenlight and its rooms' links resolve there", async () => {
    const gl = await startGreenlight({ secretKeyBase: SKB });
    try {
      const report = await importToGreenlight({ baseUrl: gl.url, secretKeyBase: SKB, provider: 'greenlight' }, choir.plan, { fetch: outbound.fetch, ledger: memoryLedger() });
      expect(report.stopped).toBeUndefined();
      expect(report.results.filter((r) => r.outcome === 'failed' || r.outcome === 'refused')).toEqual([]);
      for (const room of choir.plan.rooms) {
        const res = await fetch(`${gl.url}/api/v1/rooms/${room.friendlyId}/public.json`, { headers: { accept: 'application/json' } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { data: unknown }).data).toMatchObject({ name: room.name, friendly_id: room.friendlyId });
      }
      const byEmail = (e: string) => gl.users.find((u) => u.email === e)!;
      expect(byEmail('ada@choir.example').password_digest).toBe(DIGESTS.ada);
      expect(byEmail('carol@choir.example').external_id).toBe('sub-carol-41');
      const board = gl.rooms.find((r) => r.friendly_id === BOARD)!;
      expect(board.meeting_id).toBe(BOARD_MEETING);
      expect(sorted(board.shared_user_ids)).toEqual(sorted([byEmail('Bob@Choir.example').id, byEmail('carol@choir.example').id]));
      expect(board.settings.get('guestPolicy')).toBe('ASK_MODERATOR');
      expect(board.settings.get('record')).toBe('true');
      expect(gl.siteSettings.get('greenlight')!.get('ShareRooms')).toBe('true');
      expect(gl.roomsConfigurations.get('greenlight')!.get('glRequireAuthentication')).toBe('true');
      expect(gl.users.map((u) => u.email)).not.toContain('dave@choir.example');
    } finally {
      await gl.close();
    }
  });
});
