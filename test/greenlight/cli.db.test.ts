// `meetplane greenlights`: a co-op admin names the co-op's Greenlight with its
// secrets read from files (never from the command line), sees only whether
// each is set, points a tenancy at it, and cannot forget it while named.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-greenlight-cli-'));

beforeAll(async () => {
  s = await startTestServer({ WORKER: 'off' });
}, 60_000);
afterAll(async () => s?.stop());

describe('meetplane greenlights', () => {
  it('names a Greenlight with secrets from files, shows only that they are set, and keeps it while a tenancy names it', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    const tenancy = await createTenancy(s, coop.id, cluster.id);
    const admin = await coopAdminWithToken(s, coop.id);
    const as = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: admin.token };
    const keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, 'k'.repeat(40) + '-cli-secret-key-base\n');
    const set = await runCli(['greenlights', 'set', coop.id, 'rooms', '--base-url', 'https://rooms.example.org', '--secret-key-base-file', keyFile], as);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/secretKeyBase\s+set/);
    expect(set.stdout).toMatch(/databaseUrl\s+none/);
    expect(set.stdout).not.toContain('cli-secret-key-base');
    const missing = await runCli(['greenlights', 'set', coop.id, 'rooms', '--base-url', 'https://rooms.example.org', '--database-url-file', path.join(dir, 'nope')], as);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, `meetplane: --database-url-file ${path.join(dir, 'nope')}: no such file`]);
    // Changing it again (the CLI sends its ETag) keeps the key when no key file is given.
    const moved = await runCli(['--json', 'greenlights', 'set', coop.id, 'rooms', '--base-url', 'https://meet.example.org'], as);
    expect(JSON.parse(moved.stdout)).toMatchObject({ baseUrl: 'https://meet.example.org', hasSecretKeyBase: true });
    const list = await runCli(['greenlights', 'list', coop.id], as);
    expect(list.stdout).toContain('https://meet.example.org');

    const named = await runCli(['--json', 'tenancies', 'update', tenancy.id, '--greenlight', 'rooms'], as);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout).greenlight).toBe(JSON.parse(moved.stdout).id);
    const refused = await runCli(['greenlights', 'delete', coop.id, 'rooms'], as);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('tenancies still name this Greenlight');
    expect((await runCli(['tenancies', 'update', tenancy.id, '--greenlight', 'none'], as)).code).toBe(0);
    const deleted = await runCli(['greenlights', 'delete', coop.id, 'rooms'], as);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, 'deleted rooms']);
  }, 120_000);
});
