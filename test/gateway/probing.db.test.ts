// Tenancy names cannot be probed through the gateway: on every path, an unknown
// tenancy gets exactly the answer a known one gets (same status, same headers
// that matter, same bytes), by slug, by id and by host name.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signQuery } from '../../server/bbb/checksum.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

const CLUSTER_SECRET = 'probing-cluster-secret-1';

let s: TestServer;
let dir: string;
let bbb: BbbDouble;
let known: { id: string; slug: string; bbbSecret: string };

interface Answer {
  status: number;
  type: string | null;
  body: string;
}

/** One request to the server, with an optional Host header (fetch cannot set it). */
function send(path: string, opts: { method?: string; host?: string; form?: Record<string, string> } = {}): Promise<Answer> {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  const port = new URL(s.url).port;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: {
          host: opts.host ?? `127.0.0.1:${port}`,
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? null, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-probe-'));
  bbb = await startBbbDouble({ secret: CLUSTER_SECRET, recordingsDir: dir });
  s = await startTestServer({ WORKER: 'off', GATEWAY_HOST_SUFFIX: 'probe.test' });
  const coop = await createCoop(s);
  const cluster = await createCluster(s, coop.id, { apiUrl: bbb.url, secret: CLUSTER_SECRET, checksumAlgorithm: 'sha1' });
  known = await createTenancy(s, coop.id, cluster.id);
  // The tenancy has a meeting, so its recording-ready endpoint has something to look up.
  const create = signQuery('create', { meetingID: 'probe-room', name: 'Probe room' }, known.bbbSecret, 'sha1');
  expect((await send(`/t/${known.slug}/bigbluebutton/api/create?${create}`)).body).toContain('SUCCESS');
});

afterAll(async () => {
  await s?.stop();
  await bbb?.close();
  await rm(dir, { recursive: true, force: true });
});

const unknownRefs = ['no-such-tenancy', randomUUID()];

/** The known tenancy's answer and every unknown one's, by path prefix and by host name. */
async function compare(pathAfterApi: string, opts: { method?: string; form?: Record<string, string> } = {}) {
  const port = new URL(s.url).port;
  const mine = await send(`/t/${known.slug}/bigbluebutton/api${pathAfterApi}`, opts);
  for (const ref of [known.id, ...unknownRefs]) expect(await send(`/t/${ref}/bigbluebutton/api${pathAfterApi}`, opts), `/t/${ref}`).toEqual(mine);
  const byHost = await send(`/bigbluebutton/api${pathAfterApi}`, { ...opts, host: `${known.slug}.probe.test:${port}` });
  expect(byHost).toEqual(mine);
  for (const host of [`nobody.probe.test:${port}`, `127.0.0.1:${port}`]) expect(await send(`/bigbluebutton/api${pathAfterApi}`, { ...opts, host }), host).toEqual(mine);
  return mine;
}

describe('a known and an unknown tenancy answer alike', () => {
  it('at the API root', async () => {
    const root = await compare('');
    expect(root.status).toBe(200);
    expect(root.body).toContain('<returncode>SUCCESS</returncode>');
    expect(await compare('/')).toEqual(root);
  });

  it('to an unsupported call, correctly signed for the known tenancy or not', async () => {
    const signed = await compare(`/getDefaultConfigXML?${signQuery('getDefaultConfigXML', {}, known.bbbSecret, 'sha1')}`);
    expect(signed.body).toContain('<messageKey>unsupportedRequest</messageKey>');
    expect(await compare('/getDefaultConfigXML?checksum=0000')).toEqual(signed);
    expect(await compare('/insertDocument?meetingID=probe-room&checksum=0000')).toEqual(signed);
  });

  it('to deeper paths (hooks/*, a/b), in BBB XML, signed for the known tenancy or not', async () => {
    const unsupported = await compare(`/getDefaultConfigXML?${signQuery('getDefaultConfigXML', {}, known.bbbSecret, 'sha1')}`);
    expect(unsupported.status).toBe(200);
    expect(unsupported.type).toMatch(/^text\/xml/);
    for (const path of ['hooks/create', 'hooks/list', 'a/b', 'a/b/c']) {
      expect(await compare(`/${path}?${signQuery(path, { callbackURL: 'https://hooks.example/cb' }, known.bbbSecret, 'sha1')}`), path).toEqual(unsupported);
      expect(await compare(`/${path}`), path).toEqual(unsupported);
      expect(await compare(`/${path}`, { method: 'POST', form: { callbackURL: 'https://hooks.example/cb' } }), path).toEqual(unsupported);
    }
  });

  it('to a supported call with a wrong checksum', async () => {
    const wrong = await compare(`/getMeetings?${signQuery('getMeetings', {}, 'not-the-secret', 'sha1')}`);
    expect(wrong.body).toContain('<messageKey>checksumError</messageKey>');
    expect(await compare('/isMeetingRunning?meetingID=probe-room&checksum=abc')).toEqual(wrong);
    expect(await compare('/getMeetings')).toEqual(wrong);
    // The known tenancy's right digest in upper case is refused like any wrong checksum.
    const upper = signQuery('getMeetings', {}, known.bbbSecret, 'sha1').replace(/checksum=(\w+)$/, (_m, sum: string) => `checksum=${sum.toUpperCase()}`);
    expect(await compare(`/getMeetings?${upper}`)).toEqual(wrong);
  });
});

describe('the recording-ready endpoint answers a known and an unknown tenancy alike', () => {
  const post = async (form: Record<string, string>) => {
    const mine = await send(`/t/${known.slug}/bigbluebutton/recording-ready`, { method: 'POST', form });
    for (const ref of [known.id, ...unknownRefs])
      expect(await send(`/t/${ref}/bigbluebutton/recording-ready`, { method: 'POST', form }), ref).toEqual(mine);
    return mine;
  };
  const jwt = (claims: Record<string, string>, secret: string) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

  it('for a bad signature, on a meeting the tenancy has or not', async () => {
    const forged = await post({ signed_parameters: await jwt({ meeting_id: 'probe-room', record_id: 'r1' }, known.bbbSecret) });
    expect(forged.status).toBe(401);
    expect(await post({ signed_parameters: await jwt({ meeting_id: 'no-such-room', record_id: 'r1' }, 'guessed-secret') })).toEqual(forged);
  });

  it('for malformed requests', async () => {
    expect((await post({})).status).toBe(400);
    expect((await post({ signed_parameters: 'not-a-jwt' })).status).toBe(400);
    expect((await post({ signed_parameters: await jwt({ meeting_id: 'probe-room' }, 'x') })).status).toBe(400);
  });
});
