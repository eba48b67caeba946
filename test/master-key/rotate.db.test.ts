// Rotating the master key: every secret at rest is re-sealed under the new key
// in one transaction, or nothing changes; the operator's command keeps the old
// key where old backups need it and finishes a rotation a crash interrupted.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../server/db/index.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { coopSigningKey } from '../../server/receipts/keys.js';
import { federationSigningKey } from '../../server/federation/keys.js';
import { SEALED_COLUMNS } from '../../server/master-key/sealed-columns.js';
import { MasterKeyRotationError, firstUnopenable, rotateMasterKey, sealedValues, type SealedValue } from '../../server/master-key/rotate.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { backend } from '../support/db.js';
import { runCli, serveCli } from '../support/cli.js';

let s: TestServer;
let box: SecretBox;

beforeAll(async () => {
  s = await startTestServer();
  box = new SecretBox(decodeMasterKey(s.masterKey));
  const coop = await createCoop(s);
  const cluster = await createCluster(s, coop.slug);
  await createTenancy(s, coop.slug, cluster.id);
  const client = await s.api('POST', '/api/v1/clients', { body: { name: 'monitoring', coop: coop.slug, kind: 'machine' } });
  expect(client.status).toBe(201);
  await coopSigningKey(s.database.db, box, coop.id);
  await federationSigningKey(s.database.db, box);
});
afterAll(async () => {
  await s?.stop();
});

async function all(): Promise<SealedValue[]> {
  const out: SealedValue[] = [];
  for await (const v of sealedValues(s.database.db)) out.push(v);
  return out;
}

describe('master-key rotation', () => {
  it('lists every sealed column the database has', async () => {
    const columns = rowsOf<{ t: string; c: string }>(
      await s.database.db.execute(
        sql`select table_name as t, column_name as c from information_schema.columns where table_schema = current_schema() and column_name like '%\_sealed'`,
      ),
    ).map((r) => `${r.t}.${r.c}`);
    expect(columns.length).toBeGreaterThan(5);
    expect(SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`).sort()).toEqual(columns.sort());
  });

  it('refuses, changing nothing, when one value does not open with the current key', async () => {
    const before = await all();
    const cluster = before.find((v) => v.column.table === 'clusters')!;
    const foreign = new SecretBox(randomBytes(32)).seal('x', cluster.column.label(cluster.row));
    await s.database.db.execute(sql`update clusters set secret_sealed = ${foreign} where id = ${cluster.row.id!}`);
    try {
      await expect(rotateMasterKey(s.database.db, box, new SecretBox(randomBytes(32)), LOCAL_OPERATOR)).rejects.toThrow(
        new MasterKeyRotationError(`clusters.secret_sealed (id ${cluster.row.id}) does not open with the current master key; nothing was changed`),
      );
      const after = await all();
      expect(after.filter((v) => v.column.table !== 'clusters' || v.row.id !== cluster.row.id).map((v) => v.sealed)).toEqual(
        before.filter((v) => v.column.table !== 'clusters' || v.row.id !== cluster.row.id).map((v) => v.sealed),
      );
    } finally {
      await s.database.db.execute(sql`update clusters set secret_sealed = ${cluster.sealed} where id = ${cluster.row.id!}`);
    }
  });

  it('re-seals every secret under the new key: the old key opens none, the new one all, and one audit entry says how many', async () => {
    const before = await all();
    const tables = new Set(before.map((v) => v.column.table));
    for (const t of ['clusters', 'tenancies', 'oidc_keys', 'oidc_clients', 'audit_log_keys', 'coop_keys', 'federation_keys']) expect(tables).toContain(t);
    const next = new SecretBox(randomBytes(32));
    const result = await rotateMasterKey(s.database.db, box, next, LOCAL_OPERATOR);
    expect(result.total).toBe(before.length);
    expect(await firstUnopenable(s.database.db, next)).toBeUndefined();
    for (const v of await all()) expect(() => box.open(v.sealed, v.column.label(v.row))).toThrow();
    // The same secrets, not new ones.
    const plain = (vs: SealedValue[], b: SecretBox) => vs.map((v) => b.open(v.sealed, v.column.label(v.row)));
    expect(plain(await all(), next)).toEqual(plain(before, box));
    const [entry] = rowsOf<{ action: string; idx: number }>(
      await s.database.db.execute(sql`select action, idx::int as idx from audit_entries order by idx desc limit 1`),
    );
    expect(entry).toEqual({ action: 'master-key.rotate', idx: result.index });
    box = next;
  });
});

// The operator's command, on a data directory of its own (the embedded
// database), or against the test's PostgreSQL while the test server holds connections.
describe('meetplane master-key rotate', () => {
  it.runIf(backend() === 'postgres')('is refused while another meetplane process is connected to the database', async () => {
    const r = await runCli(['master-key', 'rotate', '--new-key-file', '/dev/null'], { DATABASE_URL: s.database.url!, MASTER_KEY: s.masterKey });
    // The new key is read first: an empty file is refused before the database is touched.
    expect(r.stderr).toContain('--new-key-file');
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'meetplane-key-')), 'new.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
    const refused = await runCli(['master-key', 'rotate', '--new-key-file', keyFile], { DATABASE_URL: s.database.url!, MASTER_KEY: s.masterKey });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/other meetplane connection\(s\) are open on this database: stop every meetplane process/);
    expect(await firstUnopenable(s.database.db, box)).toBeUndefined();
  });

  it.runIf(backend() === 'pglite')('replaces DATA_DIR/master.key, keeps the old one for old backups, and the server starts on the new one', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-rekey-'));
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    try {
      const boot = await runCli(['admin', 'bootstrap', '--email', 'ops@example.org', '--name', 'Ops'], env);
      expect(boot.code).toBe(0);
      const token = boot.stdout.match(/mp_pat_\S+/)![0];
      let server = await serveCli(env);
      const coop = await fetch(`${server.url}/api/v1/coops`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug: 'north', name: 'North', jurisdiction: 'DE', contactEmail: 'ops@north.example', legalRegime: 'eu_gdpr' }),
      });
      expect(coop.status).toBe(201);
      const jwks = await (await fetch(`${server.url}/oidc/jwks`)).json();
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));

      const oldKey = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
      const rotated = await runCli(['master-key', 'rotate'], env);
      expect(rotated.stderr).toBe('');
      expect(rotated.code).toBe(0);
      expect(rotated.stdout).toMatch(/^re-sealed \d+ secret\(s\) under the new master key/);
      const newKey = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
      expect(newKey).not.toBe(oldKey);
      const replaced = readdirSync(dataDir).filter((f) => f.startsWith('master.key.replaced-'));
      expect(replaced).toHaveLength(1);
      expect(readFileSync(path.join(dataDir, replaced[0]!), 'utf8')).toBe(oldKey);
      expect(rotated.stdout).toContain(replaced[0]);

      // A crash after the transaction but before the file swap: the new key still in master.key.new.
      renameSync(path.join(dataDir, 'master.key'), path.join(dataDir, 'master.key.new'));
      renameSync(path.join(dataDir, replaced[0]!), path.join(dataDir, 'master.key'));
      const refusedStart = await runCli(['serve'], { ...env, PORT: '0' });
      expect(refusedStart.code).toBe(2);
      expect(refusedStart.stderr).toContain('an interrupted `meetplane master-key rotate` left');
      const finished = await runCli(['master-key', 'rotate'], env);
      expect(finished.stdout).toMatch(/^finished an interrupted rotation/);
      expect(readFileSync(path.join(dataDir, 'master.key'), 'utf8')).toBe(newKey);
      expect(existsSync(path.join(dataDir, 'master.key.new'))).toBe(false);

      server = await serveCli(env);
      try {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        // The sign-on keys opened under the new master key are the same keys.
        expect(await (await fetch(`${server.url}/oidc/jwks`)).json()).toEqual(jwks);
        const coops = await fetch(`${server.url}/api/v1/coops`, { headers: { authorization: `Bearer ${token}` } });
        expect(((await coops.json()) as { items: { slug: string }[] }).items.map((c: { slug: string }) => c.slug)).toContain('north');
      } finally {
        server.child.kill('SIGTERM');
        await new Promise((r) => server.child.once('exit', r));
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
