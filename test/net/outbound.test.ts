// The outbound-request policy against real sockets: refused addresses get no
// connection at all, names are checked on the addresses actually connected to,
// and redirects are checked hop by hop.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound, OutboundRefused, type Resolver } from '../../server/net/outbound.js';

interface Listening {
  server: Server;
  port: number;
  /** TCP connections accepted so far */
  connections: number;
  requests: string[];
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function listen(host: string, handler: (path: string, method: string) => Answer): Promise<Listening> {
  const state = { connections: 0, requests: [] as string[] } as Listening;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      state.requests.push(`${req.method} ${req.url}${body ? ` ${body}` : ''}`);
      const out = handler(req.url ?? '/', req.method ?? 'GET');
      res.writeHead(out.status, out.headers ?? {}).end(out.body ?? '');
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.server = server;
  state.port = (server.address() as AddressInfo).port;
  return state;
}

const refusal = async (p: Promise<unknown>): Promise<OutboundRefused> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundRefused);
  return err as OutboundRefused;
};

let bbb: Listening;
let other: Listening;
const open: Outbound[] = [];
const outbound = (opts: ConstructorParameters<typeof Outbound>[0] = {}) => {
  const o = new Outbound(opts);
  open.push(o);
  return o;
};

beforeAll(async () => {
  bbb = await listen('127.0.0.1', (path, method): Answer => {
    if (path === '/to-metadata') return { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
    if (path === '/to-other') return { status: 302, headers: { location: `http://127.0.0.2:${other.port}/secret` } };
    if (path === '/to-self') return { status: 303, headers: { location: '/landed' } };
    if (path === '/to-file') return { status: 302, headers: { location: 'file:///etc/passwd' } };
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: `${method} ${path}` };
  });
  // A second loopback address (the whole of 127/8 is loopback): not in the allowance below.
  other = await listen('127.0.0.2', () => ({ status: 200, body: 'other' }));
});

afterAll(async () => {
  await Promise.all(open.map((o) => o.close()));
  for (const s of [bbb, other]) await new Promise((resolve) => s.server.close(resolve));
});

describe('URLs', () => {
  const o = outbound();
  it.each([
    ['file:///etc/passwd', 'outbound request to file: refused: only http and https URLs are allowed (got file:)'],
    ['ftp://files.example.org/x', 'outbound request to ftp: refused: only http and https URLs are allowed (got ftp:)'],
    ['gopher://example.org:70/', 'outbound request to gopher: refused: only http and https URLs are allowed (got gopher:)'],
    ['https://admin:hunter2@bbb.example.org/api', 'outbound request to bbb.example.org refused: credentials in the URL are not allowed'],
    ['https://admin@bbb.example.org/api', 'outbound request to bbb.example.org refused: credentials in the URL are not allowed'],
    ['http://127.0.0.1:5432/', 'outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://2130706433/', 'outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://0x7f.1/', 'outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://0177.0.0.1/', 'outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://[::1]:8080/', 'outbound request to ::1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://[::ffff:127.0.0.1]/', 'outbound request to ::ffff:7f00:1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://169.254.169.254/latest/meta-data/?token=x', 'outbound request to 169.254.169.254 refused: cloud metadata address'],
    ['http://[fd00:ec2::254]/', 'outbound request to fd00:ec2::254 refused: cloud metadata address'],
    ['http://0.0.0.0:8080/', 'outbound request to 0.0.0.0 refused: unspecified address'],
    ['http://10.0.0.5/bigbluebutton/api', 'outbound request to 10.0.0.5 refused: private address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://192.168.1.1/', 'outbound request to 192.168.1.1 refused: private address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://100.64.1.1/', 'outbound request to 100.64.1.1 refused: shared (carrier-grade NAT) address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://[fd12::1]/', 'outbound request to fd12::1 refused: private address; list it in OUTBOUND_ALLOW to allow it'],
    ['http://224.0.0.1/', 'outbound request to 224.0.0.1 refused: multicast address'],
  ])('%s is refused before any connection', async (url, message) => {
    const err = await refusal(o.fetch(url));
    expect(err.message).toBe(message);
    expect(err.message).not.toMatch(/hunter2|admin|passwd|meta-data|token/);
  });

  it('allows public addresses and names without resolving them up front', () => {
    expect(o.checkUrl('https://bbb.example.org/bigbluebutton/api').host).toBe('bbb.example.org');
    expect(o.checkUrl('http://8.8.8.8/').host).toBe('8.8.8.8');
  });
});

describe('connections', () => {
  it('a loopback server gets no connection without an allowance, and answers with one', async () => {
    const before = bbb.connections;
    await refusal(outbound().fetch(`http://127.0.0.1:${bbb.port}/bigbluebutton/api`));
    expect(bbb.connections).toBe(before);
    const res = await outbound({ allow: ['127.0.0.0/8'] }).fetch(`http://127.0.0.1:${bbb.port}/bigbluebutton/api`);
    expect(await res.text()).toBe('GET /bigbluebutton/api');
    expect(bbb.connections).toBe(before + 1);
  });

  it('a host name is checked on what it resolves to: localhost is loopback', async () => {
    const before = bbb.connections;
    const err = await refusal(outbound().fetch(`http://localhost:${bbb.port}/`));
    expect(err.message).toBe('outbound request to localhost (127.0.0.1) refused: loopback address; list it in OUTBOUND_ALLOW to allow it');
    expect(bbb.connections).toBe(before);
    expect(await (await outbound({ allow: ['127.0.0.0/8'] }).fetch(`http://localhost:${bbb.port}/x`)).text()).toBe('GET /x');
  });

  it('every address of a name must be allowed', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const err = await refusal(outbound({ resolve }).fetch('http://bbb.example.test/'));
    expect(err.message).toBe('outbound request to bbb.example.test (10.0.0.7) refused: private address; list it in OUTBOUND_ALLOW to allow it');
  });

  it('connects to the address it checked: a name that re-resolves to loopback (DNS rebinding) gets nowhere', async () => {
    // The first answer is public (what a check before the request would see), every later one is loopback.
    let calls = 0;
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const o = outbound({ resolve: rebinding });
    await o.checkTarget(`http://rebind.example.test:${bbb.port}/`);
    const before = bbb.connections;
    const err = await refusal(o.fetch(`http://rebind.example.test:${bbb.port}/`));
    expect(err.message).toMatch(/^outbound request to rebind\.example\.test \(127\.0\.0\.1\) refused: loopback address/);
    expect(bbb.connections).toBe(before);
    // And the connection does go to the resolved, checked address (the name exists nowhere else).
    const pinned: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const res = await outbound({ resolve: pinned, allow: ['127.0.0.1'] }).fetch(`http://bbb.nowhere.test:${bbb.port}/pinned`);
    expect(await res.text()).toBe('GET /pinned');
  });
});

describe('redirects', () => {
  const o = outbound({ allow: ['127.0.0.1/32'] });

  it('are not followed to a cloud metadata address', async () => {
    const err = await refusal(o.fetch(`http://127.0.0.1:${bbb.port}/to-metadata`));
    expect(err.message).toBe('outbound request to 169.254.169.254 refused: cloud metadata address');
  });

  it('are not followed to an address outside the allowance: that server gets nothing', async () => {
    const before = other.connections;
    const err = await refusal(o.fetch(`http://127.0.0.1:${bbb.port}/to-other`));
    expect(err.message).toBe('outbound request to 127.0.0.2 refused: loopback address; list it in OUTBOUND_ALLOW to allow it');
    expect(other.connections).toBe(before);
    expect(other.requests).toEqual([]);
  });

  it('are not followed to file: URLs', async () => {
    const err = await refusal(o.fetch(`http://127.0.0.1:${bbb.port}/to-file`));
    expect(err.message).toMatch(/only http and https URLs are allowed \(got file:\)/);
  });

  it('are followed between allowed addresses (a 303 after a POST continues as a GET)', async () => {
    const res = await o.fetch(`http://127.0.0.1:${bbb.port}/to-self`, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await res.text()).toBe('GET /landed');
  });

  it('come back as they are with redirect: manual', async () => {
    const res = await o.fetch(`http://127.0.0.1:${bbb.port}/to-metadata`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
  });
});

// request(): the gateway's one call per BBB request, through the dispatcher API; the same checks.
describe('request', () => {
  it('refuses what fetch refuses, before any connection', async () => {
    const before = bbb.connections;
    const err = await refusal(outbound().request(`http://127.0.0.1:${bbb.port}/bigbluebutton/api`));
    expect(err.message).toBe('outbound request to 127.0.0.1 refused: loopback address; list it in OUTBOUND_ALLOW to allow it');
    await refusal(outbound().request('file:///etc/passwd'));
    expect(bbb.connections).toBe(before);
  });

  it('checks a name on the address it connects to (DNS rebinding gets nowhere)', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const o = outbound({ resolve: rebinding });
    await o.checkTarget(`http://rebind2.example.test:${bbb.port}/`);
    const before = bbb.connections;
    const err = await refusal(o.request(`http://rebind2.example.test:${bbb.port}/`));
    expect(err.message).toMatch(/^outbound request to rebind2\.example\.test \(127\.0\.0\.1\) refused: loopback address/);
    expect(bbb.connections).toBe(before);
  });

  it('answers status, headers and the whole body, and returns a redirect unfollowed', async () => {
    const o = outbound({ allow: ['127.0.0.1/32'] });
    const ok = await o.request(`http://127.0.0.1:${bbb.port}/api/create?x=1`, { method: 'POST', body: '<modules/>', headers: { 'content-type': 'application/xml' } });
    expect([ok.status, ok.headers['content-type'], ok.body.toString()]).toEqual([200, 'text/plain', 'POST /api/create?x=1']);
    const redirect = await o.request(`http://127.0.0.1:${bbb.port}/to-metadata`);
    expect([redirect.status, redirect.headers['location']]).toEqual([302, 'http://169.254.169.254/latest/meta-data/']);
  });

  it('keeps its connections for the next requests', async () => {
    const o = outbound({ allow: ['127.0.0.1/32'] });
    const before = bbb.connections;
    for (let i = 0; i < 20; i++) expect((await o.request(`http://127.0.0.1:${bbb.port}/n${i}`)).status).toBe(200);
    // undici may open a second one while the first is still being marked free; never one per request.
    expect(bbb.connections - before).toBeLessThanOrEqual(2);
  });
});
