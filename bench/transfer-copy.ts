// Recording copy throughput: copyFiles FileStorage→FileStorage (read once,
// SHA-256, .partial + rename, made durable and recorded in batches) against
// `cp -r` followed by `sync` of the same 2,000-file recordings-like tree on the
// same disk, measured right before it in the same run; and without durability
// against `cp -r` alone; with the process's peak RSS. BENCH_COPY_MB (default
// 2048, --quick 512) sets the size; BENCH_RUNS (default 3) the rounds, the
// figure is the median round's. Prints one JSON line per figure
// {"bench","case","backend","value","unit","baseline","ratio"} (throughput in
// MB/s, ratio = value / baseline, higher is better; peak RSS in MB against the
// 200 MB budget, lower is better); asserts nothing.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FileStorage } from '../server/storage/file.js';
import { copyFiles, MemoryCopyState, type CopyFile } from '../server/transfers/copy.js';

const run = promisify(execFile);
const MB = 1024 * 1024;
const QUICK = process.argv.includes('--quick');
const totalBytes = Math.max(1, Number(process.env.BENCH_COPY_MB ?? (QUICK ? 512 : 2048))) * MB;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const RSS_BUDGET_MB = 200;
const RECORDINGS = 40;
const SLIDES = 41; // per recording; with the xml/json files, 2,000 files in all

/** Recordings as BBB publishes them: a few big videos, many small slides and xml/json. */
function plan(): CopyFile[] {
  const files: CopyFile[] = [];
  let small = 0;
  let seed = 42;
  const rand = (lo: number, hi: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return lo + (seed % (hi - lo + 1));
  };
  const big: CopyFile[] = [];
  for (let r = 0; r < RECORDINGS; r++) {
    const id = `presentation/${r.toString(16).padStart(8, '0')}a1b2c3d4e5f60718293a4b5c6d7e8f90-16${String(r).padStart(11, '0')}`;
    const add = (rel: string, size: number) => {
      files.push({ path: `${id}/${rel}`, size });
      small += size;
    };
    add('metadata.xml', rand(800, 3000));
    add('events.xml', rand(20_000, 400_000));
    add('cursor.xml', rand(1000, 60_000));
    add('panzooms.xml', rand(500, 20_000));
    add('shapes.svg', rand(2000, 200_000));
    add('captions.json', rand(2, 2000));
    add('presentation_text.json', rand(200, 30_000));
    for (let i = 0; i < SLIDES; i++) add(`presentation/d${r}/slide-${i + 1}.png`, rand(15_000, 250_000));
    big.push({ path: `${id}/video/webcams.webm`, size: 0 }, { path: `${id}/deskshare/deskshare.webm`, size: 0 });
  }
  // The videos share what is left, unevenly (webcams ~3x deskshare).
  const left = Math.max(big.length, totalBytes - small);
  const weights = big.map((_, i) => (i % 2 === 0 ? 3 : 1) * (1 + ((i * 37) % 11) / 10));
  const sum = weights.reduce((a, b) => a + b, 0);
  big.forEach((f, i) => (f.size = Math.floor((left * weights[i]!) / sum)));
  return [...files, ...big].sort((a, b) => (a.path < b.path ? -1 : 1));
}

function generate(root: string, files: CopyFile[]): void {
  // Slices of one random block at moving offsets: incompressible, and fast to make.
  const block = randomBytes(64 * MB);
  let offset = 0;
  for (const f of files) {
    const full = path.join(root, f.path);
    mkdirSync(path.dirname(full), { recursive: true });
    const chunks: Buffer[] = [];
    for (let left = f.size; left > 0; ) {
      const n = Math.min(left, block.length - offset, 8 * MB);
      chunks.push(block.subarray(offset, offset + n));
      offset = (offset + n + 4099) % (block.length - 1);
      left -= n;
    }
    writeFileSync(full, Buffer.concat(chunks));
  }
}

const fmt = (n: number, d = 1) => n.toFixed(d);

// Let the disk finish the previous step's writeback and deletes (ext4 with
// `discard` trims on delete) so no run pays for the one before it.
async function settle(): Promise<void> {
  await run('sync');
  await new Promise((r) => setTimeout(r, 2000));
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'mp-bench-copy-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  try {
    const files = plan();
    const bytes = files.reduce((s, f) => s + f.size, 0);
    const src = path.join(work, 'src');
    console.error(`generating ${files.length} files, ${fmt(bytes / MB, 0)} MB in ${work}`);
    // In a child process: its buffers would otherwise count in this process's peak RSS.
    await run(process.execPath, [fileURLToPath(import.meta.url), '--generate', src], { env: { ...process.env, BENCH_COPY_MB: String(totalBytes / MB) } });
    await settle();

    // Each round: the baseline, then the copy, back to back, so both see the same machine.
    const rounds: { cp: number; cpSync: number; durable: number; plain: number; peakRss: number }[] = [];
    const timeCp = async (withSync: boolean) => {
      const t0 = performance.now();
      await run('cp', ['-r', src, path.join(work, 'cp')]);
      if (withSync) await run('sync');
      const seconds = (performance.now() - t0) / 1000;
      rmSync(path.join(work, 'cp'), { recursive: true, force: true });
      await settle();
      return seconds;
    };
    const timeCopy = async (fsync: boolean) => {
      const dst = path.join(work, 'dst');
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      const start = performance.now();
      const result = await copyFiles({ from: new FileStorage(src), to: new FileStorage(dst, { fsync }), files, state: new MemoryCopyState() });
      const seconds = (performance.now() - start) / 1000;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (result.copiedFiles !== files.length) throw new Error(`copied ${result.copiedFiles} of ${files.length} files`);
      rmSync(dst, { recursive: true, force: true });
      await settle();
      return { seconds, peakRss };
    };
    for (let i = 0; i < RUNS; i++) {
      const cpSync = await timeCp(true);
      const durable = await timeCopy(true);
      const cp = await timeCp(false);
      const plain = await timeCopy(false);
      rounds.push({ cp, cpSync, durable: durable.seconds, plain: plain.seconds, peakRss: Math.max(durable.peakRss, plain.peakRss) });
      console.error(`round ${i + 1}: cp -r + sync ${fmt(cpSync, 2)} s, copy ${fmt(durable.seconds, 2)} s (${fmt(cpSync / durable.seconds, 2)}); cp -r ${fmt(cp, 2)} s, copy without fsync ${fmt(plain.seconds, 2)} s (${fmt(cp / plain.seconds, 2)})`);
    }
    const median = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
    const mbps = (s: number) => bytes / MB / s;
    const line = (c: string, value: number, unit: string, baseline: number) => {
      const round = (x: number) => Math.round(x * 1000) / 1000;
      console.log(JSON.stringify({ bench: 'transfer', case: c, backend: 'file', value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) }));
    };
    const d = median(rounds, (r) => r.cpSync / r.durable);
    line(`copy ${files.length} files ${fmt(bytes / MB, 0)} MB, SHA-256, durable (vs cp -r + sync)`, mbps(d.durable), 'MB/s', mbps(d.cpSync));
    const p = median(rounds, (r) => r.cp / r.plain);
    line(`copy ${files.length} files ${fmt(bytes / MB, 0)} MB, SHA-256, no fsync (vs cp -r)`, mbps(p.plain), 'MB/s', mbps(p.cp));
    line(`copy peak RSS (vs ${RSS_BUDGET_MB} MB budget)`, Math.max(...rounds.map((r) => r.peakRss)) / MB, 'MB', RSS_BUDGET_MB);
  } finally {
    cleanup();
  }
}

const at = process.argv.indexOf('--generate');
if (at >= 0) generate(process.argv[at + 1]!, plan());
else await main();
