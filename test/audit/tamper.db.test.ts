// Tampering directly in the database is caught by `meetplane audit verify`,
// which names the first bad index; several processes appending at once to one
// PostgreSQL build one tree with no gap and no duplicate.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql, type SQL } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';
import { runCli, serveCli } from '../support/cli.js';
import { backend } from '../support/db.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

/** A server with `n` co-ops, each change followed by a checkpoint, and a CLI that trusts its key. */
async function setup(n: number) {
  s = await startTestServer();
  for (let i = 0; i < n; i++) {
    await createCoop(s);
    await s.api('GET', '/api/v1/audit/checkpoint');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-audit-'));
  const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken, MEETPLANE_CONFIG: path.join(dir, 'config.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 'state.json') };
  const cli = (...args: string[]) => runCli(args, env);
  expect((await cli('audit', 'trust')).code).toBe(0);
  const first = await cli('audit', 'verify', '--full');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^OK: .* first verification/);
  return { s, cli };
}

const openCheckpointSize = (note: string) => Number(note.split('\n')[1]);

async function tamper(server: TestServer, ...statements: SQL[]) {
  // What a database administrator could do: switch the append-only triggers off.
  await server.database.db.execute(sql`alter table audit_entries disable trigger user`);
  await server.database.db.execute(sql`alter table audit_nodes disable trigger user`);
  await server.database.db.execute(sql`alter table audit_checkpoints disable trigger user`);
  for (const st of statements) await server.database.db.execute(st);
}

describe('audit verify catches tampering', () => {
  it('accepts an untouched, growing log and remembers what it verified', async () => {
    const { s, cli } = await setup(3);
    await createCoop(s);
    const again = await cli('--json', 'audit', 'verify');
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.size).toBeGreaterThan(out.previous);
  });

  it('names an entry with a changed byte', async () => {
    const { s, cli } = await setup(6);
    await tamper(s, sql`update audit_entries set entry = overlay(entry placing '\\x58'::bytea from 20 for 1) where idx = 4`);
    const r = await cli('audit', 'verify', '--full');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^meetplane: VERIFICATION FAILED: entry 4 does not match its recorded leaf hash \(first bad index: 4\)/);
  });

  it('names an entry changed together with its leaf hash, through the signed checkpoints', async () => {
    const { s, cli } = await setup(6);
    const entry = sql`overlay(entry placing '\\x58'::bytea from 20 for 1)`;
    await tamper(s, sql`update audit_entries set entry = ${entry}, leaf_hash = sha256('\\x00'::bytea || ${entry}) where idx = 5`);
    const r = await cli('audit', 'verify', '--full');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/entry 5 no longer matches the checkpoint signed at size 6 \(first bad index: 5\)/);
  });

  it('names a deleted entry', async () => {
    const { s, cli } = await setup(6);
    await tamper(s, sql`delete from audit_entries where idx = 3`);
    const r = await cli('audit', 'verify', '--full');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/entry 3 is missing .*\(first bad index: 3\)/);
  });

  it('names two swapped entries', async () => {
    const { s, cli } = await setup(6);
    await tamper(
      s,
      sql`update audit_entries a set entry = b.entry, leaf_hash = b.leaf_hash from audit_entries b where (a.idx, b.idx) in ((2, 5), (5, 2))`,
    );
    const r = await cli('audit', 'verify', '--full');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/entry at position 2 says it is entry 5 \(first bad index: 2\)/);
  });

  it('catches a truncated and re-appended tail, even when the server signs the new history', async () => {
    const { s, cli } = await setup(8);
    const k = 5;
    const verified = openCheckpointSize((await s.api('GET', '/api/v1/audit/checkpoint')).text);
    await tamper(
      s,
      sql`delete from audit_entries where idx >= ${k}`,
      sql`delete from audit_nodes where (idx + 1) * power(2, level) > ${k}`,
      sql`delete from audit_checkpoints where size > ${k}`,
    );
    // New history through the application: the server signs it, consistent with what it still has.
    // Longer than what was verified, so this is not a fork at the same size.
    for (let i = k; i < verified + 2; i++) await createCoop(s);
    expect((await s.api('GET', '/api/v1/audit/checkpoint')).status).toBe(200);

    const quick = await cli('audit', 'verify');
    expect(quick.code).toBe(3);
    expect(quick.stderr).toMatch(/history rewritten/);
    const full = await cli('audit', 'verify', '--full');
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/entry 5 no longer matches the checkpoint signed at size 6 \(first bad index: 5\)/);
  });

  it('refuses a checkpoint signed by another key', async () => {
    const { cli } = await setup(1);
    const other = 'other.example/audit+01020304+AQ' + 'A'.repeat(42) + '=';
    const r = await cli('audit', 'verify', '--key', other);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^meetplane: /);
  });

  it('proves one entry with an offline bundle', async () => {
    const { s, cli } = await setup(2);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-bundle-'));
    const file = path.join(dir, 'b.json');
    const online = await cli('audit', 'prove', '1', '--bundle', file);
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/^OK: entry 1 \(.*\) is in the signed tree of size \d+/);
    await s.stop();
    const offline = await cli('audit', 'prove', '1', '--offline', file);
    expect(offline.code).toBe(0);
    const wrong = await cli('audit', 'prove', '0', '--offline', file);
    expect(wrong.code).toBe(3);
  });
});

describe('concurrent appends', () => {
  it('several meetplane processes on one PostgreSQL build one tree without gaps or duplicates', async () => {
    if (backend() !== 'postgres') {
      // The embedded database serves one process: appends within it must still be ordered.
      s = await startTestServer();
      await Promise.all(Array.from({ length: 20 }, () => createCoop(s!)));
    } else {
      s = await startTestServer();
      const env = { DATABASE_URL: s.database.url!, MASTER_KEY: s.masterKey, DATA_DIR: s.dataDir, LOG_LEVEL: 'warn' };
      const others = await Promise.all([serveCli({ ...env, LOG_LEVEL: 'info' }), serveCli({ ...env, LOG_LEVEL: 'info' })]);
      try {
        const urls = [s.url, ...others.map((o) => o.url)];
        await Promise.all(
          Array.from({ length: 45 }, async (_, i) => {
            const res = await fetch(`${urls[i % 3]}/api/v1/coops`, {
              method: 'POST',
              headers: { authorization: `Bearer ${s!.adminToken}`, 'content-type': 'application/json' },
              body: JSON.stringify({ slug: `para-${i}`, name: `P${i}`, jurisdiction: 'DE', contactEmail: 'x@y.example', legalRegime: 'eu_gdpr' }),
            });
            expect(res.status).toBe(201);
          }),
        );
      } finally {
        for (const o of others) o.child.kill('SIGTERM');
      }
    }
    const { rowsOf } = await import('../../server/db/index.js');
    const [stats] = rowsOf<{ n: number; lo: number; hi: number; distinct: number }>(
      await s.database.db.execute(sql`select count(*)::int as n, min(idx)::int as lo, max(idx)::int as hi, count(distinct idx)::int as distinct from audit_entries`),
    );
    expect(stats!.lo).toBe(0);
    expect(stats!.hi).toBe(stats!.n - 1);
    expect(stats!.distinct).toBe(stats!.n);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-audit-'));
    const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken, MEETPLANE_CONFIG: path.join(dir, 'c.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 's.json') };
    expect((await runCli(['audit', 'trust'], env)).code).toBe(0);
    const full = await runCli(['--json', 'audit', 'verify', '--full'], env);
    expect(full.stderr).toBe('');
    expect(JSON.parse(full.stdout)).toMatchObject({ ok: true, size: stats!.n });
  });
});
