// The packaging in deploy/ as a sysadmin would check it: systemd accepts the
// unit, and the container image's final stage holds everything `serve` needs.
// No container builder can fetch base images here, so the image test builds
// the final stage's file tree from its COPY lines and starts the server in it.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'meetplane-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe('systemd unit (deploy/meetplane.service)', () => {
  const text = readFileSync(path.join(ROOT, 'deploy/meetplane.service'), 'utf8');

  it('passes systemd-analyze verify without a warning', () => {
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.error) throw new Error('systemd-analyze is missing: install the systemd package (Debian) to check the unit');
    // verify checks that ExecStart's program exists: point it at this Node.
    const copy = path.join(scratch, 'meetplane.service');
    writeFileSync(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs unprivileged with a read-only system and one writable state directory', () => {
    const s = unitSettings(text);
    expect(s.get('DynamicUser')).toEqual(['yes']);
    expect(s.get('User')).toBeUndefined();
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.get('NoNewPrivileges')).toEqual(['yes']);
    expect(s.get('CapabilityBoundingSet')).toEqual(['']);
    expect(s.get('StateDirectory')).toEqual(['meetplane']);
    expect(s.get('Environment')?.join(' ')).toContain('DATA_DIR=/var/lib/meetplane');
    expect(s.get('ExecStart')?.[0]).toMatch(/dist\/cli\/main\.js serve$/);
  });

  it('gives node the flags npm start gives it (a small young generation, not one sized from the host)', () => {
    const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const flags = start.split(' ').filter((w) => w.startsWith('--'));
    expect(flags).toContain('--max-semi-space-size=8');
    expect(unitSettings(text).get('Environment')?.join(' ')).toContain(`NODE_OPTIONS=${flags.join(' ')}`);
    expect(readFileSync(path.join(ROOT, 'deploy/Containerfile'), 'utf8')).toContain(`ENV NODE_OPTIONS=${flags.join(' ')}`);
    // The installed `meetplane` command too.
    expect(readFileSync(path.join(ROOT, 'cli/main.ts'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags.join(' ')}`);
  });
});

describe('container image (deploy/Containerfile)', () => {
  const text = readFileSync(path.join(ROOT, 'deploy/Containerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);
  const final = stages.at(-1)!;

  it('is multi-stage, runs as a non-root user and checks /readyz', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = final.match(/^USER (\S+)/m)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(final).toMatch(/^HEALTHCHECK [\s\S]*\/readyz/m);
    // Build tools stay in the first stage: the final one installs nothing.
    expect(final).not.toMatch(/npm (ci|install)/);
  });

  it("the final stage's files are enough to serve on the embedded database", async () => {
    const app = path.join(scratch, 'app');
    const copies = [...final.matchAll(/^COPY (--from=\S+ )?(\S+) (\S+)$/gm)];
    expect(copies.length).toBeGreaterThan(0);
    for (const [, from, src, dest] of copies) {
      // `--from=build /src/X` is the build stage's X, which here is the checkout's X (built by pretest).
      const source = from ? path.join(ROOT, src!.replace(/^\/src\/?/, '')) : path.join(ROOT, src!);
      const target = path.resolve(app, dest!.replace(/^\.\/?$/, '.'), dest!.endsWith('/') || dest === './' ? path.basename(source) : '');
      if (src!.endsWith('node_modules')) symlinkSync(source, target); // production modules: the checkout's are a superset
      else cpSync(source, target, { recursive: true });
    }
    const entry = [...final.matchAll(/"([^"]+)"/g)].map((m) => m[1]!).find((a) => a.endsWith('main.js'))!;
    expect(entry).toBe('/app/dist/cli/main.js');
    const main = path.join(app, 'dist/cli/main.js');
    const child = spawn(process.execPath, [main, 'serve'], {
      cwd: app,
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DATA_DIR: path.join(scratch, 'state'), LOG_LEVEL: 'info', OUTBOUND_ALLOW: '127.0.0.0/8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
        const onData = (d: Buffer) => {
          output += d;
          const m = output.match(/"port":(\d+)[^\n]*meetplane listening/);
          if (m) {
            clearTimeout(timer);
            resolve(`http://127.0.0.1:${m[1]}`);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
      });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 90_000);
});
