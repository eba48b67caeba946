// Gateway targets and placements, principals and their facts are cached per process (server/cache): a
// change made through one meetplane process, or straight in the database, must reach the
// gateway and the REST API of another process on the same PostgreSQL within 1 s. Two `meetplane serve` children (A and B)
// share one database; B has answered for the tenancy just before each change (so its
// target is cached), and both run with a 60 s cache max age, so only the change notice
// can make B see the change in time. PostgreSQL only: an in-memory PGlite serves one process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient, BbbError } from '../../server/bbb/client.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, TEST_OUTBOUND_ALLOW, type TestServer } from '../support/server.js';
import { backend } from '../support/db.js';
import { serveCli } from '../support/cli.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';

const postgres = backend() === 'postgres';
const SECRET_A = 'cross-a-secret-0123456789';
const SECRET_B = 'cross-b-secret-9876543210';
const WITHIN_MS = 1000;

let s: TestServer;
let dirA: string;
let dirB: string;
let bbbA: BbbDouble;
let bbbB: BbbDouble;
let coop: { id: string };
let clusterA: { id: string };
let clusterB: { id: string };
const children: ChildProcess[] = [];
let procA: string;
let procB: string;

beforeAll(async () => {
  if (!postgres) return;
  dirA = await mkdtemp(join(tmpdir(), 'gw-x-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'gw-x-b-'));
  bbbA = await startBbbDouble({ secret: SECRET_A, algorithm: 'sha256', recordingsDir: dirA });
  bbbB = await startBbbDouble({ secret: SECRET_B, algorithm: 'sha256', recordingsDir: dirB });
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  clusterA = await createCluster(s, coop.id, { apiUrl: bbbA.url, secret: SECRET_A, checksumAlgorithm: 'sha256' });
  clusterB = await createCluster(s, coop.id, { apiUrl: bbbB.url, secret: SECRET_B, checksumAlgorithm: 'sha256' });
  const env = {
    DATABASE_URL: s.database.url!,
    MASTER_KEY: s.masterKey,
    DATA_DIR: s.dataDir,
    WORKER: 'off',
    OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    CACHE_MAX_AGE_MS: '60000',
  };
  const [a, b] = await Promise.all([serveCli(env), serveCli(env)]);
  children.push(a!.child, b!.child);
  procA = a!.url;
  procB = b!.url;
}, 60_000);

afterAll(async () => {
  for (const child of children) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await s?.stop();
  await bbbA?.close();
  await bbbB?.close();
  if (dirA) await rm(dirA, { recursive: true, force: true });
  if (dirB) await rm(dirB, { recursive: true, force: true });
});

const clientOn = (proc: string, t: { slug: string }, secret: string) =>
  new BbbClient({ apiUrl: `${proc}/t/${t.slug}/bigbluebutton/api`, secret, algorithm: 'sha256', retries: 0, fetch });

/** Calls `attempt` until it answers true; the milliseconds from `since` that took, or Infinity after 5 s. */
async function msUntil(since: number, attempt: () => Promise<boolean>): Promise<number> {
  while (performance.now() - since < 5000) {
    if (await attempt()) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

/** A change made on process A, through its API. */
async function onA(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(procA + path, {
    method,
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown>, etag: res.headers.get('etag') };
}

describe.skipIf(!postgres)('a change on one meetplane process, seen by the gateway of another', () => {
  it('a tenancy frozen in the database refuses create on the other process within 1 s', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const onB = clientOn(procB, t, t.bbbSecret);
    await onB.create({ meetingID: 'x-freeze-0', name: 'Before' });
    await s.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${t.id}`);
    const since = performance.now();
    let n = 0;
    const ms = await msUntil(since, async () => {
      const err = await onB.create({ meetingID: `x-freeze-${++n}`, name: 'After' }).then(() => undefined, (e: unknown) => e);
      return err instanceof BbbError && err.messageKey === 'tenancyFrozen';
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it("a tenancy switched to another cluster on process A has its next create on the new cluster, through process B, within 1 s", async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const onB = clientOn(procB, t, t.bbbSecret);
    await onB.create({ meetingID: 'x-move-0', name: 'Before' });
    expect(bbbA.meetings.has('x-move-0')).toBe(true);
    const { etag } = await onA('GET', `/api/v1/tenancies/${t.id}`);
    const patched = await onA('PATCH', `/api/v1/tenancies/${t.id}`, { cluster: clusterB.id }, { 'if-match': etag! });
    expect(patched.status).toBe(200);
    const since = performance.now();
    let n = 0;
    const ms = await msUntil(since, async () => {
      const id = `x-move-${++n}`;
      await onB.create({ meetingID: id, name: 'After' });
      return bbbB.meetings.has(id);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it("a cluster pointed at another server with another secret on process A gets process B's next call within 1 s", async () => {
    // A cluster of its own: the others stay where they are for the other tests.
    const cluster = await createCluster(s, coop.id, { apiUrl: bbbA.url, secret: SECRET_A, checksumAlgorithm: 'sha256' });
    const t = await createTenancy(s, coop.id, cluster.id);
    const onB = clientOn(procB, t, t.bbbSecret);
    await onB.create({ meetingID: 'x-repointed-0', name: 'Before' });
    expect(bbbA.meetings.has('x-repointed-0')).toBe(true);
    const { etag } = await onA('GET', `/api/v1/clusters/${cluster.id}`);
    const patched = await onA('PATCH', `/api/v1/clusters/${cluster.id}`, { apiUrl: bbbB.url, secret: SECRET_B }, { 'if-match': etag! });
    expect(patched.status).toBe(200);
    const since = performance.now();
    let n = 0;
    const ms = await msUntil(since, async () => {
      const id = `x-repointed-${++n}`;
      // Signed with the old secret, the new server refuses it: only a create it accepts counts.
      await onB.create({ meetingID: id, name: 'After' }).catch(() => undefined);
      return bbbB.meetings.has(id);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it('a tenancy secret rotated on process A is required by process B within 1 s', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const old = clientOn(procB, t, t.bbbSecret);
    await old.getMeetings();
    const { etag } = await onA('GET', `/api/v1/tenancies/${t.id}`);
    const rotated = await onA('POST', `/api/v1/tenancies/${t.id}/rotate-secret`, undefined, { 'if-match': etag! });
    expect(rotated.status).toBe(200);
    const since = performance.now();
    const ms = await msUntil(since, async () => {
      const err = await old.getMeetings().then(() => undefined, (e: unknown) => e);
      return err instanceof BbbError && err.messageKey === 'checksumError';
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    // And the new secret is accepted there.
    await expect(clientOn(procB, t, rotated.json['bbbSecret'] as string).getMeetings()).resolves.toBeDefined();
  });
});

/** What B answers to getMeetingInfo: 'running', or the messageKey of its refusal. */
const meetingInfoOn = (client: BbbClient, meetingID: string) =>
  client.getMeetingInfo(meetingID).then(
    () => 'running',
    (e: unknown) => (e instanceof BbbError ? e.messageKey : String(e)),
  );

// Where a tenancy's meetings are (rooms) is cached too, retired by the rooms notice (migration 0042).
describe.skipIf(!postgres)("a change to where a tenancy's meetings are, seen by the gateway of another process", () => {
  it("a room removed from the tenancy in the database is no longer the tenancy's on the other process within 1 s", async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const onB = clientOn(procB, t, t.bbbSecret);
    await onB.create({ meetingID: 'x-room-gone', name: 'Room' });
    expect(await meetingInfoOn(onB, 'x-room-gone')).toBe('running');
    expect(await meetingInfoOn(onB, 'x-room-gone')).toBe('running');
    await s.database.db.execute(sql`delete from rooms where tenancy_id = ${t.id} and meeting_id = 'x-room-gone'`);
    const ms = await msUntil(performance.now(), async () => (await meetingInfoOn(onB, 'x-room-gone')) === 'notFound');
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it('a meeting left on its former cluster and ended through process A is not looked for there by process B a second later', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const onB = clientOn(procB, t, t.bbbSecret);
    await onB.create({ meetingID: 'x-ended', name: 'Room' });
    const { etag } = await onA('GET', `/api/v1/tenancies/${t.id}`);
    expect((await onA('PATCH', `/api/v1/tenancies/${t.id}`, { cluster: clusterB.id }, { 'if-match': etag! })).status).toBe(200);
    // B reads where the meeting is: still on A's cluster, where it runs.
    expect(await meetingInfoOn(onB, 'x-ended')).toBe('running');
    await clientOn(procA, t, t.bbbSecret).end('x-ended');
    await new Promise((r) => setTimeout(r, WITHIN_MS));
    const asked = bbbA.requests.length;
    expect(await meetingInfoOn(onB, 'x-ended')).toBe('notFound');
    expect(bbbA.requests.slice(asked)).toEqual([]);
  });
});

/** GET on process B with a bearer token: the status it answers. */
const statusOnB = async (path: string, token: string) => (await fetch(procB + path, { headers: { authorization: `Bearer ${token}` } })).status;

/** B answered 200 just before the change (so what it read is cached); after it, B must refuse within 1 s. */
async function refusedOnBWithin(path: string, token: string, change: () => Promise<void>) {
  expect(await statusOnB(path, token)).toBe(200);
  expect(await statusOnB(path, token)).toBe(200);
  await change();
  const since = performance.now();
  return msUntil(since, async () => (await statusOnB(path, token)) !== 200);
}

describe.skipIf(!postgres)('a change of who may do what on one meetplane process, seen by the REST API of another', () => {
  it("a revoked grant stops its holder's reads on the other process within 1 s", async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const admin = await coopAdminWithToken(s, coop.id);
    const [grant] = (await s.api('GET', `/api/v1/grants?account=${admin.accountId}&active=true`)).json.items;
    const ms = await refusedOnBWithin(`/api/v1/tenancies/${t.id}`, admin.token, async () => {
      const { etag } = await onA('GET', `/api/v1/grants/${grant.id}`);
      expect((await onA('POST', `/api/v1/grants/${grant.id}/revoke`, { reason: 'left the co-op' }, { 'if-match': etag! })).status).toBe(200);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it('a removed membership stops the member on the other process within 1 s', async () => {
    const t = await createTenancy(s, coop.id, clusterA.id);
    const owner = await memberWithToken(s, coop.id);
    expect((await onA('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { role: 'owner' })).status).toBe(204);
    const ms = await refusedOnBWithin(`/api/v1/tenancies/${t.id}`, owner.token, async () => {
      expect((await onA('DELETE', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`)).status).toBe(204);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it('a revoked personal access token is refused on the other process within 1 s', async () => {
    const who = await memberWithToken(s, coop.id);
    const [pat] = (await s.api('GET', '/api/v1/tokens', { token: who.token })).json.items;
    const ms = await refusedOnBWithin('/api/v1/tokens', who.token, async () => {
      const res = await fetch(`${procA}/api/v1/tokens/${pat.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${who.token}` } });
      expect(res.status).toBe(204);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it("a suspended account's token is refused on the other process within 1 s, also when suspended straight in the database", async () => {
    const viaApi = await memberWithToken(s, coop.id);
    let ms = await refusedOnBWithin('/api/v1/tokens', viaApi.token, async () => {
      const { etag } = await onA('GET', `/api/v1/accounts/${viaApi.accountId}`);
      expect((await onA('POST', `/api/v1/accounts/${viaApi.accountId}/suspend`, { reason: 'left' }, { 'if-match': etag! })).status).toBe(200);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    const bySql = await memberWithToken(s, coop.id);
    ms = await refusedOnBWithin('/api/v1/tokens', bySql.token, async () => {
      await s.database.db.execute(sql`update accounts set suspended_at = now() where id = ${bySql.accountId}`);
    });
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });
});
