// The README's quick start works when copied line by line: this test takes the
// lines between its quick-start markers and runs them in one bash, on a fresh
// data directory and a free port (8080 and ./data replaced), with `npm ci`
// left out (the suite runs on an installed checkout).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'meetplane-quickstart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function quickStart(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- quick-start:begin -->\n```sh\n([\s\S]*?)```\n<!-- quick-start:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no quick-start block between <!-- quick-start:begin --> and <!-- quick-start:end -->');
  return block[1]!.trimEnd().split('\n');
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe('README quick start', () => {
  it('starts the server, creates the first admin and a co-op, copied line by line', async () => {
    const lines = quickStart();
    expect(lines[0]).toBe('npm ci');
    const port = await freePort();
    const dataDir = path.join(scratch, 'data');
    const script = [
      'set -e',
      `export PORT=${port} DATA_DIR=${dataDir}`,
      // Whatever runs in the background is stopped when the script ends.
      "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
      ...lines.filter((l) => l !== 'npm ci').map((l) => l.replaceAll('8080', String(port)).replace('> meetplane.log', `> ${path.join(scratch, 'meetplane.log')}`)),
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['MEETPLANE_URL', 'MEETPLANE_TOKEN', 'DATABASE_URL', 'MASTER_KEY']) delete env[k];
    env.MEETPLANE_CONFIG = path.join(scratch, 'cli.json');
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      // A process group of its own: npm does not always pass the trap's SIGTERM on to the server it
      // started, which then outlived the test; the whole group is stopped once the script ends.
      const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // the group is gone already
        }
        resolve({ code, out, err });
      });
    });
    const log = (() => {
      try {
        return readFileSync(path.join(scratch, 'meetplane.log'), 'utf8');
      } catch {
        return '';
      }
    })();
    expect(result.code, `${result.err}\nserver log:\n${log}`).toBe(0);
    expect(result.out).toContain('you@example.org');
    expect(result.out).toMatch(/north\s+North Co-op/);
  }, 120_000);
});
