// The embedded database holds one process: a second command on the same
// DATA_DIR is refused with one line naming the holder (it used to abort inside
// WebAssembly), and a lock left by a process that died is taken over.
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, serveCli } from '../support/cli.js';
import { stderrLines } from './stderr-lines.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-lock-'));
const dataDir = path.join(dir, 'data');
const env = { MASTER_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir };
const lockFile = path.join(dataDir, 'meetplane.lock');
let server: Awaited<ReturnType<typeof serveCli>> | undefined;

afterAll(() => {
  if (server?.child.exitCode === null) server.child.kill('SIGKILL');
});

/** A pid no process has on this machine. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

describe('the data directory lock', () => {
  it('refuses a second process with one line naming the first, and releases the lock on exit', async () => {
    server = await serveCli(env);
    const holder = JSON.parse(readFileSync(lockFile, 'utf8'));
    expect(holder).toMatchObject({ pid: server.child.pid, host: os.hostname(), command: 'meetplane serve' });

    // (admin bootstrap goes through the running server instead: test/cli/setup-link.test.ts)
    for (const args of [['db', 'migrate'], ['keys', 'list'], ['serve']]) {
      const second = await runCli(args, { ...env, PORT: '0' });
      expect(second.code, args.join(' ')).toBe(1);
      expect(stderrLines(second.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(`^meetplane: the embedded database in ${dataDir} is in use by process ${server.child.pid} \\(meetplane serve, started \\d\\d:\\d\\d UTC\\); stop it first, or use DATABASE_URL`),
        ),
      ]);
      expect(second.stderr).not.toMatch(/Aborted|WebAssembly|\n\s+at /);
    }
    // The refused commands did not disturb the holder's lock.
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(server.child.pid);

    server.child.kill('SIGTERM');
    await new Promise((resolve) => server!.child.once('exit', resolve));
    expect(existsSync(lockFile)).toBe(false);
    const after = await runCli(['db', 'migrate'], env);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  }, 90_000);

  it('takes over a lock whose process no longer exists, with a warning', async () => {
    mkdirSync(dataDir, { recursive: true });
    const pid = deadPid();
    writeFileSync(lockFile, JSON.stringify({ pid, host: os.hostname(), command: 'meetplane serve', startedAt: new Date().toISOString() }));
    const r = await runCli(['db', 'migrate'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('migrations applied (pglite)');
    expect(stderrLines(r.stderr)).toEqual([`meetplane: took over a stale lock on ${dataDir}: process ${pid} (meetplane serve) is no longer running`]);
    expect(existsSync(lockFile)).toBe(false);
  }, 60_000);

  it('takes over the lock of a server that was killed', async () => {
    server = await serveCli(env);
    const pid = server.child.pid;
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(pid);
    const r = await runCli(['db', 'migrate'], env);
    expect(r.code).toBe(0);
    expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^meetplane: took over a stale lock .*process ${pid} \\(meetplane serve\\)`))]);
  }, 90_000);
});
