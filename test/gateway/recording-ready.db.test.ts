// The recording-ready callback as a front end (Greenlight) and bbb-web live it:
// bbb-web POSTs `signed_parameters`, an HS256 JWT made with the cluster's secret;
// meetplane checks it against the cluster the meeting ran on (or the tenancy's
// current one), queues the inventory refresh, and POSTs the same claims, signed
// with the tenancy's secret, as a form to the URL the front end gave at create.
// What each refusal answers, and what a front end that answers badly gets.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BbbClient } from '../../server/bbb/client.js';
import { findJob } from '../../server/jobs/queue.js';
import { uuidv7 } from '../../server/ids.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const SECRET_A = 'ready-cluster-a-secret-0123456789';
const SECRET_B = 'ready-cluster-b-secret-9876543210';

let s: TestServer;
let dirs: string[];
let bbbA: BbbDouble;
let bbbB: BbbDouble;
let coop: { id: string };
let clusterA: { id: string };
let clusterB: { id: string };

/** The front end: what it received, and the status it answers with next. */
let frontEnd: Server;
let frontEndUrl: string;
let received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
let answer = 200;

const bytes = (secret: string) => new TextEncoder().encode(secret);
/** What bbb-web's recording_ready_callback sends, signed with `secret` (HS256 unless told). */
const signed = (claims: Record<string, unknown>, secret: string, alg = 'HS256') => new SignJWT(claims).setProtectedHeader({ alg }).sign(bytes(secret));
const postReady = async (tenancyRef: string, form: Record<string, string>) => {
  const res = await fetch(`${s.url}/t/${tenancyRef}/bigbluebutton/recording-ready`, { method: 'POST', body: new URLSearchParams(form) });
  return [res.status, await res.text()] as const;
};

/** A tenancy on cluster A with a meeting whose front end asked for the callback at `url`. */
async function meetingWithCallback(url = frontEndUrl) {
  const t = await createTenancy(s, coop.id, clusterA.id);
  const meetingID = `ready-${Math.random().toString(36).slice(2, 10)}`;
  const client = new BbbClient({ apiUrl: `${s.url}/t/${t.slug}/bigbluebutton/api`, secret: t.bbbSecret, algorithm: 'sha256', retries: 0, fetch });
  await client.create({ meetingID, name: 'Recorded lesson', record: true, meta: { 'bbb-recording-ready-url': url } });
  return { t, meetingID };
}

beforeAll(async () => {
  dirs = [await mkdtemp(join(tmpdir(), 'ready-a-')), await mkdtemp(join(tmpdir(), 'ready-b-'))];
  bbbA = await startBbbDouble({ secret: SECRET_A, recordingsDir: dirs[0]! });
  bbbB = await startBbbDouble({ secret: SECRET_B, recordingsDir: dirs[1]! });
  frontEnd = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      if (answer >= 300 && answer < 400) res.setHeader('location', `${frontEndUrl}-elsewhere`);
      res.statusCode = answer;
      res.end(answer === 204 ? undefined : 'answered');
    });
  });
  await new Promise<void>((r) => frontEnd.listen(0, '127.0.0.1', () => r()));
  frontEndUrl = `http://127.0.0.1:${(frontEnd.address() as AddressInfo).port}/recording-ready`;
  s = await startTestServer({ WORKER: 'off' });
  coop = await createCoop(s);
  clusterA = await createCluster(s, coop.id, { apiUrl: bbbA.url, secret: SECRET_A });
  clusterB = await createCluster(s, coop.id, { apiUrl: bbbB.url, secret: SECRET_B });
});

afterAll(async () => {
  await s?.stop();
  await bbbA?.close();
  await bbbB?.close();
  await new Promise<void>((r) => frontEnd.close(() => r()));
  for (const dir of dirs ?? []) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
  answer = 200;
});

describe('a recording-ready callback relayed to the front end', () => {
  it("arrives as a form POST with only the meeting's and recording's ids, in an HS256 JWT of the tenancy's secret", async () => {
    const { t, meetingID } = await meetingWithCallback();
    const jwt = await signed({ meeting_id: meetingID, record_id: `${meetingID}-rec`, extra: 'not passed on' }, SECRET_A);
    expect(await postReady(t.id, { signed_parameters: jwt })).toEqual([200, 'OK']);
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call!.path).toBe('/recording-ready');
    // Rails (Greenlight) reads params from a form body only with this content type.
    expect(call!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const relayed = new URLSearchParams(call!.body).get('signed_parameters')!;
    expect(decodeProtectedHeader(relayed)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(relayed, bytes(t.bbbSecret), { algorithms: ['HS256'] });
    expect(payload).toEqual({ meeting_id: meetingID, record_id: `${meetingID}-rec` });
  });

  it('queues one inventory refresh of the tenancy per recording, however often the cluster calls', async () => {
    const { t, meetingID } = await meetingWithCallback();
    for (const recordId of ['rec-one', 'rec-one', 'rec-two'])
      expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: recordId }, SECRET_A) })).toEqual([200, 'OK']);
    for (const recordId of ['rec-one', 'rec-two'])
      expect(await findJob(s.database.db, `inventory.refresh:${t.id}:${recordId}`)).toMatchObject({ kind: 'inventory.refresh', payload: { tenancyId: t.id }, state: 'queued' });
  });

  it('of a meeting that ran on the former cluster is accepted with that cluster\'s signature after the tenancy moved cluster, and still with the current one\'s', async () => {
    const { t, meetingID } = await meetingWithCallback();
    const path = `/api/v1/tenancies/${t.id}`;
    const etag = (await s.api('GET', path)).headers.get('etag')!;
    expect((await s.api('PATCH', path, { body: { cluster: clusterB.id }, headers: { 'if-match': etag } })).status).toBe(200);

    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'from-a' }, SECRET_A) })).toEqual([200, 'OK']);
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'from-b' }, SECRET_B) })).toEqual([200, 'OK']);
    expect(received).toHaveLength(2);
    // Neither cluster's secret, nor the tenancy's own: refused, nothing relayed.
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'forged' }, 'some-other-secret-000000000') })).toEqual([401, 'signed_parameters is not signed by the cluster']);
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'forged' }, t.bbbSecret) })).toEqual([401, 'signed_parameters is not signed by the cluster']);
    expect(received).toHaveLength(2);
  });
});

describe('a recording-ready callback refused', () => {
  it('signed with the cluster\'s secret but another algorithm than bbb-web\'s HS256', async () => {
    const { t, meetingID } = await meetingWithCallback();
    for (const alg of ['HS384', 'HS512'])
      expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'r' }, SECRET_A, alg) })).toEqual([401, 'signed_parameters is not signed by the cluster']);
    expect(received).toEqual([]);
  });

  it('says what is wrong with what was sent, and relays nothing', async () => {
    const { t, meetingID } = await meetingWithCallback();
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 400, 'signed_parameters is missing'],
      [{ signed_parameters: 'not-a-jwt' }, 400, 'signed_parameters is not a JWT'],
      [{ signed_parameters: await signed({ meeting_id: meetingID }, SECRET_A) }, 400, 'meeting_id and record_id are required'],
      [{ signed_parameters: await signed({ meeting_id: meetingID, record_id: 42 }, SECRET_A) }, 400, 'meeting_id and record_id are required'],
      [{ signed_parameters: await signed({ meeting_id: 7, record_id: 'r' }, SECRET_A) }, 400, 'meeting_id and record_id are required'],
      [{ signed_parameters: await signed({ meeting_id: 'never-created', record_id: 'r' }, SECRET_A) }, 404, 'no such meeting for this tenancy'],
    ];
    for (const [form, status, text] of cases) expect(await postReady(t.id, form), JSON.stringify(form)).toEqual([status, text]);
    // An unknown tenancy answers as a wrong signature does: its name cannot be probed.
    expect(await postReady(uuidv7(), { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'r' }, SECRET_A) })).toEqual([401, 'signed_parameters is not signed by the cluster']);
    expect(received).toEqual([]);
  });
});

describe("the front end's answer", () => {
  it('any 2xx is delivered', async () => {
    const { t, meetingID } = await meetingWithCallback();
    answer = 204;
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'r' }, SECRET_A) })).toEqual([200, 'OK']);
  });

  it.each([300, 302, 404, 500])('%i is passed back to the cluster as 502, naming the status; a redirect is not followed', async (status) => {
    const { t, meetingID } = await meetingWithCallback();
    answer = status;
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'r' }, SECRET_A) })).toEqual([502, `the front end answered ${status}`]);
    expect(received.map((r) => r.path)).toEqual(['/recording-ready']);
  });

  it('no answer at all is 502, and the operator reads which host did not answer (not its path)', async () => {
    // A port nobody listens on (allowed by the outbound policy: loopback is listed in tests).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { t, meetingID } = await meetingWithCallback(`http://127.0.0.1:${port}/secret-hook-path`);
    expect(await postReady(t.id, { signed_parameters: await signed({ meeting_id: meetingID, record_id: 'r' }, SECRET_A) })).toEqual([502, 'the front end did not answer']);
    const line = s.logs().split('\n').find((l) => l.includes('recording-ready callback not delivered') && l.includes(t.id));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ tenancy: t.id, host: `127.0.0.1:${port}` });
    expect(s.logs()).not.toContain('secret-hook-path');
  });
});
