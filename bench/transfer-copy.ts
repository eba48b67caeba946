// Recording copy throughput: `cp -r` of a recordings-like tree against
// copyFiles FileStorage→FileStorage (streamed, SHA-256, .partial + rename,
// state recorded per file) on the same disk, with the process's peak RSS.
// Prints figures, asserts nothing. BENCH_COPY_MB (default 2048) sets the size.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FileStorage } from '../server/storage/file.js';
import { copyFiles, MemoryCopyState, type CopyFile } from '../server/transfers/copy.js';

const run = promisify(execFile);
const MB = 1024 * 1024;
const totalBytes = Math.max(1, Number(process.env.BENCH_COPY_MB ?? 2048)) * MB;
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
    console.log(`generating ${files.length} files, ${fmt(bytes / MB, 0)} MB in ${work}`);
    generate(src, files);
    await settle();

    const t0 = performance.now();
    await run('cp', ['-r', src, path.join(work, 'cp')]);
    const cpSeconds = (performance.now() - t0) / 1000;
    await run('sync');
    const cpSyncSeconds = (performance.now() - t0) / 1000;
    rmSync(path.join(work, 'cp'), { recursive: true, force: true });
    await settle();

    const results: { label: string; seconds: number; peakRss: number; baseRss: number }[] = [];
    for (const fsync of [true, false]) {
      const dst = path.join(work, `dst-${fsync}`);
      const baseRss = process.memoryUsage().rss;
      let peakRss = baseRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      const start = performance.now();
      const result = await copyFiles({ from: new FileStorage(src), to: new FileStorage(dst, { fsync }), files, state: new MemoryCopyState() });
      const seconds = (performance.now() - start) / 1000;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (result.copiedFiles !== files.length) throw new Error(`copied ${result.copiedFiles} of ${files.length} files`);
      results.push({ label: `copyFiles, SHA-256, fsync ${fsync ? 'on (default)' : 'off'}`, seconds, peakRss, baseRss });
      rmSync(dst, { recursive: true, force: true });
      await settle();
    }

    const rate = (s: number) => bytes / MB / s;
    console.log(`\n${files.length} files, ${fmt(bytes / MB, 0)} MB, same disk (${tmpdir()}), source in page cache for every run`);
    console.log(`  cp -r                                    ${fmt(rate(cpSeconds)).padStart(8)} MB/s  (${fmt(cpSeconds, 2)} s)`);
    console.log(`  cp -r + sync                             ${fmt(rate(cpSyncSeconds)).padStart(8)} MB/s  (${fmt(cpSyncSeconds, 2)} s)`);
    for (const r of results) {
      const vs = r.label.includes('fsync on') ? cpSyncSeconds : cpSeconds;
      console.log(
        `  ${r.label.padEnd(40)} ${fmt(rate(r.seconds)).padStart(8)} MB/s  (${fmt(r.seconds, 2)} s)  ratio to ${r.label.includes('fsync on') ? 'cp -r + sync' : 'cp -r'}: ${fmt(vs / r.seconds, 2)}  peak RSS ${fmt(r.peakRss / MB, 0)} MB (${fmt(r.baseRss / MB, 0)} MB before)`,
      );
    }
  } finally {
    cleanup();
  }
}

await main();
