// Shared by the benchmarks: start `meetplane serve` as a child process (so the
// load generator does not share its event loop), run autocannon, and refuse
// to report figures from a run with any non-2xx answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');

export function cli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`meetplane ${args.join(' ')}: ${err}`))));
  });
}

/** The node flags of package.json's start script (between `node` and the script). */
export function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return start.split(' ').filter((w) => w.startsWith('--'));
}

/** A port nobody listens on now (the served process is given it when its log will not say which it took). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// The start line naming the port is logged at info: quieter levels are told a port and asked /readyz.
const ANNOUNCING = new Set(['trace', 'debug', 'info']);

export async function serve(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const level = process.env.BENCH_LOG_LEVEL ?? 'info';
  const port = ANNOUNCING.has(level) ? 0 : await freePort();
  return new Promise((resolve, reject) => {
    // The flags `npm start` gives node (package.json), so the figures are of the server as users run it;
    // BENCH_SERVE_NODE_ARGS: extra node flags for the served process only, e.g. "--cpu-prof --cpu-prof-dir=prof".
    const nodeArgs = [...startFlags(), ...(process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
      // Production logs one line per request at info: measure with that cost. The BBB doubles listen on loopback.
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: level, OUTBOUND_ALLOW: '127.0.0.0/8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let started = false;
    const ready = (listening: number) => {
      started = true;
      const stop = () =>
        new Promise<void>((r) => {
          child.once('exit', () => r());
          child.kill('SIGTERM');
        });
      resolve({ child, url: `http://127.0.0.1:${listening}`, stop });
    };
    const onData = (d: Buffer) => {
      if (started) return; // drain the request log without keeping it
      output += d;
      const m = port === 0 ? output.match(/"port":(\d+)[^\n]*meetplane listening/) : null;
      if (m) ready(Number(m[1]));
    };
    if (port !== 0) {
      const poll = async () => {
        while (!started && child.exitCode === null) {
          const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
          if (ok) return ready(port);
          await sleep(200);
        }
      };
      void poll();
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      if (!started) reject(new Error(`serve exited ${code}: ${output}`));
    });
  });
}

export interface Figures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

export async function load(opts: { url: string; headers?: Record<string, string>; connections?: number; seconds?: number; method?: 'GET' | 'POST'; body?: string }): Promise<Figures> {
  const result = await autocannon({
    url: opts.url,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
    connections: opts.connections ?? 10,
    duration: opts.seconds ?? 8,
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${opts.url}: ${bad} failed answers (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}); figures discarded`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

/** A uniquely named database on the benchmark's PostgreSQL, dropped by `drop`. */
export async function scratchPostgres(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch {
    await sql.end();
    return undefined;
  }
  const name = `meetplane_bench_${randomBytes(4).toString('hex')}`;
  await sql.unsafe(`create database "${name}"`);
  const u = new URL(admin);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    drop: async () => {
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Runs `run` on the embedded database and then, when a PostgreSQL server is
 * reachable, on a scratch database there; cleans up both.
 */
export async function onBothBackends(run: (label: 'pglite' | 'postgres', env: Record<string, string>) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-bench-'));
  const common = { MASTER_KEY: randomBytes(32).toString('base64'), DATA_DIR: dir, ...env };
  try {
    await run('pglite', common);
    const pg = await scratchPostgres();
    if (!pg) console.log('postgres  skipped: no server at BENCH_DATABASE_URL / DATABASE_URL / 127.0.0.1:5432');
    else {
      try {
        await run('postgres', { ...common, DATA_DIR: path.join(dir, 'pg'), DATABASE_URL: pg.url });
      } finally {
        await pg.drop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--quick`: about 3 s a measurement, so a case (its figure and its baseline) takes about 5 s. */
export const QUICK = process.argv.includes('--quick');
export function measureSeconds(full: number): number {
  return QUICK ? 3 : Math.min(Number(process.env.BENCH_SECONDS ?? full), 30);
}

/** One figure as a JSON line {"bench","case","backend","value","unit","baseline","ratio"} (ratio = value / baseline). */
export function figure(bench: string, c: string, backend: string, value: number, unit: string, baseline: number): void {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({ bench, case: c, backend, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) }));
}

/** Resident set size of a process in MB (Linux /proc), the figure an operator's `ps` shows. */
export async function rssMb(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a baseline server of the benchmarks (bench/floor.js, bench/raw-proxy.js, ...) as its own
 * process; it prints {"url"} on its first stdout line and stops on SIGTERM.
 */
export function startChild(script: string, env: Record<string, string>, args: string[] = []): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/bench', script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      const { url } = JSON.parse(out.slice(0, nl)) as { url: string };
      resolve({ url, pid: child.pid!, stop: () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM')))) });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${err}`)));
  });
}

/**
 * `work`, with a CPU profile of this process while it runs written to BENCH_CPU_PROFILE (a folder)
 * as `<name>.cpuprofile` when that is set: the measured part alone, not the set-up around it.
 */
export async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return work();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
