// npm run bench:gateway — BBB calls per second and latency through meetplane's
// gateway versus straight to the BBB double, measured in the same run, reported as
// ratios and as the latency the gateway adds. join (redirect=false, so every answer
// is a 200) and getMeetings. Loopback only; bounded by BENCH_SECONDS per measurement.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signQuery } from '../server/bbb/checksum.js';
import { parseResponse, text } from '../server/bbb/xml.js';
import { cli, fmt, load, serve, type Figures, onBothBackends } from './support.js';

const SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? 5), 30);
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

function line(call: string, direct: Figures, via: Figures): string {
  return (
    `${call.padEnd(12)} direct ${fmt(direct.rps).padStart(7)} req/s p50 ${direct.p50} ms p99 ${direct.p99} ms | ` +
    `gateway ${fmt(via.rps).padStart(7)} req/s p50 ${via.p50} ms p99 ${via.p99} ms | ` +
    `throughput ratio ${fmt(via.rps / direct.rps, 3)}  added p50 ${fmt(via.p50 - direct.p50, 1)} ms  p99 ${fmt(via.p99 - direct.p99, 1)} ms`
  );
}

async function run(label: string, env: Record<string, string>): Promise<void> {
  // A fresh double per run: joins add attendees, which would grow the next run's getMeetings.
  const double = await startDouble();
  const bbbUrl = double.url;
  const token = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], env)).trim().split('\n').pop()!;
  const server = await serve(env);
  try {
    const tenancy = await seed(server.url, token, bbbUrl);
    const gateway = `${server.url}/t/${tenancy.slug}/bigbluebutton/api`;
    const viaUrl = (call: string, params: Record<string, string>) => `${gateway}/${call}?${signQuery(call, params, tenancy.bbbSecret, 'sha256')}`;
    const directUrl = (call: string, params: Record<string, string>) => `${bbbUrl}/${call}?${signQuery(call, params, BBB_SECRET, 'sha256')}`;
    // One meeting of the tenancy, created through the gateway (so it carries the tag and belongs to the tenancy).
    const meetingID = `bench-room-${label}`;
    await expectSuccess(viaUrl('create', { meetingID, name: 'Bench room', attendeePW: 'ap', moderatorPW: 'mp' }));

    const getMeetings = [directUrl('getMeetings', {}), viaUrl('getMeetings', {})] as const;
    const joinParams = { meetingID, fullName: 'Bench', role: 'VIEWER', redirect: 'false' };
    const join = [directUrl('join', joinParams), viaUrl('join', joinParams)] as const;
    for (const u of [...getMeetings, ...join]) await expectSuccess(u);

    // getMeetings first: every join adds an attendee, which would grow later getMeetings answers.
    const gmDirect = await load({ url: getMeetings[0], connections: CONNECTIONS, seconds: SECONDS });
    const gmVia = await load({ url: getMeetings[1], connections: CONNECTIONS, seconds: SECONDS });
    const jDirect = await load({ url: join[0], connections: CONNECTIONS, seconds: SECONDS });
    const jVia = await load({ url: join[1], connections: CONNECTIONS, seconds: SECONDS });
    // Still answering SUCCESS after the load (getMeetings now lists every bench attendee: megabytes, not checked).
    for (const u of join) await expectSuccess(u);
    console.log(`${label}:`);
    console.log('  ' + line('getMeetings', gmDirect, gmVia));
    console.log('  ' + line('join', jDirect, jVia));
  } finally {
    await server.stop();
    await double.stop();
  }
}

console.log(`bench:gateway  ${CONNECTIONS} connections, ${SECONDS} s per measurement, Node ${process.version}, ${os.cpus().length} CPUs`);
await onBothBackends(run, { WORKER: 'off' });
