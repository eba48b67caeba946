// Forwarding after a move: a tenancy switched out to another meetplane instance keeps
// answering at this instance's gateway for a grace period, its calls passed on to the
// target's gateway re-signed with the target's secret. A BBB double stands for the
// target's gateway: it checks every checksum with the target's secret, so a call
// re-signed wrongly fails there. The front end is a real BBB client that only knows
// the tenancy's gateway URL here and the tenancy's secret.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { SignJWT } from 'jose';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient, BbbError } from '../../server/bbb/client.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { changeFeed } from '../../server/cache/change-feed.js';
import { Outbound } from '../../server/net/outbound.js';
import { rowsOf } from '../../server/db/index.js';
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { cancelForwarding, forwardSecretLabel, startForwarding, stopForwarding, type ForwardInput } from '../../server/forwarding/service.js';
import { uuidv7 } from '../../server/ids.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { backend } from '../support/db.js';
import { serveCli } from '../support/cli.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const SOURCE_SECRET = 'source-cluster-secret-0123456789';
const TARGET_SECRET = 'target-tenancy-secret-9876543210';
const HOUR = 3600_000;

let s: TestServer;
let dirs: string[] = [];
let sourceBbb: BbbDouble;
/** stands for the target instance's gateway for the moved tenancies */
let target: BbbDouble;
/** a server on a loopback address the instance's outbound policy refuses (127.0.0.2): it must never be called */
let refused: Server;
let refusedHits = 0;
let refusedUrl: string;
let box: SecretBox;
let coop: { id: string };
let cluster: { id: string };

type Tenancy = { id: string; slug: string; bbbSecret: string };
const clientFor = (t: Tenancy, secret = t.bbbSecret) =>
  new BbbClient({ apiUrl: `${s.url}/t/${t.slug}/bigbluebutton/api`, secret, algorithm: 'sha256', retries: 0, fetch });

/** What the switch to another instance does, as the transfer lifecycle calls it; the server's caches are told at once. */
async function move(t: Tenancy, over: Partial<ForwardInput> = {}) {
  await s.database.db.transaction((tx) =>
    startForwarding(tx, { box, outbound: s.outbound, actor: LOCAL_OPERATOR }, {
      tenancyId: t.id,
      transferId: uuidv7(),
      peer: 'https://target.example',
      gatewayUrl: target.url,
      secret: TARGET_SECRET,
      until: new Date(Date.now() + HOUR),
      ...over,
    }),
  );
  // The database's notice reaches this process a moment after the commit; the test's next call must not race it.
  changeFeed(s.database.db).bump('tenancy_forwards');
}

const calls = (bbb: BbbDouble) => bbb.requests.length;

beforeAll(async () => {
  dirs = await Promise.all([mkdtemp(join(tmpdir(), 'fw-src-')), mkdtemp(join(tmpdir(), 'fw-tgt-'))]);
  sourceBbb = await startBbbDouble({ secret: SOURCE_SECRET, recordingsDir: dirs[0]! });
  target = await startBbbDouble({ secret: TARGET_SECRET, recordingsDir: dirs[1]! });
  refused = createServer((_req, res) => {
    refusedHits++;
    res.end('<response><returncode>SUCCESS</returncode></response>');
  });
  await new Promise<void>((ok) => refused.listen(0, '127.0.0.2', ok));
  refusedUrl = `http://127.0.0.2:${(refused.address() as AddressInfo).port}/bigbluebutton/api`;
  // Loopback as in the other tests, but only 127.0.0.1: 127.0.0.2 is an address the policy refuses.
  s = await startTestServer({ WORKER: 'off', OUTBOUND_ALLOW: '127.0.0.1/32' });
  box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
  coop = await createCoop(s);
  cluster = await createCluster(s, coop.id, { apiUrl: sourceBbb.url, secret: SOURCE_SECRET, checksumAlgorithm: 'sha256' });
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await sourceBbb?.close();
  await target?.close();
  await new Promise((r) => refused?.close(r));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a tenancy moved to another instance, within its grace period', () => {
  it("passes create, join and getMeetings on to the target's gateway, re-signed with the target's secret, and its answers back", async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t);
    const client = clientFor(t);

    const created = await client.create({ meetingID: 'fw-room', name: 'Moved room' });
    expect(created.meetingID).toBe('fw-room');
    // The target's gateway has it (its double checked the checksum with the target's secret); the source cluster never heard of it.
    expect(target.meetings.get('fw-room')?.name).toBe('Moved room');
    expect(sourceBbb.meetings.has('fw-room')).toBe(false);
    const sent = target.requests.at(-1)!;
    expect(sent.call).toBe('create');
    // The front end's parameters as it signed them; only the checksum differs.
    expect(new URLSearchParams(sent.query).get('meetingID')).toBe('fw-room');
    expect(sent.query).not.toContain(t.bbbSecret);

    // POST create with a <modules> body: the body and its type reach the target.
    const modules = '<modules><module name="presentation"><document url="https://files.example/slides.pdf" filename="slides.pdf"/></module></modules>';
    await client.create({ meetingID: 'fw-slides', name: 'With slides' }, { presentationXml: modules });
    expect(target.meetings.get('fw-slides')?.presentations).toEqual(['slides.pdf']);
    expect(target.requests.at(-1)).toMatchObject({ method: 'POST', call: 'create' });

    // join: the target's redirect goes back to the browser unchanged.
    const join = await fetch(client.join({ meetingID: 'fw-room', fullName: 'Ada', role: 'MODERATOR' }), { redirect: 'manual' });
    expect(join.status).toBe(302);
    const location = join.headers.get('location')!;
    expect(new URL(location).origin).toBe(target.origin);
    expect(target.meetings.get('fw-room')!.attendees.map((a) => a.fullName)).toContain('Ada');

    const meetings = await client.getMeetings();
    expect(meetings.map((m) => m.meetingID).sort()).toEqual(['fw-room', 'fw-slides']);
    expect(sourceBbb.requests.filter((r) => r.call !== '')).toHaveLength(0);

    // Counted as forwarded, under the tenancy's slug.
    const metrics = (await s.api('GET', '/metrics', { token: null })).text;
    expect(metrics).toMatch(new RegExp(`^meetplane_gateway_calls_total\\{tenancy="${t.slug}",call="create",outcome="forwarded"\\} 2$`, 'm'));
  });

  it("a forward made with another secret than the target's fails at the target: the double really checks", async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t, { secret: 'not-the-target-secret-000000' });
    const err = await clientFor(t).create({ meetingID: 'fw-wrong-secret', name: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BbbError);
    expect((err as BbbError).messageKey).toBe('checksumError');
    expect(target.meetings.has('fw-wrong-secret')).toBe(false);
  });

  it('refuses a call with a wrong checksum as before, and forwards nothing', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t);
    const before = calls(target);
    // Signed with the target's secret (a front end cannot skip the source's check with it) and with a guess.
    for (const secret of [TARGET_SECRET, 'a-guessed-secret-0000000000']) {
      const err = await clientFor(t, secret).create({ meetingID: 'fw-forged', name: 'x' }).catch((e: unknown) => e);
      expect((err as BbbError).messageKey).toBe('checksumError');
    }
    const join = await fetch(clientFor(t, 'a-guessed-secret-0000000000').join({ meetingID: 'fw-forged', fullName: 'Eve', role: 'MODERATOR' }), { redirect: 'manual' });
    expect(join.status).toBe(200);
    expect(await join.text()).toContain('checksumError');
    expect(calls(target)).toBe(before);
  });

  it("answers the target's recording-ready callbacks as for an unknown tenancy: nothing is relayed from here any more", async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t);
    const signed = await new SignJWT({ meeting_id: 'fw-room', record_id: 'r-1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SOURCE_SECRET));
    const post = (ref: string) =>
      fetch(`${s.url}/t/${ref}/bigbluebutton/recording-ready`, { method: 'POST', body: new URLSearchParams({ signed_parameters: signed }) });
    const moved = await post(t.id);
    const unknown = await post(uuidv7());
    expect([moved.status, await moved.text()]).toEqual([unknown.status, await unknown.text()]);
    expect(moved.status).toBe(401);
  });
});

describe('after the grace period', () => {
  it('answers FAILED tenancyMoved naming the new gateway URL, and calls nobody', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t, { until: new Date(Date.now() - 1000) });
    const before = calls(target);
    const err = await clientFor(t).getMeetings().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BbbError);
    expect((err as BbbError).messageKey).toBe('tenancyMoved');
    expect((err as BbbError).message).toContain(`now at ${target.url}`);
    expect(calls(target)).toBe(before);
  });

  it('stopForwarding ends it at once, audited', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t);
    await clientFor(t).create({ meetingID: 'fw-stop', name: 'Before the stop' });
    expect(await s.database.db.transaction((tx) => stopForwarding(tx, { actor: LOCAL_OPERATOR }, t.id))).toBe(true);
    changeFeed(s.database.db).bump('tenancy_forwards');
    const err = await clientFor(t).create({ meetingID: 'fw-stop-2', name: 'After' }).catch((e: unknown) => e);
    expect((err as BbbError).messageKey).toBe('tenancyMoved');
    expect(target.meetings.has('fw-stop-2')).toBe(false);
    // Stopped already: nothing more to stop.
    expect(await s.database.db.transaction((tx) => stopForwarding(tx, { actor: LOCAL_OPERATOR }, t.id))).toBe(false);
  });
});

describe('the tenancy moved', () => {
  it("is listed as moved, audited without the secret, and cannot be made active again here", async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    const transferId = uuidv7();
    await move(t, { transferId });
    // The same switch again changes nothing; another transfer cannot move it again.
    await move(t, { transferId });
    await expect(move(t)).rejects.toMatchObject({ status: 409 });
    const res = await s.api('GET', `/api/v1/tenancies/${t.id}`);
    expect(res.json.state).toBe('moved');
    await sequenceAudit(s.database.db);
    const entries = rowsOf<{ entry: Uint8Array }>(await s.database.db.execute(sql`select entry from audit_entries where subject_id = ${t.id} and action = 'tenancy.forward'`));
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    const text = Buffer.from(entry!.entry).toString();
    expect(JSON.parse(text)).toMatchObject({ after: { state: 'moved' }, details: { peer: 'https://target.example', gatewayUrl: target.url } });
    expect(text).not.toContain(TARGET_SECRET);
    const patched = await s.api('PATCH', `/api/v1/tenancies/${t.id}`, { body: { state: 'active' }, headers: { 'if-match': res.headers.get('etag')! } });
    expect(patched.status).toBe(409);
    expect(patched.json.type).toMatch(/tenancy-moved$/);
  });
});

describe('a switch rolled back', () => {
  it('cancelForwarding gives the tenancy back its state here: served by its own cluster, nothing forwarded', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await move(t);
    expect(await s.database.db.transaction((tx) => cancelForwarding(tx, { actor: LOCAL_OPERATOR }, { tenancyId: t.id, state: 'active' }))).toBe(true);
    changeFeed(s.database.db).bump('tenancy_forwards');
    const before = calls(target);
    await clientFor(t).create({ meetingID: 'fw-back', name: 'Back home' });
    expect(sourceBbb.meetings.has('fw-back')).toBe(true);
    expect(calls(target)).toBe(before);
    expect((await s.api('GET', `/api/v1/tenancies/${t.id}`)).json.state).toBe('active');
    // Not moved any more: nothing to cancel.
    expect(await s.database.db.transaction((tx) => cancelForwarding(tx, { actor: LOCAL_OPERATOR }, { tenancyId: t.id, state: 'active' }))).toBe(false);
  });
});

describe('gateway URLs', () => {
  it('refuses at the switch a URL the outbound policy refuses, or http where loopback is not allowed', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await expect(move(t, { gatewayUrl: refusedUrl })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('127.0.0.2') });
    const strict = new Outbound({ allow: [] });
    await expect(
      s.database.db.transaction((tx) =>
        startForwarding(tx, { box, outbound: strict, actor: LOCAL_OPERATOR }, { tenancyId: t.id, transferId: uuidv7(), peer: 'https://target.example', gatewayUrl: 'http://target.example/t/x/bigbluebutton/api', secret: TARGET_SECRET, until: new Date(Date.now() + HOUR) }),
      ),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('must be https') });
    expect((await s.api('GET', `/api/v1/tenancies/${t.id}`)).json.state).toBe('active');
  });

  it('never calls a stored URL the outbound policy refuses (the policy narrowed since): serverUnavailable', async () => {
    const t = await createTenancy(s, coop.id, cluster.id);
    await s.database.db.execute(sql`update tenancies set state = 'moved' where id = ${t.id}`);
    await s.database.db.execute(sql`insert into tenancy_forwards (tenancy_id, transfer_id, peer, gateway_url, secret_sealed, until)
      values (${t.id}, ${uuidv7()}, 'https://target.example', ${refusedUrl}, ${box.seal(TARGET_SECRET, forwardSecretLabel(t.id))}, ${new Date(Date.now() + HOUR).toISOString()})`);
    changeFeed(s.database.db).bump('tenancy_forwards');
    const err = await clientFor(t).getMeetings().catch((e: unknown) => e);
    expect((err as BbbError).messageKey).toBe('serverUnavailable');
    expect(refusedHits).toBe(0);
    expect(s.logs()).toMatch(/127\.0\.0\.2[^\n]*refused/);
    expect(s.logs()).not.toContain(TARGET_SECRET);
  });
});

// Another meetplane process on the same PostgreSQL sees the forward by the database's
// change notice alone (its caches kept 60 s otherwise). PGlite serves one process.
describe.skipIf(backend() !== 'postgres')('on another meetplane process', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (!child) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('forwards within 1 s of the switch, and stops within 1 s of an early stop', async () => {
    const served = await serveCli({ DATABASE_URL: s.database.url!, MASTER_KEY: s.masterKey, DATA_DIR: s.dataDir, WORKER: 'off', OUTBOUND_ALLOW: '127.0.0.1/32', CACHE_MAX_AGE_MS: '60000' });
    child = served.child;
    const t = await createTenancy(s, coop.id, cluster.id);
    const onOther = new BbbClient({ apiUrl: `${served.url}/t/${t.slug}/bigbluebutton/api`, secret: t.bbbSecret, algorithm: 'sha256', retries: 0, fetch });
    await onOther.create({ meetingID: 'fw-x-0', name: 'Before' });
    expect(sourceBbb.meetings.has('fw-x-0')).toBe(true);
    await move(t);
    const since = performance.now();
    let n = 0;
    let ms = Infinity;
    while (performance.now() - since < 5000) {
      const id = `fw-x-${++n}`;
      await onOther.create({ meetingID: id, name: 'After' });
      if (target.meetings.has(id)) {
        ms = performance.now() - since;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ms).toBeLessThanOrEqual(1000);

    // A forward stopped early (only the forward's row changes) stops there within 1 s too.
    await s.database.db.transaction((tx) => stopForwarding(tx, { actor: LOCAL_OPERATOR }, t.id));
    const stoppedAt = performance.now();
    ms = Infinity;
    while (performance.now() - stoppedAt < 5000) {
      const err = await onOther.getMeetings().then(() => undefined, (e: unknown) => e);
      if (err instanceof BbbError && err.messageKey === 'tenancyMoved') {
        ms = performance.now() - stoppedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ms).toBeLessThanOrEqual(1000);
  }, 60_000);
});
