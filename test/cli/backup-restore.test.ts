// meetplane db backup / db restore for the embedded database: a backup
// restored into a new data directory serves the same audit log, which still
// verifies against the checkpoint an auditor verified before the backup; the
// backup is useless without its master key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, serveCli } from '../support/cli.js';
import { stderrLines } from './stderr-lines.js';

type Served = Awaited<ReturnType<typeof serveCli>>;
const servers: Served[] = [];
afterAll(() => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-backup-'));
const key = randomBytes(32).toString('hex');
const original = path.join(dir, 'data');
const restored = path.join(dir, 'restored');
const backup = path.join(dir, 'meetplane.backup');
// The auditor's own files: the pinned key (config) and the verified state.
const auditor = { MEETPLANE_CONFIG: path.join(dir, 'auditor', 'config.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 'auditor', 'state.json') };

async function serve(dataDir: string): Promise<Served> {
  const s = await serveCli({ MASTER_KEY: key, DATA_DIR: dataDir });
  servers.push(s);
  return s;
}
async function stop(s: Served) {
  s.child.kill('SIGTERM');
  await new Promise((r) => s.child.once('exit', r));
}
const coop = (url: string, token: string, slug: string) =>
  fetch(`${url}/api/v1/coops`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug, name: slug, jurisdiction: 'DE', contactEmail: 'ops@example.org', legalRegime: 'eu_gdpr' }),
  });

describe('backup and restore of the embedded database', { timeout: 180_000 }, () => {
  it('restores into a new data directory whose audit log verifies against a checkpoint taken before', async () => {
    mkdirSync(path.dirname(auditor.MEETPLANE_CONFIG), { recursive: true });
    writeFileSync(auditor.MEETPLANE_CONFIG, '{}\n');
    let s = await serve(original);
    const boot = await runCli(['--json', 'admin', 'bootstrap', '--email', 'root@platform.test', '--name', 'Root'], { MASTER_KEY: key, DATA_DIR: original });
    expect(boot.code, boot.stderr).toBe(0);
    const { token } = JSON.parse(boot.stdout);
    expect((await coop(s.url, token, 'before-backup')).status).toBe(201);
    const env = { ...auditor, MEETPLANE_URL: s.url, MEETPLANE_TOKEN: token };
    expect((await runCli(['audit', 'trust'], env)).code).toBe(0);
    const before = await runCli(['audit', 'verify'], env);
    expect(before.code, before.stderr).toBe(0);

    // Backing up needs the data directory: refused while the server holds it, written once it stopped.
    const busy = await runCli(['db', 'backup', backup], { MASTER_KEY: key, DATA_DIR: original });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/is in use by process \d+/);
    await stop(s);
    const made = await runCli(['db', 'backup', backup], { MASTER_KEY: key, DATA_DIR: original });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(new RegExp(`^backup of ${original} written to ${backup} \\(\\d+ bytes, \\d+ audit entries, \\d+ migrations\\)\\n$`));
    expect(made.stderr).toMatch(/does not hold the master key, and is useless without it/);
    expect(statSync(backup).mode & 0o777).toBe(0o600);

    const back = await runCli(['db', 'restore', backup, '--data-dir', restored]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^restored .* into .*restored \(\d+ audit entries, \d+ migrations\)\n$/);
    // Never over a database.
    const again = await runCli(['db', 'restore', backup, '--data-dir', restored]);
    expect(again.code).toBe(1);
    expect(stderrLines(again.stderr)).toEqual([`meetplane: ${restored} holds a database already; restore into a new, empty data directory (nothing is overwritten)`]);

    // The restored instance, with the same key, continues the same log.
    s = await serve(restored);
    expect((await coop(s.url, token, 'after-restore')).status).toBe(201);
    const after = await runCli(['audit', 'verify', '--full'], { ...env, MEETPLANE_URL: s.url });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/consistent with size \d+ verified before/);
    await stop(s);

    // Another master key opens none of its secrets: the server says so and does not start.
    const wrong = await runCli(['serve'], { MASTER_KEY: randomBytes(32).toString('hex'), DATA_DIR: restored, PORT: '0' });
    expect(wrong.code).toBe(2);
    expect(stderrLines(wrong.stderr).at(-1)).toMatch(/^meetplane: the master key does not match the secrets in the data directory/);
  });

  it('says pg_dump for PostgreSQL and refuses a file that is not a backup', async () => {
    const pg = await runCli(['db', 'backup', backup], { DATABASE_URL: 'postgres://nowhere.invalid/x', MASTER_KEY: key });
    expect(pg.code).toBe(2);
    expect(pg.stderr).toBe('meetplane: DATABASE_URL is set: back PostgreSQL up with pg_dump (see README: Backup and restore)\n');
    const junk = path.join(dir, 'junk');
    writeFileSync(junk, 'not a backup');
    const r = await runCli(['db', 'restore', junk, '--data-dir', path.join(dir, 'elsewhere')]);
    expect(stderrLines(r.stderr)).toEqual([`meetplane: ${junk} is not a meetplane backup (a gzipped PGlite dump)`]);
  });
});
