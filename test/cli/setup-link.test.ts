// The first platform admin without stopping anything: a server started with
// no platform admin prints a one-time setup link (this machine only, an hour)
// whose page creates one; and `meetplane admin bootstrap` on the same
// DATA_DIR, which the running server holds, goes through that server.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { runCli, serveCli } from '../support/cli.js';
import { launchBrowser } from '../support/browser.js';
import { stderrLines } from './stderr-lines.js';

type Served = Awaited<ReturnType<typeof serveCli>>;
const servers: Served[] = [];
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

function freshEnv() {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'meetplane-setup-')), 'data');
  return { MASTER_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir };
}

/** The setup link the server logged (it follows the "listening" line). */
async function setupLink(s: Served): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = s.output().match(/"setupLink":"([^"]+)"/);
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no setup link logged:\n${s.output()}`);
}

const accounts = async (url: string, token: string) =>
  (await (await fetch(`${url}/api/v1/accounts`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: Array<{ id: string; email: string; platformAdmin: boolean }> };

describe('the first platform admin', { timeout: 120_000 }, () => {
  it('is created through the one-time setup link the server prints, in the browser, from this machine only', async () => {
    const env = freshEnv();
    // On every address, so the same server can be asked from a non-loopback one.
    const s = await serveCli({ ...env, HOST: '0.0.0.0' });
    servers.push(s);
    const link = await setupLink(s);
    expect(link).toMatch(new RegExp(`^${s.url}/setup/[A-Za-z0-9_-]{43}$`));
    expect(s.output()).toMatch(/no platform admin yet: open the setupLink in a browser on this machine before \S+ to create one/);
    const setupFile = path.join(env.DATA_DIR, 'setup.json');
    expect(statSync(setupFile).mode & 0o777).toBe(0o600);

    // The same link from another address of this machine is not loopback: refused.
    const other = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
    if (other) {
      const r = await fetch(link.replace('127.0.0.1', other.address));
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('works only in a browser on the machine the server runs on');
    }
    // A wrong token opens nothing.
    expect((await fetch(`${s.url}/setup/${'x'.repeat(43)}`)).status).toBe(410);

    const page = await browser.newPage();
    await page.goto(`${s.url}/`);
    expect(await page.getByRole('note').textContent()).toMatch(/no platform admin yet\. The server printed a one-time setup link in its log/);
    await page.goto(link);
    await page.getByLabel('Your name').fill('Ada Admin');
    await page.getByLabel('E-mail address').fill('ada@platform.test');
    // A password the rules refuse (it holds the e-mail's name) brings the form back, saying why.
    await page.getByLabel('Password (at least 12 characters)').fill('ada-ada-ada-1');
    await page.getByRole('button', { name: 'Create the platform admin' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('password: must not contain your e-mail name');
    await page.getByLabel('Password (at least 12 characters)').fill('a long passphrase for ada');
    await page.getByRole('button', { name: 'Create the platform admin' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Ada Admin (ada@platform.test) is the platform admin. The setup link is closed.');
    const token = (await page.locator('pre').textContent())!.trim();
    const listed = await accounts(s.url, token);
    expect(listed.items.map((a: { email: string; platformAdmin: boolean }) => [a.email, a.platformAdmin])).toEqual([['ada@platform.test', true]]);
    // Used once: the link and the file are gone.
    expect((await fetch(link)).status).toBe(410);
    expect(existsSync(setupFile)).toBe(false);
    await page.goto(`${s.url}/`);
    expect(await page.getByRole('note').count()).toBe(0);
    await page.close();

    // admin bootstrap now meets a server that offers no setup link.
    const late = await runCli(['admin', 'bootstrap', '--email', 'eve@platform.test', '--name', 'Eve'], env);
    expect(late.code).toBe(1);
    expect(stderrLines(late.stderr)).toEqual([
      expect.stringMatching(/^meetplane: the embedded database in .+ is in use by process \d+ .*; it offers no setup link, so a platform admin exists already \(ask them\) or its link expired/),
    ]);
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  });

  it('is created by admin bootstrap through the running server that holds the data directory', async () => {
    const env = freshEnv();
    const s = await serveCli(env);
    servers.push(s);
    await setupLink(s);
    const r = await runCli(['admin', 'bootstrap', '--email', 'root@platform.test', '--name', 'Root'], env);
    expect(r.code, r.stderr).toBe(0);
    const [, id, token] = r.stdout.match(/^platform admin (\S+) created\n(\S+)\n$/)!;
    expect(r.stderr).toContain(`(created through the running server at ${s.url}, pid ${s.child.pid})`);
    const listed = await accounts(s.url, token!);
    expect(listed.items.map((a: { id: string }) => a.id)).toEqual([id]);
    // Once only.
    const again = await runCli(['admin', 'bootstrap', '--email', 'two@platform.test', '--name', 'Two'], env);
    expect(again.code).toBe(1);
    s.child.kill('SIGTERM');
    await new Promise((r2) => s.child.once('exit', r2));
  });
});
