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
// against the 200 MB budget), and the CPU seconds each side spent, client and
// sshd together (lower is better; a loaded machine disturbs them less than
// wall time). Asserts nothing.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStorage } from '../server/storage/file.js';
import { SftpStorage } from '../server/storage/sftp.js';
import { copyFiles, MemoryCopyState, type CopyFile } from '../server/transfers/copy.js';
import { startSshd, type Sshd } from '../test/support/sshd.js';
import { generate, plan } from './recording-tree.js';
import { fmt, MB, RSS_BUDGET_MB, run, RUNS, settle, treeBytes } from './copy-support.js';

const totalBytes = treeBytes('BENCH_SFTP_MB', 256, 1024);

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

// CPU seconds of the reaped children of `pid` (cutime + cstime; Linux counts 100 ticks a second).
function childTicks(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
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
  process.once('SIGINT', () => {
    // stop() sends sshd its SIGTERM at once; its key directory is removed here.
    void sshd?.stop();
    if (sshd) rmSync(sshd.dir, { recursive: true, force: true });
    cleanup();
    process.exit(130);
  });
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

    // CPU seconds: this process's own, its reaped children's (the sftp client
    // and its ssh), and sshd's (each session's process is reaped by the
    // listener). Less disturbed than wall time by a machine shared with others.
    const sshdPid = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8'));
    const cpu = () => {
      const own = process.cpuUsage();
      return { own: (own.user + own.system) / 1e6, children: childTicks('self'), server: childTicks(sshdPid) };
    };
    const measure = async (transfer: () => Promise<void>, dst: string, fromClient: boolean) => {
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      const c0 = cpu();
      const t0 = performance.now();
      await transfer();
      const seconds = (performance.now() - t0) / 1000;
      const c1 = cpu();
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const got = tally(dst);
      if (got.files !== files.length || got.bytes !== bytes) throw new Error(`${fromClient ? 'sftp' : 'copy'} left ${got.files} files, ${got.bytes} bytes of ${files.length}, ${bytes}`);
      rmSync(dst, { recursive: true, force: true });
      await settle(); // the server's session process has exited and been reaped by now
      const clientCpu = fromClient ? c1.children - c0.children : c1.own - c0.own;
      return { seconds, peakRss, cpu: clientCpu + (childTicks(sshdPid) - c0.server) };
    };
    const copy = (from: FileStorage | SftpStorage, to: FileStorage | SftpStorage) => async () => {
      const result = await copyFiles({ from, to, files: files as CopyFile[], state: new MemoryCopyState() });
      await Promise.all([from.close(), to.close()]);
      if (result.copiedFiles !== files.length) throw new Error(`copied ${result.copiedFiles} of ${files.length} files`);
    };

    const put = path.join(work, 'put');
    const get = path.join(work, 'get');
    type Figures = Awaited<ReturnType<typeof measure>>;
    const rounds: { clientPut: Figures; put: Figures; clientGet: Figures; get: Figures }[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Each pair back to back, the client first, so both see the same machine.
      const clientPut = await measure(() => sftp(`put -r -f ${src} ${put}`), put, true);
      const mine = await measure(copy(new FileStorage(src), storage(put)), put, false);
      const clientGet = await measure(() => sftp(`get -r -f ${src} ${get}`), get, true);
      const back = await measure(copy(storage(src), new FileStorage(get)), get, false);
      rounds.push({ clientPut, put: mine, clientGet, get: back });
      const pair = (a: Figures, b: Figures) =>
        `sftp ${fmt(a.seconds, 2)} s (${fmt(a.cpu, 2)} s CPU), copy ${fmt(b.seconds, 2)} s (${fmt(b.cpu, 2)} s CPU): ${fmt(a.seconds / b.seconds, 2)}`;
      console.error(`round ${i + 1}: put: ${pair(clientPut, mine)}; get: ${pair(clientGet, back)}`);
    }
    const median = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
    const mbps = (s: number) => bytes / MB / s;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const line = (c: string, detail: string, value: number, unit: string, baseline: number) =>
      console.log(JSON.stringify({ bench: 'transfer', case: c, detail, backend: 'sftp', value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) }));
    const tree = `${files.length} files ${fmt(bytes / MB, 0)} MB`;
    const p = median(rounds, (r) => r.clientPut.seconds / r.put.seconds);
    line('copy-sftp-put', `file→sftp ${tree}, SHA-256, fsync (vs sftp -b put -r -f)`, mbps(p.put.seconds), 'MB/s', mbps(p.clientPut.seconds));
    const g = median(rounds, (r) => r.clientGet.seconds / r.get.seconds);
    line('copy-sftp-get', `sftp→file ${tree}, SHA-256, durable (vs sftp -b get -r -f)`, mbps(g.get.seconds), 'MB/s', mbps(g.clientGet.seconds));
    const pc = median(rounds, (r) => r.put.cpu / r.clientPut.cpu);
    line('copy-sftp-put-cpu', `file→sftp CPU seconds, client and sshd (vs sftp -b put -r -f; lower is better)`, pc.put.cpu, 's', pc.clientPut.cpu);
    const gc = median(rounds, (r) => r.get.cpu / r.clientGet.cpu);
    line('copy-sftp-get-cpu', `sftp→file CPU seconds, client and sshd (vs sftp -b get -r -f; lower is better)`, gc.get.cpu, 's', gc.clientGet.cpu);
    const rss = Math.max(...rounds.flatMap((r) => [r.put.peakRss, r.get.peakRss]));
    line('copy-sftp-rss', `copy over sftp peak RSS (vs ${RSS_BUDGET_MB} MB budget)`, rss / MB, 'MB', RSS_BUDGET_MB);
  } finally {
    await sshd?.stop();
    cleanup();
  }
}

const at = process.argv.indexOf('--generate');
if (at >= 0) generate(process.argv[at + 1]!, plan(totalBytes));
else await main();
