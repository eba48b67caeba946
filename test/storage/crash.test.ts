// A copy killed with SIGKILL (no cleanup code runs) is resumed by a new run:
// files recorded done are not copied again, the half-written file continues
// from what is on the target, and the result is byte-identical.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage, SftpStorage } from '../../server/storage/index.js';
import { copyFiles, verifyFiles, type CopyProgress } from '../../server/transfers/copy.js';
import { startSshd } from '../support/sshd.js';
import { CountingStorage, FileCopyState } from '../support/storage.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mp-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the worker and SIGKILLs it once it has copied more than `killAfter` bytes. */
function runAndKill(
  args: string[],
  killAfter: number,
  env: Record<string, string> = {},
): Promise<{ signal: NodeJS.Signals | null; last: CopyProgress | null; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/copy-worker.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let buffer = '';
    let stderr = '';
    let last: CopyProgress | null = null;
    let finished = false;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as CopyProgress | 'finished';
        buffer = buffer.slice(nl + 1);
        if (line === 'finished') finished = true;
        else last = line;
        if (last && last.bytesDone > killAfter && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code && code !== 0 ? reject(new Error(`worker exited ${code}: ${stderr}`)) : resolve({ signal, last, finished })));
  });
}

describe('copy after a crash', () => {
  it('resumes after the copying process was killed with SIGKILL in the middle of a large file', async () => {
    const srcDir = path.join(dir, 'src');
    const dstDir = path.join(dir, 'dst');
    const stateFile = path.join(dir, 'state.jsonl');
    const src = new FileStorage(srcDir);
    const big = randomBytes(16 * 1024 * 1024 + 777);
    const small = Array.from({ length: 5 }, () => randomBytes(5000));
    // Sorted listing order: the small files come first, then the big one.
    for (const [i, s] of small.entries()) await src.writeFile(`r1/a-slide-${i}.png`, [s]);
    await src.writeFile('r1/video/webcams.webm', [big]);

    const smallTotal = small.reduce((n, s) => n + s.length, 0);
    // 5 ms per 256 KiB chunk: the big file takes over 300 ms, time enough to be killed in it.
    const run = await runAndKill([srcDir, dstDir, stateFile, '5'], smallTotal + 4 * 1024 * 1024);
    expect(run.signal).toBe('SIGKILL');
    expect(run.finished).toBe(false);

    const state = new FileCopyState(stateFile);
    const recorded = await state.done();
    expect(recorded.map((r) => r.path).sort()).toEqual(small.map((_, i) => `r1/a-slide-${i}.png`));
    const partial = path.join(dstDir, 'r1/video/webcams.webm.partial');
    expect(existsSync(partial)).toBe(true);
    const partialSize = statSync(partial).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThan(big.length);
    expect(existsSync(path.join(dstDir, 'r1/video/webcams.webm'))).toBe(false);

    const from = new CountingStorage(src);
    const files = [];
    for await (const f of src.list()) files.push(f);
    const result = await copyFiles({ from, to: new FileStorage(dstDir), files, state });
    expect(result).toMatchObject({ skippedFiles: 5, resumedFiles: 1, copiedFiles: 1 });
    expect(from.bytesRead).toBe(big.length - partialSize);
    expect(readFileSync(path.join(dstDir, 'r1/video/webcams.webm')).equals(big)).toBe(true);
    expect(result.manifest.at(-1)!.sha256).toBe(createHash('sha256').update(big).digest('hex'));
    expect(existsSync(partial)).toBe(false);
    expect(await verifyFiles(new FileStorage(dstDir), result.manifest)).toEqual([]);
  });

  it('over SFTP, with several writes in flight when killed: the partial file is a prefix of the source and the copy resumes from it', async () => {
    const sshd = await startSshd();
    try {
      const srcDir = path.join(dir, 'src');
      const dstDir = path.join(dir, 'dst');
      const stateFile = path.join(dir, 'state.jsonl');
      const src = new FileStorage(srcDir);
      const big = randomBytes(16 * 1024 * 1024 + 777);
      const small = Array.from({ length: 5 }, () => randomBytes(5000));
      for (const [i, s] of small.entries()) await src.writeFile(`r1/a-slide-${i}.png`, [s]);
      await src.writeFile('r1/video/webcams.webm', [big]);
      const smallTotal = small.reduce((n, s) => n + s.length, 0);

      const url = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${dstDir}`;
      const run = await runAndKill([srcDir, url, stateFile, '5'], smallTotal + 4 * 1024 * 1024, {
        COPY_WORKER_SFTP_KEY: sshd.privateKey,
        COPY_WORKER_SFTP_HOSTKEY: sshd.hostKeySha256,
      });
      expect(run.signal).toBe('SIGKILL');
      expect(run.finished).toBe(false);
      const state = new FileCopyState(stateFile);
      expect((await state.done()).map((r) => r.path).sort()).toEqual(small.map((_, i) => `r1/a-slide-${i}.png`));
      // The server finishes the requests it had read when the client died: wait for the file to stop growing.
      const partial = path.join(dstDir, 'r1/video/webcams.webm.partial');
      let partialSize = -1;
      for (let size = statSync(partial).size; size !== partialSize; size = statSync(partial).size) {
        partialSize = size;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(partialSize).toBeGreaterThan(0);
      expect(partialSize).toBeLessThan(big.length);
      expect(readFileSync(partial).equals(big.subarray(0, partialSize))).toBe(true);

      const from = new CountingStorage(src);
      const to = new SftpStorage({ host: '127.0.0.1', port: sshd.port, username: sshd.user, root: dstDir, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 });
      const files = [];
      for await (const f of src.list()) files.push(f);
      try {
        const result = await copyFiles({ from, to, files, state });
        expect(result).toMatchObject({ skippedFiles: 5, resumedFiles: 1, copiedFiles: 1 });
        expect(from.bytesRead).toBe(big.length - partialSize);
        expect(readFileSync(path.join(dstDir, 'r1/video/webcams.webm')).equals(big)).toBe(true);
        expect(result.manifest.at(-1)!.sha256).toBe(createHash('sha256').update(big).digest('hex'));
        expect(existsSync(partial)).toBe(false);
        expect(await verifyFiles(to, result.manifest)).toEqual([]);
      } finally {
        await to.close();
      }
    } finally {
      await sshd.stop();
    }
  });
});
