// A co-op names its Greenlight front ends (REST): where each is, its version
// and provider, and two write-only secrets (a read-only database URL for a
// source Greenlight, the SECRET_KEY_BASE of a target one) that no answer,
// audit entry, error or log line shows. A tenancy names the front end its
// members use, one of its own co-op's; a transfer's switch leaves it naming
// none at the target (the front end stays the source co-op's) and a roll back
// gives it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceTransfer } from '../../server/transfers/execute.js';
import { armFailpoint } from '../../server/failpoints.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { openDatabaseUrl, openSecretKeyBase } from '../../server/greenlight/frontends.js';
import { coopAdminWithToken, createCoop } from '../support/fixtures.js';
import { startWorld, transferAction, transferInNotice, ukTenancy, type World } from '../transfers/world.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  armFailpoint(null);
  await w?.close();
});

const DB_URL = 'postgres://greenlight_ro:db-password-6f1c@gl.example.org/greenlight_production';
const KEY_BASE = 'f'.repeat(64) + 'secret-key-base-a1b2c3d4';

const put = (coop: string, slug: string, body: unknown, token?: string, etag?: string) =>
  w.s.api('PUT', `/api/v1/coops/${coop}/greenlights/${slug}`, { body, ...(token ? { token } : {}), ...(etag ? { headers: { 'if-match': etag } } : {}) });

describe("a co-op's Greenlight front ends", () => {
  it('are named with write-only secrets that no answer, audit entry or log line shows', async () => {
    const admin = w.sourceAdmin;
    const created = await put(w.uk.id, 'rooms', { baseUrl: 'https://rooms.old.example/', version: 'v3', databaseUrl: DB_URL, secretKeyBase: KEY_BASE }, admin.token);
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ slug: 'rooms', coopId: w.uk.id, baseUrl: 'https://rooms.old.example', version: 'v3', provider: 'greenlight', hasDatabaseUrl: true, hasSecretKeyBase: true });
    const list = await w.s.api('GET', `/api/v1/coops/${w.uk.id}/greenlights`, { token: admin.token });
    expect(list.json.items.map((g: { slug: string }) => g.slug)).toEqual(['rooms']);
    // Sealed, and opened only for the step that needs each.
    const box = new SecretBox(Buffer.from(w.s.masterKey, 'base64'));
    expect(await openDatabaseUrl(w.s.database.db, box, created.json.id)).toBe(DB_URL);
    expect(await openSecretKeyBase(w.s.database.db, box, created.json.id)).toBe(KEY_BASE);
    const audit = await w.s.api('GET', `/api/v1/audit/entries?action=greenlight.create`);
    expect(audit.json.items).toHaveLength(1);
    expect(audit.json.items[0].json.after).toMatchObject({ slug: 'rooms', databaseUrl: true, secretKeyBase: true });
    for (const text of [created.text, list.text, audit.text, w.s.logs()]) {
      expect(text).not.toContain('db-password-6f1c');
      expect(text).not.toContain('secret-key-base-a1b2c3d4');
    }
  });

  it('change only with their current version; a secret left out stays, null removes it', async () => {
    const admin = w.sourceAdmin;
    const body = { baseUrl: 'https://meet.old.example', version: 'v3', provider: 'old-coop' };
    expect((await put(w.uk.id, 'rooms', body, admin.token)).status).toBe(428);
    expect((await put(w.uk.id, 'rooms', body, admin.token, '"stale.1"')).status).toBe(412);
    const etag = (await w.s.api('GET', `/api/v1/coops/${w.uk.id}/greenlights`)).json.items[0].etag;
    const changed = await put(w.uk.id, 'rooms', { ...body, databaseUrl: null }, admin.token, etag);
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toMatchObject({ baseUrl: 'https://meet.old.example', provider: 'old-coop', hasDatabaseUrl: false, hasSecretKeyBase: true });
    const audit = (await w.s.api('GET', `/api/v1/audit/entries?action=greenlight.update`)).json.items[0].json;
    expect([audit.before.databaseUrl, audit.after.databaseUrl]).toEqual([true, false]);
  });

  it('refuse what is not a Greenlight without repeating a secret, and are not another co-op admin\'s to name', async () => {
    const bad = await put(w.uk.id, 'other', { baseUrl: 'ftp://rooms.example', databaseUrl: 'mysql://root:hunter2-pass@db/gl', secretKeyBase: 'short-key-hunter3' }, w.sourceAdmin.token);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['baseUrl', 'databaseUrl', 'secretKeyBase']);
    expect(bad.text).not.toContain('hunter2-pass');
    expect(bad.text).not.toContain('short-key-hunter3');
    expect((await put(w.uk.id, 'other', { baseUrl: 'https://x.example', extra: 1 }, w.sourceAdmin.token)).status).toBe(400);
    // The German co-op's admin cannot see the UK co-op's front ends, nor name one for it.
    expect((await w.s.api('GET', `/api/v1/coops/${w.uk.id}/greenlights`, { token: w.targetAdmin.token })).status).toBe(404);
    expect((await put(w.uk.id, 'theirs', { baseUrl: 'https://x.example' }, w.targetAdmin.token)).status).toBe(404);
  });

  it("is named by a tenancy of its co-op only, cannot be forgotten while named, and is not the target's after a switch (a roll back gives it back)", async () => {
    const t = await ukTenancy(w, 'Greenlight School');
    const tenancy = async () => w.s.api('GET', `/api/v1/tenancies/${t.id}`);
    const patch = async (body: unknown) => {
      const current = await tenancy();
      return w.s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body, headers: { 'if-match': current.headers.get('etag')! } });
    };
    // Another co-op's front end is refused by name.
    const other = await createCoop(w.s);
    const otherAdmin = await coopAdminWithToken(w.s, other.id);
    expect((await put(other.id, 'elsewhere', { baseUrl: 'https://elsewhere.example' }, otherAdmin.token)).status).toBe(201);
    const foreign = await patch({ greenlight: 'elsewhere' });
    expect(foreign.status).toBe(400);
    expect(foreign.json.errors).toEqual([{ path: 'greenlight', message: expect.stringContaining('no such Greenlight of the host co-op') }]);
    const named = await patch({ greenlight: 'rooms' });
    expect(named.status, named.text).toBe(200);
    const rooms = (await w.s.api('GET', `/api/v1/coops/${w.uk.id}/greenlights`)).json.items[0];
    expect(named.json.greenlight).toBe(rooms.id);
    const inUse = await w.s.api('DELETE', `/api/v1/coops/${w.uk.id}/greenlights/rooms`, { headers: { 'if-match': rooms.etag } });
    expect(inUse.status).toBe(409);
    expect(inUse.json.type).toBe('https://meetplane.org/problems/greenlight-in-use');

    // A transfer that fails after its switch and is rolled back: the tenancy names its front end again.
    // Its rooms are left behind on purpose (targetGreenlight: null): this front end's database is not a real one.
    const failing = await transferInNotice(w, t, { targetGreenlight: null });
    armFailpoint('throw:verify.listing');
    await advanceTransfer(w.deps, failing);
    armFailpoint(null);
    expect((await w.s.api('GET', `/api/v1/transfers/${failing}`)).json.state).toBe('failed');
    expect((await tenancy()).json).toMatchObject({ coopId: w.de.id, greenlight: null });
    const back = await transferAction(w, failing, 'resolve', { token: w.sourceAdmin.token, body: { direction: 'roll-back', reason: 'checking the front end first' } });
    expect(back.json.state, back.text).toBe('rolled_back');
    expect((await tenancy()).json).toMatchObject({ coopId: w.uk.id, greenlight: rooms.id });

    // A transfer that completes: at the German co-op the tenancy names no front end (the UK co-op's is not theirs).
    const id = await transferInNotice(w, t, { targetGreenlight: null });
    expect((await advanceTransfer(w.deps, id)).state).toBe('completed');
    expect((await tenancy()).json).toMatchObject({ coopId: w.de.id, greenlight: null });
    const forgotten = await w.s.api('DELETE', `/api/v1/coops/${w.uk.id}/greenlights/rooms`, { headers: { 'if-match': rooms.etag } });
    expect(forgotten.status, forgotten.text).toBe(204);
    expect((await w.s.api('GET', `/api/v1/coops/${w.uk.id}/greenlights`)).json.items).toEqual([]);
  }, 120_000);
});
