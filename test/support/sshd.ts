// A throwaway OpenSSH server on a loopback port for the SFTP backend tests:
// host key and client key generated into a temp dir, key-only login for the
// user running the tests, internal-sftp, everything under the temp dir.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { hostKeyFingerprint } from '../../server/storage/sftp.js';

export const SSHD = '/usr/sbin/sshd';
export const hasSshd = existsSync(SSHD) && existsSync('/usr/bin/ssh-keygen');

export interface Sshd {
  port: number;
  user: string;
  dir: string;
  privateKey: string;
  hostKeySha256: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startSshd(): Promise<Sshd> {
  // A missing tool fails the run loudly: a skipped SFTP suite would let CI go green untested.
  if (!hasSshd) throw new Error(`${SSHD} or /usr/bin/ssh-keygen is missing: install openssh-server (apt-get install openssh-server); the SFTP tests need it`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-sshd-'));
  const keygen = (file: string) => execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'meetplane-test', '-f', file]);
  keygen(path.join(dir, 'host_ed25519'));
  keygen(path.join(dir, 'client_ed25519'));
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'client_ed25519.pub')));
  const user = userInfo().username;
  const config = [
    `HostKey ${dir}/host_ed25519`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    `PidFile ${dir}/sshd.pid`,
    `AllowUsers ${user}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
  ].join('\n');
  writeFileSync(path.join(dir, 'sshd_config'), config + '\n');
  // sshd run as root wants its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config'), '-p', String(port), '-o', 'ListenAddress=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitForPort(port, child, () => stderr);

  const pub = readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').split(' ')[1]!;
  return {
    port,
    user,
    dir,
    privateKey: readFileSync(path.join(dir, 'client_ed25519'), 'utf8'),
    hostKeySha256: hostKeyFingerprint(Buffer.from(pub, 'base64')),
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${stderr()}`);
}
