// The malformed-input corpus: every route and method the server's own OpenAPI
// document lists gets bad path ids, bad query values, bad JSON bodies (NUL and
// other control characters, huge strings, lone surrogates, wrong types, 10,000
// levels of nesting, a 2 MiB body, invalid JSON, wrong content types), sent as
// the platform admin so authorisation hides nothing. No answer may be a 5xx and
// every error must be an RFC 9457 problem. The BBB gateway gets NUL in its
// parameters and must answer BBB FAILED XML, never a 500.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signQuery } from '../../server/bbb/checksum.js';
import { parseResponse, text } from '../../server/bbb/xml.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';
import * as oidc from 'openid-client';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { discover, registerClient, startSsoServer } from '../oidc/helpers.js';

const BBB_SECRET = 'malformed-cluster-secret-0123';
const MiB = 1024 * 1024;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

let s: Awaited<ReturnType<typeof startSsoServer>>;
let bbb: BbbDouble;
let bbbDir: string;
let doc: Json;
let ops: Operation[];
/** Real ids of seeded objects, by the collection their path starts with. */
const real: Record<string, string> = {};
/** Values for body fields by name, so a body gets past lookups into the handler. */
let fieldValues: Record<string, () => unknown>;
let tenancy: { id: string; slug: string; bbbSecret: string };

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

beforeAll(async () => {
  bbbDir = await mkdtemp(join(tmpdir(), 'malformed-bbb-'));
  bbb = await startBbbDouble({ secret: BBB_SECRET, algorithm: 'sha256', recordingsDir: bbbDir });
  s = await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' });
  const coopA = await createCoop(s);
  const coopB = await createCoop(s);
  const clusterA = await createCluster(s, coopA.id, { apiUrl: bbb.url, secret: BBB_SECRET, checksumAlgorithm: 'sha256' });
  const clusterB = await createCluster(s, coopB.id, { apiUrl: bbb.url, secret: BBB_SECRET, checksumAlgorithm: 'sha256' });
  tenancy = await createTenancy(s, coopA.id, clusterA.id);
  const moving = await createTenancy(s, coopA.id, clusterA.id);
  const member = await memberWithToken(s, coopA.id);
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${member.accountId}`, { body: { role: 'member' } });
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const in1day = () => new Date(Date.now() + 86_400_000).toISOString();
  const grant = await s.api('POST', '/api/v1/grants', {
    body: { from: root.id, account: member.accountId, role: 'tenancy_admin', scope: { type: 'tenancy', id: tenancy.id }, expiresAt: in1day(), reason: 'seed' },
  });
  const transfer = await s.api('POST', '/api/v1/transfers', { body: { tenancy: moving.id, targetCoop: coopB.id, targetCluster: clusterB.id, noticeDays: 0 } });
  const client = await s.api('POST', '/api/v1/clients', { body: { name: 'probe robot', coop: coopA.id, kind: 'machine' } });
  const upstream = await s.api('POST', '/api/v1/upstreams', {
    body: { coop: coopA.id, displayName: 'Probe IdP', issuer: 'https://idp.example.org', clientId: 'probe', clientSecret: 'probe-secret' },
  });
  const [token] = (await s.api('GET', '/api/v1/tokens')).json.items;
  for (const [what, res] of Object.entries({ grant, transfer, client })) if (res.status !== 201) throw new Error(`seed ${what}: ${res.status} ${res.text}`);
  Object.assign(real, {
    coops: coopA.id,
    clusters: clusterA.id,
    tenancies: tenancy.id,
    accounts: member.accountId,
    accountId: member.accountId,
    tokens: token.id,
    audit: '1',
    transfers: transfer.json.id,
    grants: grant.json.id,
    clients: client.json.id,
    upstreams: upstream.status === 201 ? upstream.json.id : '00000000-0000-4000-8000-000000000000',
  });
  fieldValues = {
    slug: () => `probe-${uniq()}`,
    name: () => 'Malformed probe',
    displayName: () => 'Malformed probe',
    email: () => `probe-${uniq()}@example.org`,
    contactEmail: () => `probe-${uniq()}@example.org`,
    jurisdiction: () => 'DE',
    country: () => 'DE',
    coop: () => coopA.id,
    cluster: () => clusterA.id,
    tenancy: () => tenancy.id,
    targetCoop: () => coopB.id,
    targetCluster: () => clusterB.id,
    account: () => member.accountId,
    principal: () => member.accountId,
    from: () => root.id,
    scope: () => ({ type: 'tenancy', id: tenancy.id }),
    expiresAt: in1day,
    reason: () => 'probe',
    apiUrl: () => bbb.url,
    secret: () => BBB_SECRET,
    url: () => `file://${bbbDir}/storage`,
    issuer: () => 'https://idp.example.org',
    clientId: () => 'probe',
    clientSecret: () => 'probe-secret',
    documentSha256: () => 'a'.repeat(64),
    signedOn: () => '2025-01-01',
    validUntil: () => null,
    action: () => 'coop.read',
    resource: () => ({ type: 'coop', id: coopA.id }),
    noticeDays: () => 0,
    capacity: () => 10,
  };

  const res = await s.api('GET', '/api/v1/openapi.json', { token: null });
  doc = res.json;
  ops = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await bbb?.close();
  if (bbbDir) await rm(bbbDir, { recursive: true, force: true });
});

// ---------- building requests from the OpenAPI document ----------

const deref = (schema: Json): Json => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
const params = (op: Json, where: string): Json[] => (op.parameters ?? []).filter((p: Json) => p.in === where);
const bodySchema = (op: Json): Json => deref(op.requestBody?.content?.['application/json']?.schema);

/** Enum values that make a body do something harmless and valid (a grant narrower than the seed's, a machine client). */
const PREFERRED = ['tenancy_admin', 'member', 'machine', 'source_admin'];

/** A plausible value for a schema: examples, enums, formats; good enough to pass most validation. */
function sample(schema: Json, name?: string): unknown {
  schema = deref(schema);
  if (schema?.enum) return schema.enum.find((v: unknown) => PREFERRED.includes(v as string)) ?? schema.enum[0];
  if (name && fieldValues[name]) return fieldValues[name]!();
  if (!schema) return 'x';
  if (schema.oneOf) return sample(schema.oneOf[schema.oneOf.length - 1]);
  if (schema.example !== undefined) return schema.example;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v, k)]));
    case 'array':
      return schema.minItems ? [sample(schema.items)] : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    default:
      if (schema.format === 'email') return `probe-${uniq()}@example.org`;
      if (schema.format === 'uri') return 'https://probe.example.org/';
      if (schema.format === 'date') return '2025-01-01';
      if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
      if (schema.pattern?.includes('{64}')) return 'a'.repeat(64);
      if (schema.pattern?.includes('{12}')) return real.accountId;
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
  }
}

/** The path with real ids, except `override` for one parameter. */
function fillPath(path: string, override?: { name: string; raw: string }): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string, offset: number) => {
    if (override?.name === name) return override.raw;
    if (name === 'accountId') return real.accountId!;
    const collection = path.slice(1, offset).split('/')[0]!;
    return encodeURIComponent(real[collection] ?? 'unknown');
  });
}

/** Runs `tasks`, at most `width` at a time. */
async function inParallel(tasks: Array<() => Promise<unknown>>, width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  }));
}

/**
 * POSTs to `path` declaring a `declared`-byte body but sending only 1 KiB of it:
 * the answer must come before the rest of the body (which never comes).
 */
function answerBeforeBody(path: string, headers: Record<string, string>, declared: number): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(declared) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer from ${path} before the body was sent: it waits for the body`));
    }, 10_000);
    req.on('error', () => {}); // the server closes the connection after answering
    req.write(Buffer.alloc(1024, 0x20));
  });
}

interface Sent {
  label: string;
  method: string;
  url: string;
  status: number;
  type: string;
  text: string;
}

/** The ETag of the object a route changes (its own path or the nearest one above it with a GET). */
async function etagFor(path: string): Promise<string | undefined> {
  for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/'))) {
    if (!doc.paths[p]?.get) continue;
    const res = await s.api('GET', `/api/v1${fillPath(p)}`);
    return res.headers.get('etag') ?? undefined;
  }
  return undefined;
}

async function send(label: string, method: string, url: string, init: { body?: string | Uint8Array; type?: string; ifMatch?: string; token?: string } = {}): Promise<Sent> {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? s.adminToken}` };
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  if (init.ifMatch) headers['if-match'] = init.ifMatch;
  const res = await fetch(`${s.url}/api/v1${url}`, { method, headers, body: init.body as RequestInit['body'] });
  const body = await res.text();
  return { label, method, url: url.length > 120 ? `${url.slice(0, 120)}…` : url, status: res.status, type: res.headers.get('content-type') ?? '', text: body.slice(0, 300) };
}

/** Every answer that is a 5xx, or an error that is not problem+json. */
function broken(answers: Sent[]): string[] {
  return answers
    .filter((a) => a.status >= 500 || (a.status >= 400 && !a.type.startsWith('application/problem+json')))
    .map((a) => `${a.method} ${a.url} [${a.label}] -> ${a.status} ${a.type} ${a.text}`);
}

const NUL = 'pro\u0000be';
const CONTROL = 'pro\u0001\u001b[31mbe\u007f';
const HUGE = 'x'.repeat(100_000);
const LONE_SURROGATE = 'pro\ud800be';
const DEEP = '['.repeat(10_000) + ']'.repeat(10_000);
const DEEP_OBJECT = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

const BAD_IDS: Record<string, string> = {
  'NUL encoded': '%00',
  'NUL inside': 'a%00b',
  'newline inside': 'a%0Ab',
  'control characters': '%01%1b%7f',
  'very long': 'a'.repeat(5000),
  'not a uuid': 'not-a-uuid',
  'invalid percent-encoding': '%ff%fe',
  'unicode override': '%E2%80%AE',
  'nil uuid': '00000000-0000-0000-0000-000000000000',
  'huge number': '99999999999999999999999',
  negative: '-1',
  'sql-ish': "1'%20or%20'1'='1",
};

const BAD_QUERY: Record<string, string> = {
  'NUL encoded': '%00',
  'NUL inside': 'a%00b',
  'control characters': '%01%1b%7f',
  'very long': 'a'.repeat(5000),
  'wrong type': 'abc',
  'invalid percent-encoding': '%ff',
  'huge number': '1e400',
  negative: '-5',
  'lone surrogate': '%ED%A0%80',
};

// ---------- the corpus ----------

describe('malformed input on every route of the OpenAPI document', () => {
  it('reads a document with every collection in it', () => {
    expect(ops.length).toBeGreaterThan(50);
    for (const p of ['/coops/{id}', '/tenancies/{id}/members/{accountId}', '/audit/entries/{index}', '/grants/{id}/revoke', '/upstreams/{id}'])
      expect(Object.keys(doc.paths)).toContain(p);
  });

  it('answers bad path ids with a 4xx problem', async () => {
    const answers: Sent[] = [];
    const tasks: Array<() => Promise<unknown>> = [];
    for (const { method, path, op } of ops) {
      for (const p of params(op, 'path')) {
        for (const [label, raw] of Object.entries(BAD_IDS)) {
          const body = bodySchema(op) ? JSON.stringify(sample(bodySchema(op))) : undefined;
          tasks.push(async () => answers.push(await send(`${p.name}: ${label}`, method, fillPath(path, { name: p.name, raw }), { body })));
        }
      }
    }
    await inParallel(tasks, 6);
    expect(answers.length).toBeGreaterThan(300);
    expect(broken(answers).join('\n')).toBe('');
    expect(answers.filter((a) => a.status < 400).map((a) => `${a.method} ${a.url} [${a.label}] -> ${a.status}`).join('\n')).toBe('');
  });

  it('answers bad query values with a 4xx problem or a plain answer', async () => {
    const answers: Sent[] = [];
    const tasks: Array<() => Promise<unknown>> = [];
    const get = (label: string, url: string) => tasks.push(async () => answers.push(await send(label, 'GET', url)));
    for (const { method, path, op } of ops) {
      if (method !== 'GET') continue; // never replays a change on a real object
      for (const q of params(op, 'query')) {
        for (const [label, raw] of Object.entries(BAD_QUERY)) get(`${q.name}: ${label}`, `${fillPath(path)}?${q.name}=${raw}`);
        get(`${q.name}: repeated`, `${fillPath(path)}?${q.name}=1&${q.name}=2`);
      }
      get('unknown NUL parameter', `${fillPath(path)}?a%00=b%00`);
    }
    await inParallel(tasks, 6);
    expect(answers.length).toBeGreaterThan(150);
    expect(broken(answers).join('\n')).toBe('');
  });

  it('answers bad JSON bodies with a 4xx problem; NUL, control characters and lone surrogates are refused in every field; 2 MiB answers 413', async () => {
    const answers: Sent[] = [];
    const unclean: string[] = [];
    const notLimited: string[] = [];
    let reachedHandlers = 0;
    for (const { method, path, op } of ops) {
      const schema = bodySchema(op);
      if (!schema) continue;
      const url = fillPath(path);
      const needsEtag = params(op, 'header').some((h: Json) => h.name === 'if-match');
      const post = async (label: string, body: string | Uint8Array, type?: string) => {
        const ifMatch = needsEtag ? await etagFor(path) : undefined;
        const sent = await send(label, method, url, { body, type, ifMatch });
        answers.push(sent);
        return sent;
      };

      const base = await post('a plausible body', JSON.stringify(sample(schema)));
      if (base.status < 400 || !base.text.includes('/problems/validation')) reachedHandlers++;

      // Every node of a plausible body replaced in turn, by what does not fit its type.
      const nodes: Array<{ at: string[]; value: unknown }> = [];
      const walk = (value: unknown, at: string[]) => {
        if (at.length > 0) nodes.push({ at, value });
        if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
      };
      walk(sample(schema), []);
      const replaced = (at: string[], value: unknown) => {
        const body = sample(schema) as Json;
        let node = body;
        for (const k of at.slice(0, -1)) node = node[k];
        node[at.at(-1)!] = value;
        return JSON.stringify(body);
      };
      const tasks: Array<() => Promise<unknown>> = [];
      for (const { at, value } of nodes) {
        const field = at.join('.');
        // Text no field may hold: refused (4xx) wherever it is sent.
        for (const [label, text] of Object.entries({ NUL, 'control characters': CONTROL, 'lone surrogate': LONE_SURROGATE }))
          tasks.push(async () => {
            const sent = await post(`${field}: ${label}`, replaced(at, text));
            if (sent.status < 400) unclean.push(`${method} ${path} ${field} [${label}]: ${sent.status}`);
          });
        const bad: Record<string, unknown> =
          typeof value === 'string'
            ? { huge: HUGE, number: 1e308, null: null, 'array of NUL': [NUL] }
            : typeof value === 'number'
              ? { 'huge number': 1e308, negative: -1, fraction: 1.5, 'numeric string': '1' }
              : { number: 1, null: null, 'array of NUL': [NUL], 'object with NUL key': { 'a\u0000': 1 } };
        for (const [label, v] of Object.entries(bad)) tasks.push(() => post(`${field}: ${label}`, replaced(at, v)));
        tasks.push(() => post(`${field}: 10,000 nested arrays`, replaced(at, '__DEEP__').replace('"__DEEP__"', DEEP)));
      }

      // The body as a whole.
      const plausible = JSON.stringify(sample(schema));
      for (const [label, body, type] of [
        ['NUL in a key', plausible.replace(/^\{/, '{"a\\u0000b":1,')],
        ['__proto__ key', plausible.replace(/^\{/, '{"__proto__":{"platformAdmin":true},')],
        ['invalid JSON', '{"a":'],
        ['empty body', ''],
        ['JSON null', 'null'],
        ['JSON array', '[]'],
        ['JSON string', '"x"'],
        ['number out of range', '1e999'],
        ['byte order mark', `\ufeff${plausible}`],
        ['invalid UTF-8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')])],
        ['10,000 nested arrays', DEEP],
        ['10,000 nested objects', DEEP_OBJECT],
        ['text/plain', plausible, 'text/plain'],
        ['form', 'a=b%00', 'application/x-www-form-urlencoded'],
        ['multipart garbage', '--x\r\nnonsense', 'multipart/form-data; boundary=x'],
        ['JSON with a charset', plausible, 'application/json; charset=latin1'],
      ] as Array<[string, string | Uint8Array, string?]>)
        tasks.push(() => post(label, body, type));
      tasks.push(async () => {
        const large = await post('2 MiB body', JSON.stringify({ name: 'x'.repeat(2 * MiB) }));
        if (large.status !== 413) notLimited.push(`${method} ${path}: ${large.status}`);
      });
      await inParallel(tasks, 6);
    }
    expect(reachedHandlers).toBeGreaterThan(10); // the plausible bodies get past validation, so the corpus reaches the handlers
    expect(answers.length).toBeGreaterThan(500);
    expect(broken(answers).join('\n')).toBe('');
    expect(unclean.join('\n')).toBe('');
    expect(notLimited.join('\n')).toBe('');
  }, 200_000);

  it('refuses a declared 10 MB JSON body with 413 before reading it', async () => {
    const res = await answerBeforeBody('/api/v1/coops', { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }, 10_000_000);
    expect(res.status).toBe(413);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'https://meetplane.org/problems/too-large', status: 413, limit: MiB });
  });

  it('limits a request body to 1 MiB even without a Content-Length (chunked)', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new Uint8Array(MiB).fill(0x20));
        controller.close();
      },
    });
    const res = await fetch(`${s.url}/api/v1/coops`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ type: 'https://meetplane.org/problems/too-large', status: 413 });
  });
});

describe('malformed input on the BBB gateway', () => {
  const gateway = (ref: string, call: string, query: string, init?: RequestInit) =>
    fetch(`${s.url}/t/${ref}/bigbluebutton/api/${call}${query ? `?${query}` : ''}`, { redirect: 'manual', ...init });

  it('answers NUL and control characters in signed parameters with a BBB FAILED answer, never a 500', async () => {
    const calls = ['create', 'join', 'end', 'isMeetingRunning', 'getMeetingInfo', 'getMeetings', 'getRecordings', 'publishRecordings', 'updateRecordings', 'deleteRecordings'];
    const problems: string[] = [];
    for (const call of calls) {
      for (const [label, params] of Object.entries<Record<string, string>>({
        'meetingID with NUL': { meetingID: `room${NUL}`, name: 'Room', fullName: 'Ann', role: 'MODERATOR' },
        'name with NUL': { meetingID: `room-${uniq()}`, name: NUL, fullName: NUL, role: 'MODERATOR' },
        'recordID with NUL': { recordID: `rec${NUL}`, publish: 'true', meetingID: `x${NUL}` },
        'meta with NUL': { meetingID: `room-${uniq()}`, name: 'Room', [`meta_a${NUL}`]: NUL, 'meta_bbb-recording-ready-url': `https://x.example/${NUL}` },
        'control characters': { meetingID: `room${CONTROL}`, name: CONTROL, recordID: CONTROL },
      })) {
        const res = await gateway(tenancy.slug, call, signQuery(call, params, tenancy.bbbSecret, 'sha256'));
        const body = await res.text();
        let returncode: string | undefined;
        try {
          returncode = text(parseResponse(body), 'returncode');
        } catch {
          returncode = undefined;
        }
        if (res.status >= 500 || returncode !== 'FAILED') problems.push(`${call} [${label}] -> ${res.status} ${body.slice(0, 200)}`);
      }
    }
    expect(problems.join('\n')).toBe('');
  });

  it('answers NUL in the tenancy, the call, unsigned parameters and the recording-ready callback without a 500', async () => {
    const answers = await Promise.all([
      gateway('%00', 'create', 'meetingID=a%00&checksum=x'),
      gateway(`${tenancy.slug}%00`, 'getMeetings', ''),
      gateway(tenancy.slug, 'create%00', 'a=b'),
      gateway(tenancy.slug, 'create', 'meetingID=a%00b&checksum=0000'),
      gateway(tenancy.slug, '', '%00=%00'),
      gateway(tenancy.slug, 'getMeetings', '%ff=%fe&checksum=%00'),
      fetch(`${s.url}/t/${tenancy.slug}/bigbluebutton/recording-ready`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'signed_parameters=a%00b' }),
      fetch(`${s.url}/t/%00/bigbluebutton/recording-ready`, { method: 'POST', body: 'x' }),
    ]);
    for (const res of answers) expect(res.status, res.url).toBeLessThan(500);
  });

  it('answers a too large create body with a BBB FAILED answer, before reading it', async () => {
    const query = signQuery('create', { meetingID: `room-${uniq()}`, name: 'Room' }, tenancy.bbbSecret, 'sha256');
    const res = await answerBeforeBody(`/t/${tenancy.slug}/bigbluebutton/api/create?${query}`, { 'content-type': 'application/xml' }, 5 * MiB);
    expect(res.status).toBeLessThan(500);
    expect(parseResponse(res.body)).toMatchObject({ returncode: 'FAILED', messageKey: 'invalidRequestBody' });
  });

});

// A machine client (client credentials) acts for its co-op but is no account:
// it must be told so, not run into a foreign key.
describe('a machine client, which is no account', () => {
  let token: string;
  beforeAll(async () => {
    const machine = await registerClient(s, { name: 'malformed robot', coop: real.coops, kind: 'machine' });
    ({ access_token: token } = await oidc.clientCredentialsGrant(await discover(s, machine.clientId, machine.clientSecret!), { scope: 'api' }));
  });

  it('is refused a personal access token with a 403 problem, and has none', async () => {
    const res = await s.api('POST', '/api/v1/tokens', { token, body: { name: 'robot pat' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // The policies refuse it by the rule for what only a person can do (policies/machine.cedar).
    expect(res.json).toMatchObject({ type: 'https://meetplane.org/problems/forbidden', policyIds: ['machine-client-not-a-person'] });
    const list = await s.api('GET', '/api/v1/tokens', { token });
    expect(list.status).toBe(403);
    expect(list.json.policyIds).toEqual(['machine-client-not-a-person']);
  });

  it('gets no 5xx from any route of the OpenAPI document, called with plausible inputs', async () => {
    const answers: Sent[] = [];
    for (const { method, path, op } of ops) {
      const schema = bodySchema(op);
      const ifMatch = params(op, 'header').some((h: Json) => h.name === 'if-match') ? await etagFor(path) : undefined;
      answers.push(await send('machine client', method, fillPath(path), { token, ifMatch, body: schema ? JSON.stringify(sample(schema)) : undefined }));
    }
    expect(answers.length).toBe(ops.length);
    expect(broken(answers).join('\n')).toBe('');
  });
});
