// A front end's recording-ready URL is called by the server (and, forwarded, would
// be called by the cluster from inside the hosting network): one the outbound
// policy refuses is dropped at create, with a log line; the meeting starts, the
// cluster never sees that URL and nobody calls it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbbClient } from '../../server/bbb/client.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const CLUSTER_SECRET = 'callback-cluster-secret-1';

let s: TestServer;
let dir: string;
let bbb: BbbDouble;
let tenancy: { id: string; slug: string; bbbSecret: string };
let frontEnd: Server;
let frontEndPort: number;
let connections = 0;
let received: string[] = [];

const client = () => new BbbClient({ apiUrl: `${s.url}/t/${tenancy.slug}/bigbluebutton/api`, secret: tenancy.bbbSecret, algorithm: 'sha1', retries: 0, fetch });
const clusterSigned = (meetingId: string) =>
  new SignJWT({ meeting_id: meetingId, record_id: `${meetingId}-rec` }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(CLUSTER_SECRET));
const recordingReady = async (meetingId: string) =>
  fetch(`${s.url}/t/${tenancy.id}/bigbluebutton/recording-ready`, { method: 'POST', body: new URLSearchParams({ signed_parameters: await clusterSigned(meetingId) }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-cb-'));
  bbb = await startBbbDouble({ secret: CLUSTER_SECRET, recordingsDir: dir });
  // The cluster (127.0.0.1) is listed; the front end's address (127.0.0.2, loopback too) is not.
  s = await startTestServer({ WORKER: 'off', OUTBOUND_ALLOW: '127.0.0.1/32' });
  frontEnd = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(`${req.url} ${body}`);
      res.end('ok');
    });
  });
  frontEnd.on('connection', () => connections++);
  await new Promise<void>((r) => frontEnd.listen(0, '127.0.0.2', () => r()));
  frontEndPort = (frontEnd.address() as AddressInfo).port;
  const coop = await createCoop(s);
  const cluster = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: CLUSTER_SECRET, checksumAlgorithm: 'sha1' });
  tenancy = await createTenancy(s, coop.id, cluster.id);
});

afterAll(async () => {
  await s?.stop();
  await bbb?.close();
  await new Promise<void>((r) => frontEnd.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

describe('recording-ready URLs the outbound policy refuses', () => {
  it.each([
    ['a file: URL', 'file:///etc/passwd', 'only http and https URLs are allowed (got file:)'],
    ['a cloud metadata address', 'http://169.254.169.254/latest/meta-data/iam', 'outbound request to 169.254.169.254 refused: cloud metadata address'],
    ['an address outside OUTBOUND_ALLOW', () => `http://127.0.0.2:${frontEndPort}/recording-ready`, 'outbound request to 127.0.0.2 refused: loopback address; list it in OUTBOUND_ALLOW'],
    ['a URL with credentials', 'https://user:s3cret@frontend.example/callback', 'outbound request to frontend.example refused: credentials in the URL are not allowed'],
  ] as const)('%s: the meeting starts without the callback, and nothing is called', async (_what, url, reason) => {
    const readyUrl = typeof url === 'function' ? url() : url;
    const meetingId = `cb-${Math.random().toString(36).slice(2)}`;
    const created = await client().create({ meetingID: meetingId, name: 'Recorded', record: true, meta: { 'bbb-recording-ready-url': readyUrl, 'gl-listed': 'true' } });
    expect(created.meetingID).toBe(meetingId);
    // The cluster has the meeting, with the front end's other meta, and no callback URL at all (neither theirs nor ours).
    const metadata = bbb.meetings.get(meetingId)!.metadata;
    expect(metadata).toMatchObject({ 'gl-listed': 'true', 'meetplane-tenancy': tenancy.id });
    expect(metadata['bbb-recording-ready-url']).toBeUndefined();
    expect(bbb.requests.at(-1)!.query).not.toContain('recording-ready');
    // The operator sees why; the URL's path and credentials are not in the log.
    expect(s.logs()).toContain(reason);
    expect(s.logs()).not.toMatch(/s3cret|meta-data\/iam|etc\/passwd/);
    // A recording is ready: the inventory learns of it, and no front end is called.
    const res = await recordingReady(meetingId);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('the front end asked for no recording-ready callback');
    expect(connections).toBe(0);
    expect(received).toEqual([]);
  });

  it('an allowed URL is still called (the policy is not a blanket refusal)', async () => {
    // The listed address: a front end on 127.0.0.1.
    const allowed = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => allowed.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(allowed.address() as AddressInfo).port}/recording-ready`;
      await client().create({ meetingID: 'cb-allowed', name: 'Recorded', record: true, meta: { 'bbb-recording-ready-url': url } });
      expect(bbb.meetings.get('cb-allowed')!.metadata['bbb-recording-ready-url']).toMatch(new RegExp(`/t/${tenancy.id}/bigbluebutton/recording-ready$`));
      received = [];
      expect((await recordingReady('cb-allowed')).status).toBe(200);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(/^signed_parameters=/);
    } finally {
      await new Promise<void>((r) => allowed.close(() => r()));
    }
  });
});
