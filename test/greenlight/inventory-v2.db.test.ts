// The inventory of a source Greenlight v2 (server/greenlight/inventory-v2.ts)
// against v2's real schema on PostgreSQL (test/support/greenlight-v2-db.ts): one
// v2 serving a choir and a rowing club, whose accounts are local or come from
// Google, LDAP and OpenID Connect, and a load-balanced tenant "harbour". The
// plan must be the one Greenlight's own v2 task (migrations.rake) would send,
// under the same selection rules as a v3 source, and import into the target
// Greenlight (the migration-API double) as a v3 source's does.
// PostgreSQL only: Greenlight's database is one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGreenlightInventory, InventoryError, type Inventory, type InventorySelection } from '../../server/greenlight/inventory.js';
import { v3RoleName } from '../../server/greenlight/inventory-v2.js';
import { importToGreenlight, memoryLedger } from '../../server/greenlight/import.js';
import { readMove } from '../../server/greenlight/transfer-move.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { Outbound } from '../../server/net/outbound.js';
import { backend } from '../support/db.js';
import { checksum, greenlightSource, type GreenlightSource } from '../support/greenlight-db.js';
import { greenlightV2Source, V2_DIGESTS } from '../support/greenlight-v2-db.js';
import { startGreenlight } from '../support/greenlight.js';
import { createTenancy } from '../support/fixtures.js';
import { recordings } from '../../server/inventory/table.js';
import { startWorld } from '../transfers/world.js';

const SKB = 'c0ffee00c0ffee00c0ffee00c0ffee00' + 'd'.repeat(96);
const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
const CHOIR: InventorySelection = {
  emails: ['ADA@choir.example', 'bob@choir.example', 'carol@choir.example', 'dave@choir.example', 'gus@choir.example', 'hana@choir.example', 'ivan@choir.example', 'old@choir.example', 'zoe@choir.example'],
  objectorEmails: ['Dave@Choir.example'],
  provider: 'greenlight',
  version: 'v2',
};
const ROWING: InventorySelection = { emails: ['erin@rowing.example', 'frank@rowing.example'], objectorEmails: [], provider: 'greenlight', version: 'v2' };
const HOME = 'ada-k2p-9xq';
const BOARD = 'ada-x7k-2qm-p0w';
const ADA_GOOGLE_HOME = 'ada-g00-g1e';
const REHEARSALS = 'bob-7hd-2kq-p0w';
const ALTO = 'car-m3n-8vb';
const BASS = 'gus-b4s-5ss';
const GOOGLE_SUB = '117263548899001122';

const sorted = (xs: string[]) => [...xs].sort();


describe.skipIf(backend() !== 'postgres')('inventory of a source Greenlight v2', () => {
  let source: GreenlightSource;
  let choir: Inventory;
  beforeAll(async () => {
    source = await greenlightV2Source();
    choir = await readGreenlightInventory(source.url, CHOIR);
  });
  afterAll(async () => {
    await source?.drop();
  });

  it("selects exactly the choir's accounts, local and from identity providers, never the rowing club's or the harbour tenant's", () => {
    const { plan, report } = choir;
    const users = plan.users.map((u) => `${u.email} ${u.login.kind === 'local' ? u.login.passwordDigest : u.login.sub}`);
    expect(users).toEqual([
      `bob@choir.example ${V2_DIGESTS.bob}`,
      `ada@choir.example ${V2_DIGESTS.ada}`, // the local account first (v2's id order, as its task sends them)
      `gus@choir.example ${GOOGLE_SUB}`, // Google's subject travels as external_id, as v2's task sends it
      `ada@choir.example 104729384756102938`, // her Google account: the same e-mail, one account at the target
      'carol@choir.example sub-carol-41', // OpenID Connect through meetplane: her meetplane subject
    ]);
    expect(plan.users.find((u) => u.name === 'Ada Lovelace')).toMatchObject({ role: 'Choir organiser', language: 'en', createdAt: '2021-02-01T10:00:00Z' });
    expect(plan.users.find((u) => u.email === 'bob@choir.example')).toMatchObject({ role: 'User', language: 'fr' });
    expect(plan.users.find((u) => u.name === 'Ada (Google)')!.language).toBe('default'); // v3 reads "default" as its default locale
    // Pending and denied accounts stay, as v2's task leaves them; a deleted one is not found at all.
    expect(report.usersLeftOut).toEqual([
      { ref: expect.stringMatching(/^gl-user-\d+$/), reason: 'its role does not move (pending, denied, super_admin or none)' },
      { ref: expect.stringMatching(/^gl-user-\d+$/), reason: 'its role does not move (pending, denied, super_admin or none)' },
    ]);
    expect(report.membersWithoutAccount).toBe(2); // zoe, and old (deleted)
    expect(sorted(plan.rooms.map((r) => r.friendlyId))).toEqual(sorted([HOME, BOARD, ADA_GOOGLE_HOME, REHEARSALS, ALTO, BASS]));
    expect(plan.rooms.find((r) => r.friendlyId === ADA_GOOGLE_HOME)!.ownerEmail).toBe('ada@choir.example');
    const text = JSON.stringify(choir);
    for (const other of ['rowing.example', 'Erin', 'Frank', 'Regatta', 'Boathouse', 'Captain', 'Harbour', 'hrb-j8k-l9m', V2_DIGESTS.harbour, V2_DIGESTS.erin, 'Hana', 'Ivan', 'Old room', 'Old board', V2_DIGESTS.old, V2_DIGESTS.hana])
      expect(text).not.toContain(other);
    expect(report.counts).toMatchObject({ users: 5, rooms: 6, roles: 2 });
  });

  it("maps v2's roles and permissions to v3's as Greenlight's task does", () => {
    const roles = Object.fromEntries(choir.plan.roles.map((r) => [r.name, r.permissions]));
    expect(Object.keys(roles).sort()).toEqual(['Choir organiser', 'User']);
    // can_manage_rooms_recordings gives both ManageRooms and ManageRecordings; can_appear_in_share_list has no v3 counterpart.
    expect(roles['Choir organiser']).toEqual({ CreateRoom: 'true', CanRecord: 'false', ManageUsers: 'false', ManageRoles: 'false', ManageRooms: 'true', ManageRecordings: 'true', ManageSiteSettings: 'false' });
    expect(roles.User).toEqual({ CreateRoom: 'true', CanRecord: 'true', ManageUsers: 'false', ManageRoles: 'false', ManageRooms: 'false', ManageRecordings: 'false', ManageSiteSettings: 'false' });
    // As Ruby's String#capitalize: title case first (a digraph's is not its upper case), no final sigma.
    expect(['user', 'admin', 'choir ORGANISER', 'éQUIPE', 'ǆemal', 'ΣΟΦΙΑΣ'].map(v3RoleName)).toEqual(['User', 'Administrator', 'Choir organiser', 'Équipe', 'ǅemal', 'Σοφιασ']);
  });

  it("selects the rowing club's own (an LDAP account among them) and drops its share into the choir", async () => {
    const { plan, report } = await readGreenlightInventory(source.url, ROWING);
    expect(plan.users.map((u) => [u.email, u.role, u.login])).toEqual([
      ['erin@rowing.example', 'Captain', { kind: 'local', passwordDigest: V2_DIGESTS.erin }],
      ['frank@rowing.example', 'User', { kind: 'oidc', sub: 'uid=frank,ou=people,dc=rowing,dc=example' }],
    ]);
    expect(plan.roles.find((r) => r.name === 'Captain')!.permissions).toMatchObject({ CreateRoom: 'true', CanRecord: 'true', ManageUsers: 'true', ManageRooms: 'false' });
    expect(plan.rooms.find((r) => r.name === 'Regatta')).toMatchObject({ sharedWithEmails: ['frank@rowing.example'], settings: { glModeratorAccessCode: 'oars42' } });
    expect(report.sharesDropped).toEqual([{ friendlyId: 'eri-z1x-c2v', reason: 'shared with someone outside the tenancy' }]);
    expect(JSON.stringify(plan)).not.toContain('choir.example');
  });

  it("reads a load-balanced tenant's own under its provider, and nothing of the instance's", async () => {
    const { plan } = await readGreenlightInventory(source.url, { ...CHOIR, objectorEmails: [], provider: 'harbour' });
    expect(plan.users.map((u) => [u.name, u.login])).toEqual([['Ada of Harbour', { kind: 'local', passwordDigest: V2_DIGESTS.harbour }]]);
    expect(plan.rooms.map((r) => r.friendlyId)).toEqual(['hrb-j8k-l9m']);
    expect(plan.settings!.siteSettings).toMatchObject({ PrimaryColor: '#00838f' });
  });

  it('finds a member who signs in through meetplane by their subject when their e-mail changed, and an objector the same way', async () => {
    const moved = await readGreenlightInventory(source.url, { ...CHOIR, emails: ['ada@choir.example', 'carol@new-address.example'], subs: [{ email: 'carol@new-address.example', sub: 'sub-carol-41' }] });
    expect(sorted(moved.plan.users.map((u) => u.email))).toEqual(['ada@choir.example', 'ada@choir.example', 'carol@choir.example']);
    expect(moved.report.membersWithoutAccount).toBe(0);
    const lost = await readGreenlightInventory(source.url, { ...CHOIR, emails: ['ada@choir.example', 'carol@new-address.example'] });
    expect(lost.plan.users.map((u) => u.email)).not.toContain('carol@choir.example');
    const objected = await readGreenlightInventory(source.url, { ...CHOIR, emails: ['ada@choir.example', 'carol@new-address.example'], subs: [{ email: 'carol@new-address.example', sub: 'sub-carol-41' }], objectorEmails: ['carol@new-address.example'], objectorSubs: ['sub-carol-41'] });
    expect(objected.plan.users.map((u) => u.email)).not.toContain('carol@choir.example');
    expect(objected.report.roomsLeftOut).toEqual([{ friendlyId: ALTO, reason: 'its owner objected' }]);
    expect(objected.report.sharesDropped).toContainEqual({ friendlyId: BOARD, reason: 'shared with an objector' });
  });

  it("leaves the objector and his room out, and a denied account's room, and says so", () => {
    const { plan, report } = choir;
    expect(plan.users.map((u) => u.email)).not.toContain('dave@choir.example');
    expect(sorted(report.roomsLeftOut.map((r) => `${r.friendlyId} ${r.reason}`))).toEqual(['dav-q9w-e8r its owner objected', 'iva-n0p-e3n its owner does not move']);
    expect(report.objectorsFound).toBe(1);
    expect(plan.objectorEmails).toEqual(['dave@choir.example']);
  });

  it('keeps shares between movers (once per person), drops those to an objector, an outsider or a denied account, and forgets deleted accounts', () => {
    const share = (id: string) => sorted(choir.plan.rooms.find((r) => r.friendlyId === id)!.sharedWithEmails);
    expect(share(BOARD)).toEqual(['bob@choir.example', 'carol@choir.example', 'gus@choir.example']); // not to Ada's own Google account
    expect(share(REHEARSALS)).toEqual(['ada@choir.example']); // shared with both of Ada's accounts: once
    expect(share(ALTO)).toEqual(['ada@choir.example']);
    // Erin's and Tom's: Tom is nobody the choir named (his account has no e-mail and the choir gave no subject for him).
    expect(sorted(choir.report.sharesDropped.map((d) => `${d.friendlyId} ${d.reason}`))).toEqual(
      sorted([`${BOARD} shared with an objector`, `${BOARD} shared with someone outside the tenancy`, `${BOARD} shared with someone outside the tenancy`, `${BOARD} shared with an account that does not move`]),
    );
    expect(choir.report.counts.shares).toBe(5);
  });

  it('leaves out a member whose v2 account has no e-mail (found by subject), and the share to it', async () => {
    const { plan, report } = await readGreenlightInventory(source.url, { ...CHOIR, emails: [...CHOIR.emails, 'tom@choir.example'], subs: [{ email: 'tom@choir.example', sub: 'tw-2231' }] });
    expect(plan.users.map((u) => u.name)).not.toContain('Tom Twitter');
    expect(report.usersLeftOut).toContainEqual({ ref: expect.stringMatching(/^gl-user-\d+$/), reason: 'it has no e-mail address' });
    expect(report.sharesDropped.filter((d) => d.reason === 'shared with someone outside the tenancy')).toHaveLength(1);
    expect(report.sharesDropped.filter((d) => d.reason === 'shared with an account that does not move')).toHaveLength(2);
  });

  it("turns v2's room settings and access codes into v3's meeting options as Greenlight's task does", () => {
    const room = (id: string) => choir.plan.rooms.find((r) => r.friendlyId === id)!;
    expect(room(BOARD)).toMatchObject({ name: 'Choir board', meetingId: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', lastSession: '2024-10-01T09:00:00Z', ownerEmail: 'ada@choir.example' });
    expect(room(BOARD).settings).toEqual({ record: 'true', muteOnStart: 'true', glAnyoneCanStart: 'false', glAnyoneJoinAsModerator: 'false', guestPolicy: 'ASK_MODERATOR', glViewerAccessCode: '482913' });
    expect(room(REHEARSALS).settings).toEqual({ record: 'false', muteOnStart: 'false', glAnyoneCanStart: 'true', glAnyoneJoinAsModerator: 'false', guestPolicy: 'ALWAYS_ACCEPT' });
    expect(room(HOME).settings).toEqual({}); // a home room's "{ }": the target's defaults
    expect(room(ALTO).settings).toEqual({ glModeratorAccessCode: 'alto99' });
    expect(room(ALTO).lastSession).toBeNull();
    // Only JSON true is true: a "true" string reads as false, as in v2's task.
    expect(room(BASS).settings).toMatchObject({ record: 'false', glAnyoneJoinAsModerator: 'true' });
  });

  it("turns v2's features into v3's site settings and rooms configurations, leaving out what v2 takes from its environment", () => {
    expect(choir.plan.settings).toEqual({
      // Privacy Policy URL is saved but not enabled: v2 reads its default (none). Branding Image and Room Limit have no v3 counterpart.
      siteSettings: { PrimaryColor: '#7b1fa2', Terms: 'https://gl.example/terms', RegistrationMethod: 'invite', ShareRooms: 'true', PreuploadPresentation: 'false' },
      // Recording consent is required, so v2's "optional" recording is v3's default_enabled.
      roomsConfigurations: { record: 'default_enabled', muteOnStart: 'true', glAnyoneCanStart: 'false', glRequireAuthentication: 'true' },
    });
    expect(choir.report.settingsNotRead).toEqual(['guestPolicy', 'glAnyoneJoinAsModerator']);
  });

  it('counts no recordings rows: v2 keeps none (it asks BigBlueButton)', () => {
    expect(choir.report.recordings).toEqual({});
    expect(choir.report.counts.recordings).toBe(0);
  });

  it('writes nothing: every table is the same after reading', async () => {
    const before = await checksum(source.url);
    await readGreenlightInventory(source.url, CHOIR);
    await readGreenlightInventory(source.url, ROWING);
    expect(await checksum(source.url)).toBe(before);
  });

  it("says when the front end's version is not the database's, naming host and database, never the password", async () => {
    const v3 = await greenlightSource();
    try {
      const secret = 'S3cr3t-pa55word';
      const withPassword = (url: string) => {
        const u = new URL(url);
        u.password = secret;
        return u.toString();
      };
      for (const [url, version, why] of [
        [source.url, 'v3', /its tables are not Greenlight v3's/],
        [v3.url, 'v2', /its tables are not Greenlight v2's/],
      ] as const) {
        const err = await readGreenlightInventory(withPassword(url), { ...CHOIR, version }).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(InventoryError);
        const e = err as InventoryError;
        expect(e.message).toMatch(why);
        expect(e.message).toContain(`"${new URL(url).pathname.slice(1)}" on ${new URL(url).hostname}`);
        expect(`${e.message} ${e.stack}`).not.toContain(secret);
      }
    } finally {
      await v3.drop();
    }
  });

  it("round trip: the choir's v2 plan imports into a Greenlight v3 and its rooms' links resolve there", async () => {
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
      const byEmail = (e: string) => gl.users.filter((u) => u.email === e);
      // Ada's two v2 accounts are one at the target: the local one, with its digest, owning both accounts' rooms.
      expect(byEmail('ada@choir.example')).toHaveLength(1);
      const ada = byEmail('ada@choir.example')[0]!;
      expect(ada).toMatchObject({ name: 'Ada Lovelace', password_digest: V2_DIGESTS.ada, language: 'en' });
      expect(gl.rooms.find((r) => r.friendly_id === ADA_GOOGLE_HOME)!.user_id).toBe(ada.id);
      expect(byEmail('carol@choir.example')[0]!.external_id).toBe('sub-carol-41');
      expect(byEmail('gus@choir.example')[0]!.external_id).toBe(GOOGLE_SUB);
      expect(gl.roles.find((r) => r.name === 'Choir organiser' && r.provider === 'greenlight')!.permissions.get('ManageRecordings')).toBe('true');
      const board = gl.rooms.find((r) => r.friendly_id === BOARD)!;
      expect(board.meeting_id).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
      expect(sorted(board.shared_user_ids)).toEqual(sorted(['bob@choir.example', 'carol@choir.example', 'gus@choir.example'].map((e) => byEmail(e)[0]!.id)));
      expect(board.settings.get('guestPolicy')).toBe('ASK_MODERATOR');
      expect(board.settings.get('glViewerAccessCode')).toBe('482913');
      expect(gl.siteSettings.get('greenlight')!.get('RegistrationMethod')).toBe('invite');
      expect(gl.roomsConfigurations.get('greenlight')!.get('record')).toBe('default_enabled');
      expect(gl.users.map((u) => u.email)).not.toContain('dave@choir.example');
      expect(gl.users.map((u) => u.name)).not.toContain('Hana Soprano');
    } finally {
      await gl.close();
    }
  });

  it("a transfer reads a source front end recorded as v2 with v2's reader, and counts each room's recordings in meetplane's inventory", async () => {
    const w = await startWorld();
    try {
      const put = (coop: string, slug: string, body: unknown, token: string) => w.s.api('PUT', `/api/v1/coops/${coop}/greenlights/${slug}`, { body, token });
      const from = await put(w.uk.id, 'old-rooms', { baseUrl: 'https://rooms.old.example', version: 'v2', databaseUrl: source.url }, w.sourceAdmin.token);
      expect(from.status, from.text).toBe(201);
      const to = await put(w.de.id, 'new-rooms', { baseUrl: 'https://rooms.new.example', version: 'v3', secretKeyBase: SKB }, w.targetAdmin.token);
      expect(to.status, to.text).toBe(201);
      // v2 keeps no recordings rows: the board's two recordings are in the tenancy's inventory (and one of another tenancy, same meeting id).
      const t = await createTenancy(w.s, w.uk.id, w.ukCluster.id, { name: 'Choir' });
      const other = await createTenancy(w.s, w.uk.id, w.ukCluster.id, { name: 'Other' });
      const meeting = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
      const row = (tenancyId: string, at: number) => ({ id: randomUUID(), tenancyId, recordId: `${meeting}-${at}`, meetingId: meeting, name: 'Choir board', state: 'published', published: true, formats: [], metadata: {} });
      await w.s.database.db.insert(recordings).values([row(t.id, 1727773200000), row(t.id, 1725181200000), row(other.id, 1725181200000)]);
      const box = new SecretBox(Buffer.from(w.s.masterKey, 'base64'));
      const people = { members: ['ada@choir.example', 'bob@choir.example'].map((email, i) => ({ accountId: `00000000-0000-4000-8000-00000000000${i}`, email })), objectorEmails: [], tenancyId: t.id };
      const { move } = await readMove(w.s.database.db, box, { sourceGreenlightId: from.json.id, targetGreenlightId: to.json.id }, people);
      expect(sorted(move.rooms.map((r) => r.friendlyId))).toEqual(sorted([HOME, BOARD, ADA_GOOGLE_HOME, REHEARSALS]));
      expect(Object.fromEntries(move.rooms.map((r) => [r.friendlyId, r.recordings]))).toEqual({ [HOME]: 0, [BOARD]: 2, [ADA_GOOGLE_HOME]: 0, [REHEARSALS]: 0 });
      expect(move.counts).toMatchObject({ users: 3, rooms: 4, recordings: 2 });
    } finally {
      await w.close();
    }
  }, 60_000);
});
