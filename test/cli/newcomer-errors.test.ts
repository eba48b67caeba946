// The errors a newcomer meets first, each said as one line on stderr with a
// non-zero exit code (2: fix the configuration or the command line), never a
// stack trace.
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli, serveCli, type CliResult } from '../support/cli.js';
import { stderrLines } from './stderr-lines.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-errors-'));
const key = () => randomBytes(32).toString('hex');

function expectOneLine(r: CliResult, line: string | RegExp, code = 2): void {
  expect(stderrLines(r.stderr)).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
  expect(r.code).toBe(code);
}

describe('newcomer errors', () => {
  it('a MASTER_KEY that does not open the data directory', async () => {
    const dataDir = path.join(dir, 'keyed');
    const server = await serveCli({ MASTER_KEY: key(), DATA_DIR: dataDir }); // seals its signing keys
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    const r = await runCli(['serve'], { MASTER_KEY: key(), DATA_DIR: dataDir, PORT: '0' });
    expectOneLine(
      r,
      `meetplane: the master key does not match the secrets in the data directory ${dataDir}: it was taken from MASTER_KEY; use the key this data was created with`,
    );
  }, 90_000);

  it('a port in use is said before the migrations run', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runCli(['serve'], { MASTER_KEY: key(), DATA_DIR: path.join(dir, 'port'), PORT: String(port), HOST: '127.0.0.1' });
      expectOneLine(r, `meetplane: port ${port} is in use; set PORT (another meetplane, or another service, listens there)`);
      expect(r.stdout).not.toContain('database ready');
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('MEETPLANE_URL without a scheme', async () => {
    const r = await runCli(['coops', 'list'], { MEETPLANE_URL: 'localhost:8080', MEETPLANE_TOKEN: 'mp_pat_x' });
    expectOneLine(r, 'meetplane: MEETPLANE_URL "localhost:8080" needs http:// or https://, e.g. http://localhost:8080');
    const flag = await runCli(['--url', 'ftp://example.org', 'coops', 'list']);
    expectOneLine(flag, 'meetplane: --url "ftp://example.org" needs http:// or https://');
  });

  it('a missing secret file is named', async () => {
    const missing = path.join(dir, 'no-such-secret');
    const r = await runCli(
      ['clusters', 'create', '--coop', 'north', '--name', 'main', '--api-url', 'https://bbb.example.org/bigbluebutton/api', '--secret-file', missing, '--country', 'DE', '--capacity', '100'],
      { MEETPLANE_URL: 'http://127.0.0.1:9', MEETPLANE_TOKEN: 'mp_pat_x' },
    );
    expectOneLine(r, `meetplane: --secret-file ${missing}: no such file (give the file holding the BBB shared secret, or - for stdin)`, 1);
  });

  it('a misspelt option is named, with the option meant', async () => {
    const r = await runCli(['coops', 'create', '--slug', 'north', '--name', 'North', '--jurisdication', 'DE', '--email', 'ops@north.example', '--regime', 'eu_gdpr']);
    expectOneLine(r, "meetplane: unknown option '--jurisdication' (did you mean --jurisdiction?); see `meetplane coops create --help`");
    const missing = await runCli(['coops', 'create', '--slug', 'north', '--name', 'North', '--email', 'ops@north.example', '--regime', 'eu_gdpr']);
    expectOneLine(missing, "meetplane: required option '--jurisdiction <cc>' not specified; see `meetplane coops create --help`");
  });

  it('--help marks the required options', async () => {
    // Help wraps long descriptions at 80 columns: compare with the wrapping undone.
    const help = async (args: string[]) => {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      return r.stdout.replace(/\s+/g, ' ');
    };
    const create = await help(['clusters', 'create', '--help']);
    expect(create).toContain('--secret-file <path> read the BBB shared secret from a file ("-" for stdin) (required)');
    expect(create).toContain('--capacity <n> participants the cluster can carry (required)');
    expect(create).toContain('--algorithm <alg> checksum algorithm: sha1 | sha256 | sha384 | sha512 --country');
    expect(await help(['admin', 'bootstrap', '--help'])).toContain('--email <email> e-mail address of the admin (required)');
  });
});
