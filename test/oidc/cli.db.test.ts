// `meetplane login` (device flow) driven end to end: the built CLI polls while
// a real browser enters the code, logs in and consents; then whoami, clients,
// accounts and logout use the stored refresh token.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CLI, runCli } from '../support/cli.js';
import { createCoop } from '../support/fixtures.js';
import { makePlatformAdmin, memberWithPassword, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let browser: Browser;
let configFile: string;
beforeAll(async () => {
  s = await startSsoServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  configFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'meetplane-cli-')), 'config.json');
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

const env = () => ({ MEETPLANE_URL: s.url, MEETPLANE_CONFIG: configFile });

describe('meetplane login (device flow)', () => {
  it('logs in through the browser, stores a refresh token 0600, and later commands use it', async () => {
    // A platform admin with a password, so the CLI may also manage clients.
    const admin = await memberWithPassword(s);
    await makePlatformAdmin(s, admin.accountId);

    const child = spawn(process.execPath, [CLI, 'login'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const deadline = Date.now() + 20_000;
    while (!/code: \S+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const link = /open (\S+)/.exec(out)![1]!;
    const code = /code: (\S+)/.exec(out)![1]!;
    expect(link).toContain('/oidc/device');

    const page = await (await browser.newContext()).newPage();
    await page.goto(link);
    expect(await page.textContent('main')).toContain(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('E-mail address').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForSelector('text=Device connected');

    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toContain(`logged in as ${admin.email}`);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(configFile, 'utf8'));
    expect(stored.refreshToken).toBeTruthy();
    expect(stored.url).toBe(s.url);

    const who = await runCli(['whoami', '--json'], env());
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ accountId: admin.accountId, email: admin.email, via: 'oidc', clientId: 'meetplane-cli' });
    // Rotation: each command stored the next refresh token.
    expect(JSON.parse(readFileSync(configFile, 'utf8')).refreshToken).not.toBe(stored.refreshToken);

    const coop = await createCoop(s);
    const created = await runCli(['clients', 'create', '--json', '--coop', coop.slug, '--name', 'Greenlight', '--redirect-uri', 'https://gl.example.org/auth/openid_connect/callback'], env());
    expect(created.code).toBe(0);
    const client = JSON.parse(created.stdout);
    expect(client.clientSecret).toMatch(/^mp_cs_/);
    const listed = await runCli(['clients', 'list', '--json'], env());
    expect(listed.stdout).toContain(client.clientId);
    expect(listed.stdout).not.toContain(client.clientSecret);
    // A client that is told when the member's session ends, with RS256 ID tokens.
    const moodle = await runCli(
      ['clients', 'create', '--json', '--coop', coop.slug, '--name', 'Moodle', '--redirect-uri', 'https://moodle.example.org/cb',
        '--backchannel-logout-uri', 'https://moodle.example.org/logout', '--backchannel-logout-session-required', '--id-token-alg', 'RS256'],
      env(),
    );
    expect(moodle.code).toBe(0);
    expect(JSON.parse(moodle.stdout)).toMatchObject({ backchannelLogoutUri: 'https://moodle.example.org/logout', backchannelLogoutSessionRequired: true, idTokenSignedResponseAlg: 'RS256' });
    const updated = await runCli(['clients', 'update', JSON.parse(moodle.stdout).clientId, '--json', '--remove-backchannel-logout', '--id-token-alg', 'ES256'], env());
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ backchannelLogoutUri: null, backchannelLogoutSessionRequired: false, idTokenSignedResponseAlg: 'ES256' });
    const bad = await runCli(['clients', 'create', '--coop', coop.slug, '--name', 'x', '--redirect-uri', 'http://gl.example.org/cb'], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('https');

    const invited = await runCli(['accounts', 'create', '--json', '--email', 'new.member@example.org', '--name', 'New Member', '--coop', coop.slug, '--invite'], env());
    expect(invited.stderr).toBe('');
    expect(invited.code).toBe(0);
    expect(JSON.parse(invited.stdout).invitation).toMatch(/\/oidc\/invitation\/mp_inv_/);

    // Every REST command uses the stored login when no token is given.
    const coops = await runCli(['coops', 'list', '--json'], env());
    expect(coops.stderr).toBe('');
    expect(coops.code).toBe(0);
    expect(coops.stdout).toContain(coop.slug);
    // Two commands at once: they take turns with the refresh token, and the login survives.
    const both = await Promise.all([runCli(['coops', 'show', coop.slug, '--json'], env()), runCli(['tenancies', 'list', '--json'], env())]);
    expect(both.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
    expect(JSON.parse(both[0].stdout)).toMatchObject({ id: coop.id });
    expect((await runCli(['audit', 'show', '--limit', '5', '--json'], env())).code).toBe(0);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);

    // A refresh token goes only to the server that issued it.
    const seen: string[] = [];
    const other = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.url} ${req.headers.authorization ?? ''} ${body}`);
        res.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"title":"Unauthorized","status":401}');
      });
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    const elsewhere = await runCli(['coops', 'list'], { ...env(), MEETPLANE_URL: `http://127.0.0.1:${(other.address() as { port: number }).port}` });
    await new Promise((r) => other.close(r));
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('not logged in');
    const current = JSON.parse(readFileSync(configFile, 'utf8')).refreshToken as string;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.join('\n')).not.toContain(current);
    expect(seen.join('\n')).not.toContain('Bearer');

    const logout = await runCli(['logout'], env());
    expect(logout.code).toBe(0);
    expect(JSON.parse(readFileSync(configFile, 'utf8')).refreshToken).toBeUndefined();
    const after = await runCli(['whoami'], env());
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('not logged in');
  }, 60_000);
});
