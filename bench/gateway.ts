// npm run bench:gateway [-- --quick] — BBB calls per second and latency through meetplane's
// gateway, next to a raw reverse proxy (bench/raw-proxy.ts: node:http + keep-alive undici
// pool, no checks) to the same BBB double and to the double called directly, all in the
// same run. getMeetings and join (redirect=false, so every answer is a 200) against all
// three (ratio to the raw proxy, p50 added over direct); create and getRecordings against
// the raw proxy. Prints a table and one JSON line per figure
// {"bench","case","backend","value","unit","baseline","ratio"}. Loopback only.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signQuery } from '../server/bbb/checksum.js';
import { parseResponse, text } from '../server/bbb/xml.js';
import { cli, figure, fmt, load, measureSeconds, serve, startChild, type Figures, onBothBackends } from './support.js';

const SECONDS = measureSeconds(5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const BBB_SECRET = `bench-bbb-${randomBytes(8).toString('hex')}`;

function startDouble(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bbb-double.js');
  const child = spawn(process.execPath, [script], { env: { ...process.env, BBB_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => {
      const { url } = JSON.parse(d.toString()) as { url: string };
      resolve({ url, stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) });
    });
    child.once('exit', (code) => reject(new Error(`BBB double exited ${code}`)));
  });
}

/** Refuses a URL whose answer is not a BBB SUCCESS: a FAILED answer is a 200 too. */
async function expectSuccess(url: string): Promise<void> {
  const body = await (await fetch(url)).text();
  if (text(parseResponse(body), 'returncode') !== 'SUCCESS') throw new Error(`not a SUCCESS answer: ${body.slice(0, 200)}`);
}

async function seed(url: string, token: string, bbbUrl: string) {
  const api = async (p: string, body: unknown) => {
    const res = await fetch(url + '/api/v1' + p, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`seed ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; slug: string; bbbSecret: string };
  };
  const coop = await api('/coops', { slug: 'bench', name: 'Bench', jurisdiction: 'DE', contactEmail: 'b@bench.example', legalRegime: 'eu_gdpr' });
  const cluster = await api('/clusters', { coop: coop.id, name: 'c', apiUrl: bbbUrl, secret: BBB_SECRET, checksumAlgorithm: 'sha256', country: 'DE', capacity: 1000 });
  return api('/tenancies', { slug: 'bench-school', name: 'Bench school', coop: coop.id, cluster: cluster.id });
}

function row(call: string, direct: Figures | undefined, raw: Figures, via: Figures): string {
  return (
    `${call.padEnd(13)}` +
    (direct ? `direct ${fmt(direct.rps).padStart(6)} req/s p50 ${direct.p50} ms | ` : '') +
    `raw proxy ${fmt(raw.rps).padStart(6)} req/s p50 ${raw.p50} ms p99 ${raw.p99} ms | ` +
    `gateway ${fmt(via.rps).padStart(6)} req/s p50 ${via.p50} ms p99 ${via.p99} ms | ratio ${fmt(via.rps / raw.rps, 3)}` +
    (direct ? `  added p50 ${fmt(via.p50 - direct.p50, 1)} ms` : '')
  );
}

async function run(label: string, env: Record<string, string>): Promise<void> {
  // A fresh double per run: joins add attendees, which would grow the next run's getMeetings.
  const double = await startDouble();
  const bbbUrl = double.url;
  const proxy = await startChild('raw-proxy.js', { RAW_PROXY_TARGET: bbbUrl });
  const token = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], env)).trim().split('\n').pop()!;
  const server = await serve(env);
  try {
    const tenancy = await seed(server.url, token, bbbUrl);
    const gateway = `${server.url}/t/${tenancy.slug}/bigbluebutton/api`;
    const rawApi = proxy.url + new URL(bbbUrl).pathname;
    const urls = (call: string, params: Record<string, string>) => ({
      direct: `${bbbUrl}/${call}?${signQuery(call, params, BBB_SECRET, 'sha256')}`,
      raw: `${rawApi}/${call}?${signQuery(call, params, BBB_SECRET, 'sha256')}`,
      via: `${gateway}/${call}?${signQuery(call, params, tenancy.bbbSecret, 'sha256')}`,
    });
    // One meeting of the tenancy, created through the gateway (so it carries the tag and belongs to the tenancy).
    const meetingID = `bench-room-${label}`;
    const createParams = { meetingID, name: 'Bench room', attendeePW: 'ap', moderatorPW: 'mp' };
    await expectSuccess(urls('create', createParams).via);
    // The same meeting asked again: BBB answers an idempotent create with SUCCESS (duplicateWarning).
    const calls = {
      getMeetings: urls('getMeetings', {}),
      join: urls('join', { meetingID, fullName: 'Bench', role: 'VIEWER', redirect: 'false' }),
      create: urls('create', createParams),
      getRecordings: urls('getRecordings', { meetingID }),
    };
    for (const c of Object.values(calls)) for (const u of Object.values(c)) await expectSuccess(u);
    const measure = (url: string) => load({ url, connections: CONNECTIONS, seconds: SECONDS });
    console.log(`${label}:`);
    // getMeetings first: every join adds an attendee, which would grow later getMeetings answers.
    for (const [call, u] of Object.entries(calls)) {
      const withDirect = call === 'getMeetings' || call === 'join';
      const direct = withDirect ? await measure(u.direct) : undefined;
      const raw = await measure(u.raw);
      const via = await measure(u.via);
      console.log('  ' + row(call, direct, raw, via));
      figure('gateway', call, label, via.rps, 'req/s', raw.rps);
      figure('gateway', `${call}-p50`, label, via.p50, 'ms', raw.p50);
      figure('gateway', `${call}-p99`, label, via.p99, 'ms', raw.p99);
      if (direct) figure('gateway', `${call}-p50-vs-direct`, label, via.p50, 'ms', direct.p50);
    }
    // Still answering SUCCESS after the load (getMeetings now lists every bench attendee: megabytes, not checked).
    for (const u of Object.values(calls.join)) await expectSuccess(u);
  } finally {
    await server.stop();
    await proxy.stop();
    await double.stop();
  }
}

console.log(`bench:gateway  ${CONNECTIONS} connections, ${SECONDS} s per measurement, Node ${process.version}, ${os.cpus().length} CPUs`);
await onBothBackends(run, { WORKER: 'off' });
