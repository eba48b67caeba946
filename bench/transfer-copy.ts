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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStorage } from '../server/storage/file.js';
import { copyFiles, MemoryCopyState } from '../server/transfers/copy.js';
import { generate, plan } from './recording-tree.js';
import { fmt, MB, RSS_BUDGET_MB, run, RUNS, settle, treeBytes } from './copy-support.js';

const totalBytes = treeBytes('BENCH_COPY_MB', 512, 2048);

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'mp-bench-copy-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  try {
    const files = plan(totalBytes);
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
if (at >= 0) generate(process.argv[at + 1]!, plan(totalBytes));
else await main();
