// A platform hand-over moves a tenancy with its Greenlight: the plan maps the
// source co-op's Greenlight to the target co-op's (a plan that leaves a
// readable Greenlight unmapped is refused, naming it), the tenancy's transfer
// carries the mapping, the owner's acceptance starts the notice with each
// member's rooms listed, and the wave's run leaves the rooms at the target.
// PostgreSQL only: the source Greenlight's database is a real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/db.js';
import type { GreenlightDouble } from '../support/greenlight.js';
import { startGreenlightWorld, type GreenlightWorld } from './world.js';
import { createTenancy } from '../support/fixtures.js';
import { deliverOutbox, transferEtag } from '../support/transfers.js';
import type { World } from '../transfers/world.js';

const SKB = 'handover'.repeat(4) + 'h'.repeat(96);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

describe.skipIf(backend() !== 'postgres')("a hand-over moves the members' Greenlight", () => {
  let world: GreenlightWorld;
  let w: World;
  let target: GreenlightDouble;

  beforeAll(async () => {
    world = await startGreenlightWorld(SKB);
    ({ w, target } = world);
    expect((await w.s.api('PUT', `/api/v1/coops/${w.de.id}/greenlights/no-key`, { body: { baseUrl: 'https://rooms.new.example', version: 'v3' }, token: w.targetAdmin.token })).status).toBe(201);
  }, 120_000);
  afterAll(async () => world?.close());

  it("maps the source co-op's Greenlight to the target's, and the wave's run leaves the tenancy's rooms there", async () => {
    const t = await createTenancy(w.s, w.uk.id, w.ukCluster.id, { name: 'Choir', retentionDays: 3650 });
    const people: Array<{ accountId: string; token: string }> = [];
    for (const [i, email] of ['erin@rowing.example', 'frank@rowing.example'].entries()) {
      const acc = await w.s.api('POST', '/api/v1/accounts', { body: { email, name: email.split('@')[0], coop: w.uk.id } });
      const { issueToken } = await import('../../server/accounts/service.js');
      const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
      people.push({ accountId: acc.json.id, token: (await issueToken(w.s.database.db, LOCAL_OPERATOR, acc.json.id, 'test', null)).token });
      await w.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${acc.json.id}`, { body: { role: i === 0 ? 'owner' : 'member' } });
    }
    const current = await w.s.api('GET', `/api/v1/tenancies/${t.id}`);
    expect((await w.s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body: { greenlight: 'old-rooms' }, headers: { 'if-match': current.headers.get('etag')! } })).status).toBe(200);

    const plan = (greenlights?: unknown) => ({
      name: 'Rowing hand-over',
      sourceCoop: w.uk.id,
      targetCoop: w.de.id,
      clusters: [{ cluster: w.ukCluster.id, mode: 'data-move', targetCluster: w.deCluster.id }],
      noticeDays: 0,
      announceAt: iso(0),
      waves: [{ freezeFrom: iso(1_000), freezeUntil: iso(HOUR), concurrency: 1 }],
      cutoverAt: iso(2 * HOUR),
      decommissionAt: iso(20 * HOUR),
      agreement: { documentSha256: 'b'.repeat(64), signedOn: '2026-01-01' },
      runWaves: 'by-hand',
      ...(greenlights ? { greenlights } : {}),
    });
    // Unmapped, mapped to a Greenlight that cannot receive, or to another co-op's: refused, naming what to fix.
    const unmapped = await w.s.api('POST', '/api/v1/handovers', { token: w.sourceAdmin.token, body: plan() });
    expect(unmapped.status).toBe(400);
    expect(unmapped.json.errors).toEqual([{ path: 'greenlights', message: expect.stringContaining('use the Greenlight "old-rooms"') }]);
    const noKey = await w.s.api('POST', '/api/v1/handovers', { token: w.sourceAdmin.token, body: plan([{ source: 'old-rooms', target: 'no-key' }]) });
    expect(noKey.json.errors).toEqual([{ path: 'greenlights.0.target', message: expect.stringContaining('SECRET_KEY_BASE is not set') }]);
    const backwards = await w.s.api('POST', '/api/v1/handovers', { token: w.sourceAdmin.token, body: plan([{ source: 'new-rooms', target: 'old-rooms' }]) });
    expect(backwards.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['greenlights.0.source', 'greenlights.0.target']);

    const created = await w.s.api('POST', '/api/v1/handovers', { token: w.sourceAdmin.token, body: plan([{ source: 'old-rooms', target: 'new-rooms' }]) });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    expect(created.json.greenlights).toEqual([{ sourceId: expect.any(String), targetId: expect.any(String) }]);
    const act = async (action: string, token: string, body: unknown) => {
      const etag = (await w.s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')!;
      return w.s.api('POST', `/api/v1/handovers/${id}/${action}`, { token, body, headers: { 'if-match': etag } });
    };
    expect((await act('approve', w.sourceAdmin.token, { as: 'source_admin' })).status).toBe(200);
    expect((await act('approve', w.targetAdmin.token, { as: 'target_admin' })).json.state).toBe('approved');
    const transferId = (await w.s.api('GET', `/api/v1/handovers/${id}/status`)).json.tenancies[0].transferId as string;
    const accepted = await w.s.api('POST', `/api/v1/handovers/${id}/tenancies/${t.id}/answer`, { token: people[0]!.token, body: { answer: 'accept' }, headers: { 'if-match': await transferEtag(w.s, transferId) } });
    expect(accepted.status, accepted.text).toBe(200);
    // The notice lists the owner's own room with its new link.
    await deliverOutbox(w.s.database.db, w.smtp);
    const notice = w.smtp.mails.find((m) => m.to.includes('erin@rowing.example') && m.text.includes(`/me/transfers/${transferId}`));
    expect(notice?.text).toContain(`Regatta: ${target.url}/rooms/eri-z1x-c2v-b3n/join`);

    await new Promise((r) => setTimeout(r, 1_100)); // the wave's window opens
    const run = await w.s.api('POST', `/api/v1/handovers/${id}/waves/1/run`, { token: w.sourceAdmin.token, headers: { 'if-match': (await w.s.api('GET', `/api/v1/handovers/${id}`)).headers.get('etag')! } });
    expect(run.status, run.text).toBe(200);
    expect((await w.s.api('GET', `/api/v1/transfers/${transferId}`)).json).toMatchObject({ state: 'completed', greenlight: { imported: { roomsResolving: 2 } } });
    expect(target.rooms.map((r) => r.friendly_id).sort()).toEqual(['eri-z1x-c2v-b3n', 'fra-a5s-d6f-g7h']);
    expect(target.users.map((u) => u.email).sort()).toEqual(['erin@rowing.example', 'frank@rowing.example']);
  }, 240_000);
});
