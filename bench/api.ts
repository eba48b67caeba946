// npm run bench:api [-- --quick] — authorised REST reads at 50 connections, on the embedded
// database and on PostgreSQL, each next to a floor app measured in the same run
// (bench/floor.ts: a bare Hono app verifying the same bearer with jose, or the PAT by its
// hash, and answering the same rows through a prepared statement; no facts, no policy).
// Cases: one tenancy with a client-credentials JWT, a page of 50 with that JWT, one tenancy
// with a PAT. Also idle-rss (RSS 5 s after start) and rss-under-load of meetplane next to
// the floor app's. Prints a table line and one JSON line per figure
// {"bench","case","backend","value","unit","baseline","ratio"}; any non-2xx discards the run.
import os from 'node:os';
import path from 'node:path';
import { createServer as netServer } from 'node:net';
import { cli, fmt, figure, load, measureSeconds, onBothBackends, rssMb, serve, sleep, startChild, type Figures } from './support.js';

const SECONDS = measureSeconds(8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SETTLE_MS = 5000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function seed(url: string, pat: string) {
  const api = async (p: string, body: unknown) => {
    const res = await fetch(url + '/api/v1' + p, { method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`seed ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const coop = await api('/coops', { slug: 'bench', name: 'Bench', jurisdiction: 'DE', contactEmail: 'b@bench.example', legalRegime: 'eu_gdpr' });
  const cluster = await api('/clusters', { coop: coop.id, name: 'c', apiUrl: 'https://bbb.bench.example/bigbluebutton/api', secret: 'bench-secret-123', country: 'DE', capacity: 1000 });
  let tenancy = '';
  for (let i = 0; i < 200; i++) tenancy ||= (await api('/tenancies', { slug: `t${i}`, name: `Tenancy ${i}`, coop: coop.id, cluster: cluster.id })).id!;
  const machine = await api('/clients', { name: 'Bench machine', coop: coop.id, kind: 'machine' });
  const res = await fetch(url + '/oidc/token', {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(machine.clientId!)}:${encodeURIComponent(machine.clientSecret!)}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=api',
  });
  const { access_token } = (await res.json()) as { access_token?: string };
  if (!access_token) throw new Error(`token request: ${res.status}`);
  const discovery = (await (await fetch(url + '/oidc/.well-known/openid-configuration')).json()) as { issuer: string; jwks_uri: string };
  const jwks = await (await fetch(discovery.jwks_uri)).text();
  const claims = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as { iss: string; aud: string | string[] };
  return { coop: coop.id!, tenancy, jwt: access_token, jwks, issuer: claims.iss, audience: [claims.aud].flat()[0]! };
}

interface Side {
  figures: Record<string, Figures>;
  idle: number;
  loaded: number;
}

/** The three cases against one server; both sides answer the same URLs. */
async function cases(url: string, pid: number, s: Awaited<ReturnType<typeof seed>> & { pat: string }): Promise<Side> {
  await sleep(SETTLE_MS);
  const idle = await rssMb(pid);
  const get = async (p: string, token: string) => {
    const res = await fetch(url + p, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${url}${p}: ${res.status} ${await res.text()}`);
  };
  const urls = {
    'tenancy-get-jwt': [`/api/v1/tenancies/${s.tenancy}`, s.jwt],
    'tenancies-page50-jwt': ['/api/v1/tenancies?limit=50', s.jwt],
    'tenancy-get-pat': [`/api/v1/tenancies/${s.tenancy}`, s.pat],
  } as const;
  const figures: Record<string, Figures> = {};
  // A short warm-up (JIT, pools, caches) before the first measured case, on both sides.
  await load({ url: url + urls['tenancy-get-jwt'][0], headers: { authorization: `Bearer ${s.jwt}` }, connections: CONNECTIONS, seconds: 1 });
  for (const [name, [p, token]] of Object.entries(urls)) {
    await get(p, token);
    figures[name] = await load({ url: url + p, headers: { authorization: `Bearer ${token}` }, connections: CONNECTIONS, seconds: SECONDS });
  }
  return { figures, idle, loaded: await rssMb(pid) };
}

async function run(label: 'pglite' | 'postgres', env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const full = { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
  const pat = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], full)).trim().split('\n').pop()!;
  const server = await serve(full);
  let seeded: Awaited<ReturnType<typeof seed>> & { pat: string };
  let ours: Side;
  try {
    seeded = { ...(await seed(server.url, pat)), pat };
    ours = await cases(server.url, server.child.pid!, seeded);
  } finally {
    await server.stop();
  }
  // PGlite allows one process per data directory: the floor app opens it once meetplane has stopped.
  const floorEnv: Record<string, string> = { FLOOR_JWKS: seeded.jwks, FLOOR_ISSUER: seeded.issuer, FLOOR_AUDIENCE: seeded.audience, FLOOR_COOP: seeded.coop };
  if (env.DATABASE_URL) floorEnv.FLOOR_DATABASE_URL = env.DATABASE_URL;
  else floorEnv.FLOOR_PGLITE_DIR = path.join(env.DATA_DIR!, 'pglite');
  const floor = await startChild('floor.js', floorEnv);
  let base: Side;
  try {
    base = await cases(floor.url, floor.pid, seeded);
  } finally {
    await floor.stop();
  }
  for (const [name, f] of Object.entries(ours.figures)) {
    const b = base.figures[name]!;
    console.log(`${label.padEnd(9)} ${name.padEnd(21)} ${fmt(f.rps).padStart(6)} req/s p50 ${f.p50} ms p99 ${f.p99} ms | floor ${fmt(b.rps).padStart(6)} req/s p50 ${b.p50} ms p99 ${b.p99} ms | ratio ${fmt(f.rps / b.rps, 3)}`);
    figure('api', name, label, f.rps, 'req/s', b.rps);
    figure('api', `${name}-p50`, label, f.p50, 'ms', b.p50);
    figure('api', `${name}-p99`, label, f.p99, 'ms', b.p99);
  }
  console.log(`${label.padEnd(9)} RSS idle ${fmt(ours.idle)} MB, after load ${fmt(ours.loaded)} MB | floor idle ${fmt(base.idle)} MB, after load ${fmt(base.loaded)} MB`);
  figure('api', 'idle-rss', label, ours.idle, 'MB', base.idle);
  figure('api', 'rss-under-load', label, ours.loaded, 'MB', base.loaded);
}

console.log(`bench:api  ${CONNECTIONS} connections, ${SECONDS} s per measurement, Node ${process.version}, ${os.cpus().length} CPUs; meetplane logs at ${process.env.BENCH_LOG_LEVEL ?? "info"} (each request at info), the floor app logs nothing`);
await onBothBackends(run);
