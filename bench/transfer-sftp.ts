// Recording copy throughput over SFTP, against OpenSSH's own `sftp` client to
// the same server in the same run. One throwaway sshd on a loopback port
// (test/support/sshd.ts, internal-sftp) serves both. Each round, on the same
// 2,000-file recordings-like tree (bench/recording-tree.ts):
//   put: `sftp -b` with `put -r -f` (fsync@openssh.com after each file), then
//        copyFiles FileStorage→SftpStorage (SHA-256, .partial + rename, fsync);
//   get: `sftp -b` with `get -r -f` (fsync(2) after each file), then
//        copyFiles SftpStorage→FileStorage (SHA-256, durable batches).
// Both clients log in with the same key and check the pinned host key, and
// both pay for their own connection. BENCH_SFTP_MB (default 1024, --quick 256)
// sets the size, BENCH_RUNS (3) the rounds; the median round is reported, as
// JSON lines {"bench","case","backend","value","unit","baseline","ratio"}
// (MB/s, ratio = value / baseline, higher is better; peak RSS of this process
// against the 200 MB budget). Asserts nothing.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FileStorage } from '../server/storage/file.js';
import { SftpStorage } from '../server/storage/sftp.js';
import { copyFiles, MemoryCopyState, type CopyFile } from '../server/transfers/copy.js';
import { startSshd, type Sshd } from '../test/support/sshd.js';
import { generate, plan } from './recording-tree.js';

const run = promisify(execFile);
const MB = 1024 * 1024;
const QUICK = process.argv.includes('--quick');
const totalBytes = Math.max(1, Number(process.env.BENCH_SFTP_MB ?? (QUICK ? 256 : 1024))) * MB;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const RSS_BUDGET_MB = 200;
const fmt = (n: number, d = 1) => n.toFixed(d);

// Let the disk finish the previous step's writeback and deletes so no run pays for the one before it.
async function settle(): Promise<void> {
  await run('sync');
  await new Promise((r) => setTimeout(r, 2000));
}

// Bytes and files under `dir`: a baseline that copied less would look fast.
function tally(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(path.join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}

/** `sftp -b` as a careful operator would run it: key only, pinned host key, no prompts. */
function sftpClient(sshd: Sshd, work: string): (commands: string) => Promise<void> {
  const key = path.join(work, 'client_key');
  writeFileSync(key, sshd.privateKey);
  chmodSync(key, 0o600);
  const knownHosts = path.join(work, 'known_hosts');
  const hostPub = readFileSync(path.join(sshd.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${hostPub}\n`);
  const batch = path.join(work, 'batch');
  return async (commands) => {
    writeFileSync(batch, commands + '\n');
    await run('sftp', [
      '-b', batch,
      '-P', String(sshd.port),
      '-i', key,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-F', '/dev/null',
      `${sshd.user}@127.0.0.1`,
    ]);
  };
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'mp-bench-sftp-'));
  let sshd: Sshd | undefined;
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  try {
    const files = plan(totalBytes);
    const bytes = files.reduce((s, f) => s + f.size, 0);
    const src = path.join(work, 'src');
    console.error(`generating ${files.length} files, ${fmt(bytes / MB, 0)} MB in ${work}`);
    // In a child process: its buffers would otherwise count in this process's peak RSS.
    await run(process.execPath, [fileURLToPath(import.meta.url), '--generate', src], { env: { ...process.env, BENCH_SFTP_MB: String(totalBytes / MB) } });
    sshd = await startSshd();
    const sftp = sftpClient(sshd, work);
    const storage = (root: string) =>
      new SftpStorage({ host: '127.0.0.1', port: sshd!.port, username: sshd!.user, root, privateKey: sshd!.privateKey, hostKeySha256: sshd!.hostKeySha256 });
    await settle();

    const timeClient = async (commands: string, dst: string) => {
      const t0 = performance.now();
      await sftp(commands);
      const seconds = (performance.now() - t0) / 1000;
      const got = tally(dst);
      if (got.files !== files.length || got.bytes !== bytes) throw new Error(`sftp copied ${got.files} files, ${got.bytes} bytes of ${files.length}, ${bytes}`);
      rmSync(dst, { recursive: true, force: true });
      await settle();
      return seconds;
    };
    const timeCopy = async (open: () => { from: FileStorage | SftpStorage; to: FileStorage | SftpStorage }, dst: string) => {
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      const t0 = performance.now();
      const { from, to } = open();
      const result = await copyFiles({ from, to, files: files as CopyFile[], state: new MemoryCopyState() });
      await Promise.all([from.close(), to.close()]);
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (result.copiedFiles !== files.length) throw new Error(`copied ${result.copiedFiles} of ${files.length} files`);
      const got = tally(dst);
      if (got.files !== files.length || got.bytes !== bytes) throw new Error(`copy left ${got.files} files, ${got.bytes} bytes of ${files.length}, ${bytes}`);
      rmSync(dst, { recursive: true, force: true });
      await settle();
      return { seconds, peakRss };
    };

    const put = path.join(work, 'put');
    const get = path.join(work, 'get');
    const rounds: { clientPut: number; put: number; clientGet: number; get: number; peakRss: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Each pair back to back, the client first, so both see the same machine.
      const clientPut = await timeClient(`put -r -f ${src} ${put}`, put);
      const mine = await timeCopy(() => ({ from: new FileStorage(src), to: storage(put) }), put);
      const clientGet = await timeClient(`get -r -f ${src} ${get}`, get);
      const back = await timeCopy(() => ({ from: storage(src), to: new FileStorage(get) }), get);
      rounds.push({ clientPut, put: mine.seconds, clientGet, get: back.seconds, peakRss: Math.max(mine.peakRss, back.peakRss) });
      console.error(
        `round ${i + 1}: put: sftp ${fmt(clientPut, 2)} s, copy ${fmt(mine.seconds, 2)} s (${fmt(clientPut / mine.seconds, 2)}); ` +
          `get: sftp ${fmt(clientGet, 2)} s, copy ${fmt(back.seconds, 2)} s (${fmt(clientGet / back.seconds, 2)})`,
      );
    }
    const median = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
    const mbps = (s: number) => bytes / MB / s;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const line = (c: string, detail: string, value: number, unit: string, baseline: number) =>
      console.log(JSON.stringify({ bench: 'transfer', case: c, detail, backend: 'sftp', value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) }));
    const tree = `${files.length} files ${fmt(bytes / MB, 0)} MB`;
    const p = median(rounds, (r) => r.clientPut / r.put);
    line('copy-sftp-put', `file→sftp ${tree}, SHA-256, fsync (vs sftp -b put -r -f)`, mbps(p.put), 'MB/s', mbps(p.clientPut));
    const g = median(rounds, (r) => r.clientGet / r.get);
    line('copy-sftp-get', `sftp→file ${tree}, SHA-256, durable (vs sftp -b get -r -f)`, mbps(g.get), 'MB/s', mbps(g.clientGet));
    line('copy-sftp-rss', `copy over sftp peak RSS (vs ${RSS_BUDGET_MB} MB budget)`, Math.max(...rounds.map((r) => r.peakRss)) / MB, 'MB', RSS_BUDGET_MB);
  } finally {
    await sshd?.stop();
    cleanup();
  }
}

const at = process.argv.indexOf('--generate');
if (at >= 0) generate(process.argv[at + 1]!, plan(totalBytes));
else await main();
