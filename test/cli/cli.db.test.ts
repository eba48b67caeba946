// The meetplane command end to end: bootstrap, serve, and the resource
// commands against the real server, as child processes.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freshDatabase, type TestDatabase } from '../support/db.js';
import { runCli, serveCli } from '../support/cli.js';

let dbEnv: Record<string, string>;
let pgDatabase: TestDatabase | undefined;
let server: { child: ChildProcess; url: string; output: () => string };
let token: string;
let env: Record<string, string>;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-cli-'));

beforeAll(async () => {
  const common = { MASTER_KEY: randomBytes(32).toString('hex'), DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'info' };
  if (backend() === 'postgres') {
    pgDatabase = await freshDatabase();
    dbEnv = { ...common, DATABASE_URL: pgDatabase.url! };
  } else {
    dbEnv = common;
  }
  // Bootstrap before serving: an embedded database has one process at a time.
  const boot = await runCli(['admin', 'bootstrap', '--email', 'root@coop.test', '--name', 'Root'], dbEnv);
  expect(boot.stderr).toContain('shown only once');
  expect(boot.code).toBe(0);
  token = boot.stdout.trim().split('\n').pop()!;
  expect(token).toMatch(/^mp_pat_/);
  server = await serveCli(dbEnv);
  env = { MEETPLANE_URL: server.url, MEETPLANE_TOKEN: token };
});

afterAll(async () => {
  if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  await pgDatabase?.close();
});

describe('meetplane CLI', () => {
  it('prints help for every level and exits 0', async () => {
    for (const args of [['--help'], ['coops', '--help'], ['clusters', 'create', '--help']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: meetplane/);
    }
  });

  it('refuses a second bootstrap with one clear line', async () => {
    if (backend() === 'pglite') return; // the embedded database is held by the running server
    const r = await runCli(['admin', 'bootstrap', '--email', 'x@coop.test', '--name', 'X'], dbEnv);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^meetplane: a platform admin exists already/);
  });

  it('creates, lists, shows, updates and deletes a co-op', async () => {
    const created = await runCli(['--json', 'coops', 'create', '--slug', 'cli-coop', '--name', 'CLI Co-op', '--jurisdiction', 'gb', '--email', 'ops@cli.example', '--regime', 'uk_gdpr'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ slug: 'cli-coop', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });

    const table = await runCli(['coops', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+SLUG\s+NAME\s+JURISDICTION\s+LEGALREGIME$/);
    expect(table.stdout).toMatch(/cli-coop\s+CLI Co-op\s+GB\s+uk_gdpr/);

    const updated = await runCli(['--json', 'coops', 'update', 'cli-coop', '--name', 'Renamed'], env);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout).name).toBe('Renamed');
    const shown = await runCli(['coops', 'show', 'cli-coop'], env);
    expect(shown.stdout).toMatch(/name\s+Renamed/);

    const deleted = await runCli(['coops', 'delete', 'cli-coop'], env);
    expect(deleted.code).toBe(0);
    const gone = await runCli(['coops', 'show', 'cli-coop'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('meetplane: Not found (404): co-op not found\n');
  });

  it('registers a cluster with the secret from stdin and a tenancy whose secret is shown once', async () => {
    await runCli(['coops', 'create', '--slug', 'host', '--name', 'Host', '--jurisdiction', 'DE', '--email', 'a@host.example', '--regime', 'eu_gdpr'], env);
    const secret = 'stdin-secret-' + randomBytes(8).toString('hex');
    const cluster = await runCli(
      ['--json', 'clusters', 'create', '--coop', 'host', '--name', 'bbb1', '--api-url', 'https://bbb1.host.example/bigbluebutton/api', '--secret-file', '-', '--country', 'DE', '--capacity', '200'],
      env,
      secret + '\n',
    );
    expect(cluster.code).toBe(0);
    expect(cluster.stdout).not.toContain(secret);
    const clusterId = JSON.parse(cluster.stdout).id;

    const tenancy = await runCli(['tenancies', 'create', '--slug', 'school', '--name', 'School', '--coop', 'host', '--cluster', clusterId, '--residency', 'eea'], env);
    expect(tenancy.code).toBe(0);
    expect(tenancy.stdout).toMatch(/bbbSecret\s+[0-9a-f]{48}/);
    expect(tenancy.stderr).toContain('shown only this once');
    const list = await runCli(['--json', 'tenancies', 'list', '--coop', 'host'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ slug: 'school', residency: { kind: 'eea' } })]);
    expect(list.stdout).not.toMatch(/bbbSecret/);

    const drained = await runCli(['--json', 'clusters', 'update', clusterId, '--state', 'draining'], env);
    expect(JSON.parse(drained.stdout).state).toBe('draining');
    expect(server.output()).not.toContain(secret);
  });

  it('turns bad input into one clear line and a non-zero exit', async () => {
    const badCountry = await runCli(['coops', 'create', '--slug', 'bad', '--name', 'B', '--jurisdiction', 'XX', '--email', 'a@b.example', '--regime', 'eu_gdpr'], env);
    expect(badCountry.code).toBe(1);
    expect(badCountry.stderr).toMatch(/^meetplane: The request is not valid \(400\): jurisdiction: must be an ISO 3166-1 alpha-2 country code/);
    expect(badCountry.stderr.trim().split('\n')).toHaveLength(1);

    const missing = await runCli(['coops', 'create', '--slug', 'bad'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option/);

    const noToken = await runCli(['coops', 'list'], { MEETPLANE_URL: server.url });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^meetplane: not logged in: run `meetplane login`/);
    const badToken = await runCli(['coops', 'list'], { MEETPLANE_URL: server.url, MEETPLANE_TOKEN: 'mp_pat_' + 'x'.repeat(43) });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^meetplane: Unauthorized \(401\)/);

    const unreachable = await runCli(['coops', 'list'], { MEETPLANE_URL: 'http://127.0.0.1:9', MEETPLANE_TOKEN: token });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^meetplane: cannot reach http:\/\/127\.0\.0\.1:9/);

    const noSecretFile = await runCli(['clusters', 'create', '--coop', 'host', '--name', 'x', '--api-url', 'https://x.example', '--secret-file', '/nonexistent', '--country', 'DE', '--capacity', '1'], env);
    expect(noSecretFile.code).toBe(1);
    expect(noSecretFile.stderr).toMatch(/^meetplane: .*no such file/);
  });

  it('reads the server and token from the config file, and flags override it', async () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ url: server.url, token }), { mode: 0o600 });
    const fromFile = await runCli(['--json', 'coops', 'list'], { MEETPLANE_CONFIG: file });
    expect(fromFile.code).toBe(0);
    const overridden = await runCli(['coops', 'list', '--help'], { MEETPLANE_CONFIG: file });
    expect(overridden.code).toBe(0);
    const badFlag = await runCli(['--token', 'mp_pat_wrong', 'coops', 'list'], { MEETPLANE_CONFIG: file });
    expect(badFlag.code).toBe(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(server.url);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
