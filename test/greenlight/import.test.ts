// The import against a Greenlight v3 double that decrypts, permits and stores
// the way Greenlight's migration controller does (test/support/greenlight.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { importToGreenlight, memoryLedger, type ImportPlan, type ObjectResult } from '../../server/greenlight/import.js';
import { Outbound } from '../../server/net/outbound.js';
import { startGreenlight, type GreenlightDouble } from '../support/greenlight.js';

const SKB = 'c0ffee00c0ffee00c0ffee00c0ffee00' + 'd'.repeat(96);
const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
const BCRYPT = '$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';

function plan(): ImportPlan {
  return {
    roles: [
      { name: 'Organiser', permissions: { CreateRoom: true, CanRecord: false, ManageRooms: true, RoomLimit: 5 } },
      { name: 'User', permissions: { ManageUsers: false } }, // built in: its permissions stay the target's
    ],
    users: [
      { ref: 'acct-1', name: 'Ada Lovelace', email: 'ada@coop.example', role: 'Organiser', language: 'en', login: { kind: 'local', passwordDigest: BCRYPT } },
      { ref: 'acct-2', name: 'Bob', email: 'bob@coop.example', role: 'User', login: { kind: 'oidc', sub: 'sub-bob-7f3a' } },
      { ref: 'acct-3', name: 'Carol', email: 'Carol@Coop.example', role: 'User', login: { kind: 'local', passwordDigest: BCRYPT } },
      { ref: 'acct-4', name: 'Dave', email: 'dave@coop.example', role: 'User', login: { kind: 'local', passwordDigest: BCRYPT } },
    ],
    rooms: [
      {
        name: 'Board meetings', friendlyId: 'ada-k2p-9xq-m4z', meetingId: 'a'.repeat(40), lastSession: '2026-10-01T09:00:00Z', ownerEmail: 'ada@coop.example',
        settings: { record: true, muteOnStart: false, guestPolicy: 'ASK_MODERATOR', glViewerAccessCode: 'x7k2q1' },
        sharedWithEmails: ['bob@coop.example', 'Carol@Coop.example', 'dave@coop.example'],
      },
      { name: "Bob's Room", friendlyId: 'bob-abc-def-ghi', meetingId: 'b'.repeat(40), ownerEmail: 'bob@coop.example', settings: {}, sharedWithEmails: [] },
      { name: 'Choir', friendlyId: 'car-123-456-789', meetingId: 'c'.repeat(40), ownerEmail: 'Carol@Coop.example', settings: {}, sharedWithEmails: ['eve@other-org.example'] },
      { name: "Dave's Room", friendlyId: 'dav-000-111-222', meetingId: 'd'.repeat(40), ownerEmail: 'dave@coop.example', settings: {}, sharedWithEmails: ['ada@coop.example'] },
    ],
    settings: { siteSettings: { PrimaryColor: '#112233', ShareRooms: true }, roomsConfigurations: { record: 'default_enabled', glRequireAuthentication: 'true' } },
    objectorEmails: ['DAVE@coop.example'],
  };
}

const target = (gl: GreenlightDouble) => ({ baseUrl: gl.url, secretKeyBase: SKB, provider: 'greenlight' });
const outcomes = (results: ObjectResult[]) => Object.fromEntries(results.map((r) => [`${r.kind}:${r.ref}`, r.outcome]));
const posts = (gl: GreenlightDouble) => gl.requests.filter((r) => r.method === 'POST').length;

let gl: GreenlightDouble | undefined;
afterEach(async () => {
  await gl?.close();
  gl = undefined;
});

describe('import into a Greenlight v3', () => {
  it('moves roles, users, rooms with their links, settings and shares, and leaves the objector out', async () => {
    gl = await startGreenlight({ secretKeyBase: SKB });
    const report = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    expect(report.stopped).toBeUndefined();
    expect(outcomes(report.results)).toEqual({
      'role:Organiser': 'created', 'role:User': 'created',
      'user:acct-1': 'arrived', 'user:acct-2': 'arrived', 'user:acct-3': 'arrived',
      'room:ada-k2p-9xq-m4z': 'created', 'room:bob-abc-def-ghi': 'created', 'room:car-123-456-789': 'created',
      'settings:settings': 'created',
    });
    expect(report.left).toEqual({ users: 1, rooms: 1, shares: 2 }); // Dave, his room, the shares to Dave and to Eve (another organisation)

    const organiser = gl.roles.find((r) => r.name === 'Organiser')!;
    expect(Object.fromEntries(organiser.permissions)).toMatchObject({ CreateRoom: 'true', CanRecord: 'false', ManageRooms: 'true', RoomLimit: '100' }); // RoomLimit is not migratable
    expect(gl.roles.find((r) => r.name === 'User')!.permissions.get('ManageUsers')).toBe('true'); // untouched
    const ada = gl.userByEmail('ada@coop.example')!;
    expect(ada).toMatchObject({ password_digest: BCRYPT, external_id: null, role_id: organiser.id });
    expect(gl.userByEmail('bob@coop.example')).toMatchObject({ external_id: 'sub-bob-7f3a', password_digest: null });
    expect(gl.userByEmail('Carol@Coop.example')).toBeDefined();
    expect(gl.userByEmail('dave@coop.example')).toBeUndefined();
    expect(gl.roomByFriendlyId('dav-000-111-222')).toBeUndefined();

    const board = gl.roomByFriendlyId('ada-k2p-9xq-m4z')!;
    expect(board).toMatchObject({ meeting_id: 'a'.repeat(40), user_id: ada.id, last_session: '2026-10-01T09:00:00Z' });
    expect(Object.fromEntries(board.settings)).toMatchObject({ record: 'true', muteOnStart: 'false', guestPolicy: 'ASK_MODERATOR', glViewerAccessCode: 'x7k2q1' });
    const sharedWith = board.shared_user_ids.map((id) => gl!.users.find((u) => u.id === id)!.email).sort();
    expect(sharedWith).toEqual(['Carol@Coop.example', 'bob@coop.example']);
    expect(gl.roomByFriendlyId('car-123-456-789')!.shared_user_ids).toEqual([]);
    expect(gl.siteSettings.get('greenlight')!.get('ShareRooms')).toBe('true');
    expect(gl.roomsConfigurations.get('greenlight')!.get('glRequireAuthentication')).toBe('true');

    // The room link members sent out resolves at the new host.
    const page = await outbound.fetch(`${gl.url}/api/v1/rooms/ada-k2p-9xq-m4z/public.json`, { headers: { accept: 'application/json' } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { data: { owner_name: string } }).data.owner_name).toBe('Ada Lovelace');
  });

  it('sends nothing new when run again, and creates nothing twice even without its ledger', async () => {
    gl = await startGreenlight({ secretKeyBase: SKB });
    const ledger = memoryLedger();
    await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger });
    const before = { posts: posts(gl), users: gl.users.length, rooms: gl.rooms.length, roles: gl.roles.length };

    const again = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger });
    expect(posts(gl)).toBe(before.posts);
    expect(new Set(again.results.map((r) => r.outcome))).toEqual(new Set(['already-there']));

    // A restarted process that lost its ledger: Greenlight's answers to re-sends (201, or 400 for a
    // mixed-case e-mail and for shares) do not turn into duplicates or failures.
    const fresh = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    expect(fresh.results.filter((r) => r.outcome === 'failed' || r.outcome === 'refused')).toEqual([]);
    expect(outcomes(fresh.results)).toMatchObject({ 'user:acct-3': 'already-there', 'room:ada-k2p-9xq-m4z': 'already-there' });
    expect({ users: gl.users.length, rooms: gl.rooms.length, roles: gl.roles.length }).toEqual({ users: before.users, rooms: before.rooms, roles: before.roles });
    expect(gl.roomByFriendlyId('ada-k2p-9xq-m4z')!.shared_user_ids).toHaveLength(2);
  });

  it('completes the shares of a room an interrupted run left half done', async () => {
    gl = await startGreenlight({ secretKeyBase: SKB });
    await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    const board = gl.roomByFriendlyId('ada-k2p-9xq-m4z')!;
    board.shared_user_ids.pop();
    const again = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    expect(outcomes(again.results)['room:ada-k2p-9xq-m4z']).toBe('already-there');
    expect(board.shared_user_ids).toHaveLength(2);
  });

  it("refuses a friendly_id that is another room's at the target, and a meeting_id already used", async () => {
    gl = await startGreenlight({ secretKeyBase: SKB });
    const zoe = gl.addUser({ name: 'Zoe', email: 'zoe@target.example' });
    const hers = gl.addRoom({ name: 'Zoe room', friendly_id: 'ada-k2p-9xq-m4z', meeting_id: 'z'.repeat(40), owner: zoe });
    gl.addRoom({ name: 'Another', friendly_id: 'zzz-zzz-zzz-zzz', meeting_id: 'b'.repeat(40), owner: zoe });

    const report = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    const byRef = Object.fromEntries(report.results.map((r) => [r.ref, r]));
    expect(byRef['ada-k2p-9xq-m4z']).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/another room/) });
    expect(byRef['bob-abc-def-ghi']).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/Meeting has already been taken/) });
    expect(byRef['car-123-456-789']!.outcome).toBe('created');
    // Zoe's room was not touched: no settings, no shares from the import.
    expect(hers).toMatchObject({ user_id: zoe.id, shared_user_ids: [] });
    expect(hers.settings.get('record')).toBe('false');
  });

  it('corrects for a target clock that runs ahead, from its Date header', async () => {
    gl = await startGreenlight({ secretKeyBase: SKB, now: () => new Date(Date.now() + 60_000) });
    const report = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    expect(report.stopped).toBeUndefined();
    expect(gl.roomByFriendlyId('ada-k2p-9xq-m4z')).toBeDefined();
  });

  it('stops at the first refused message when the key is wrong or the message expired, having created nothing', async () => {
    for (const setup of [
      { secretKeyBase: SKB, now: () => new Date(Date.now() + 60_000), dateHeader: false }, // expired on arrival
      { secretKeyBase: 'f'.repeat(128) }, // another Greenlight's key
    ]) {
      gl = await startGreenlight(setup);
      const report = await importToGreenlight(target(gl), plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
      expect(report.stopped).toMatch(/wrong SECRET_KEY_BASE, or its clock is more than 10 s ahead/);
      expect(report.results).toEqual([]);
      expect(gl.requests.filter((r) => r.method === 'POST')).toEqual([{ method: 'POST', path: '/api/v1/migrations/roles.json', status: 400 }]);
      expect(gl.users).toEqual([]);
      await gl.close();
      gl = undefined;
    }
  });
});

describe('import into a multi-tenant Greenlight', () => {
  it("sends the tenant as provider, and reports a room whose friendly_id another tenant holds instead of calling it moved", async () => {
    gl = await startGreenlight({ secretKeyBase: SKB, tenants: ['north', 'south'], currentProvider: 'north' });
    const other = gl.addUser({ name: 'Sam', email: 'sam@south.example', provider: 'south' });
    gl.addRoom({ name: 'South room', friendly_id: 'bob-abc-def-ghi', meeting_id: 's'.repeat(40), owner: other });
    const report = await importToGreenlight({ ...target(gl), provider: 'north' }, plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
    expect(gl.userByEmail('ada@coop.example', 'north')).toBeDefined();
    expect(gl.roomByFriendlyId('ada-k2p-9xq-m4z')!.user_id).toBe(gl.userByEmail('ada@coop.example', 'north')!.id);
    expect(report.results.find((r) => r.ref === 'bob-abc-def-ghi')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/does not resolve/) });
  });
});
