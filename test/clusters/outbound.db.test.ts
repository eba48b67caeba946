// A cluster's apiUrl is where the server sends requests (API calls, health polls,
// inventories): the outbound policy decides where that may be, through the real
// server, with real listening sockets that must receive nothing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../server/db/index.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { pollClusters } from '../../server/clusters/health.js';
import { signQuery } from '../../server/bbb/checksum.js';
import { parseResponse, text } from '../../server/bbb/xml.js';
import { ROOT_RESPONSE } from '../../server/gateway/gateway.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const SECRET = 'outbound-cluster-secret-1';
const EMPTY_MEETINGS = '<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey><message>none</message></response>';

interface Listener {
  port: number;
  /** TCP connections accepted */
  connections: number;
  paths: string[];
  close(): Promise<void>;
}

/** A server that counts every connection; `answer` decides the reply (default: a BBB getMeetings answer). */
async function listen(host: string, answer?: (path: string) => { status: number; location?: string }): Promise<Listener> {
  const state = { connections: 0, paths: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.paths.push(req.url ?? '');
    const a = answer?.(req.url ?? '');
    if (a) res.writeHead(a.status, a.location ? { location: a.location } : {}).end();
    else res.writeHead(200, { 'content-type': 'text/xml' }).end(EMPTY_MEETINGS);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as Listener;
}

const boxOf = (s: TestServer) => new SecretBox(Buffer.from(s.masterKey, 'base64'));
const healthOf = async (s: TestServer, id: string) => (await s.api('GET', `/api/v1/clusters/${id}/health`)).json as { state: string; lastError: string | null };

describe('without OUTBOUND_ALLOW', () => {
  let s: TestServer;
  let bbb: Listener;
  let coop: { id: string };

  beforeAll(async () => {
    s = await startTestServer({ OUTBOUND_ALLOW: '', WORKER: 'off' });
    bbb = await listen('127.0.0.1');
    coop = await createCoop(s);
  });
  afterAll(async () => {
    await s?.stop();
    await bbb?.close();
  });

  it('refuses an apiUrl at a loopback or metadata address, with credentials, or not http(s), on create and update', async () => {
    const refused = async (apiUrl: string, message: string | RegExp) => {
      const res = await s.api('POST', '/api/v1/clusters', { body: { coop: coop.id, name: 'refused', apiUrl, secret: SECRET, country: 'DE', capacity: 10 } });
      expect(res.status, res.text).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].path).toBe('apiUrl');
      expect(res.json.errors[0].message).toMatch(message);
      return res;
    };
    const loopback = 'outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it';
    await refused(`http://127.0.0.1:${bbb.port}/bigbluebutton/api`, loopback);
    await refused(`http://2130706433:${bbb.port}/bigbluebutton/api`, loopback);
    await refused(`http://0x7f.1:${bbb.port}/bigbluebutton/api`, loopback);
    await refused(`http://[::ffff:127.0.0.1]:${bbb.port}/bigbluebutton/api`, /loopback address/);
    await refused('http://169.254.169.254/latest/meta-data', 'outbound request to 169.254.169.254 refused: cloud metadata address');
    await refused('http://10.20.30.40/bigbluebutton/api', 'outbound request to 10.20.30.40 refused: private address; list it in OUTBOUND_ALLOW to allow it');
    const withCredentials = await refused('https://admin:hunter2@bbb.north.example/bigbluebutton/api', /credentials in the URL are not allowed/);
    expect(withCredentials.text).not.toContain('hunter2');
    await refused('file:///etc/passwd', /.+/);
    await refused('ftp://bbb.north.example/bigbluebutton/api', /.+/);

    const cluster = await createCluster(s, coop.id);
    const path = `/api/v1/clusters/${cluster.id}`;
    for (const apiUrl of ['https://admin:hunter2@bbb.north.example/bigbluebutton/api', 'http://169.254.169.254/', `http://127.0.0.1:${bbb.port}/bigbluebutton/api`]) {
      const etag = (await s.api('GET', path)).headers.get('etag')!;
      const res = await s.api('PATCH', path, { body: { apiUrl }, headers: { 'if-match': etag } });
      expect(res.status, res.text).toBe(400);
      expect(res.json.errors[0].path).toBe('apiUrl');
    }
    expect((await s.api('GET', path)).json.apiUrl).toBe('https://bbb.north.example/bigbluebutton/api');
    // The credentials reached neither the audit log nor the server's log.
    const [audit] = rowsOf<{ n: number }>(await s.database.db.execute(sql`select count(*)::int as n from audit_entries where entry::text like '%hunter2%'`));
    expect(audit!.n).toBe(0);
    expect(s.logs()).not.toContain('hunter2');
    expect(bbb.connections).toBe(0);
  });

  it('sends nothing to a cluster whose name resolves to loopback: gateway, health poll, inventory', async () => {
    const cluster = await createCluster(s, coop.id, { apiUrl: `http://localhost:${bbb.port}/bigbluebutton/api`, secret: SECRET, checksumAlgorithm: 'sha1' });
    const tenancy = await createTenancy(s, coop.id, cluster.id);
    const gateway = `${s.url}/t/${tenancy.slug}/bigbluebutton/api`;

    // The root is meetplane's own answer, whatever the cluster is.
    const root = await fetch(gateway);
    expect(root.status).toBe(200);
    expect(await root.text()).toBe(ROOT_RESPONSE);

    const call = await fetch(`${gateway}/getMeetings?${signQuery('getMeetings', {}, tenancy.bbbSecret, 'sha1')}`);
    expect(text(parseResponse(await call.text()), 'messageKey')).toBe('serverUnavailable');

    await pollClusters(s.database.db, boxOf(s), { outbound: s.outbound, only: cluster.id });
    expect((await healthOf(s, cluster.id)).lastError).toBe(
      'getMeetings: outbound request to localhost (127.0.0.1) refused: loopback address; list it in OUTBOUND_ALLOW to allow it',
    );

    const refresh = await s.api('POST', `/api/v1/tenancies/${tenancy.id}/recordings/refresh`);
    expect(refresh.status).toBe(502);
    expect(refresh.json.detail).toMatch(/refused: loopback address; list it in OUTBOUND_ALLOW/);

    expect(s.logs()).toMatch(/"refused":"outbound request to localhost \(127\.0\.0\.1\) refused: loopback address/);
    expect(bbb.connections).toBe(0);
  });
});

describe('OUTBOUND_ALLOW=127.0.0.1/32', () => {
  let s: TestServer;
  let bbb: Listener;
  let other: Listener;
  let redirector: Listener;
  let coop: { id: string };

  beforeAll(async () => {
    s = await startTestServer({ OUTBOUND_ALLOW: '127.0.0.1/32', WORKER: 'off' });
    bbb = await listen('127.0.0.1');
    other = await listen('127.0.0.2'); // loopback too, but not listed
    redirector = await listen('127.0.0.1', (path) =>
      path.startsWith('/to-other/')
        ? { status: 302, location: `http://127.0.0.2:${other.port}/bigbluebutton/api/getMeetings` }
        : { status: 302, location: 'http://169.254.169.254/latest/meta-data/' },
    );
    coop = await createCoop(s);
  });
  afterAll(async () => {
    await s?.stop();
    for (const l of [bbb, other, redirector]) await l?.close();
  });

  it('reaches the listed address only', async () => {
    const listed = await createCluster(s, coop.id, { apiUrl: `http://127.0.0.1:${bbb.port}/bigbluebutton/api`, secret: SECRET, checksumAlgorithm: 'sha1' });
    await pollClusters(s.database.db, boxOf(s), { outbound: s.outbound, only: listed.id });
    expect(await healthOf(s, listed.id)).toMatchObject({ state: 'online', lastError: null });
    expect(bbb.paths.some((p) => p.startsWith('/bigbluebutton/api/getMeetings?'))).toBe(true);

    const res = await s.api('POST', '/api/v1/clusters', {
      body: { coop: coop.id, name: 'unlisted', apiUrl: `http://127.0.0.2:${other.port}/bigbluebutton/api`, secret: SECRET, country: 'DE', capacity: 10 },
    });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].message).toBe('outbound request to 127.0.0.2 refused: loopback address; list it in OUTBOUND_ALLOW to allow it');
  });

  it('does not follow a redirect to an address outside the allowance, nor to a metadata address', async () => {
    const toOther = await createCluster(s, coop.id, { apiUrl: `http://127.0.0.1:${redirector.port}/to-other/bigbluebutton/api`, secret: SECRET, checksumAlgorithm: 'sha1' });
    const toMetadata = await createCluster(s, coop.id, { apiUrl: `http://127.0.0.1:${redirector.port}/to-metadata/bigbluebutton/api`, secret: SECRET, checksumAlgorithm: 'sha1' });
    await pollClusters(s.database.db, boxOf(s), { outbound: s.outbound, only: toOther.id });
    await pollClusters(s.database.db, boxOf(s), { outbound: s.outbound, only: toMetadata.id });
    expect(redirector.paths.length).toBeGreaterThanOrEqual(2); // the first hop was made
    expect((await healthOf(s, toOther.id)).lastError).toBe('getMeetings: outbound request to 127.0.0.2 refused: loopback address; list it in OUTBOUND_ALLOW to allow it');
    expect((await healthOf(s, toMetadata.id)).lastError).toBe('getMeetings: outbound request to 169.254.169.254 refused: cloud metadata address');
    expect(other.connections).toBe(0);
  });
});
