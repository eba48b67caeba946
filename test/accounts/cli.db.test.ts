// The lifecycle from the command line, as an operator runs it: `meetplane
// accounts suspend|reinstate ID --reason`, `accounts offboard ID --coop --dry-run`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
let cli: (...args: string[]) => ReturnType<typeof runCli>;
beforeAll(async () => {
  s = await startTestServer();
  cli = (...args) => runCli(['--json', ...args], { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });
});
afterAll(async () => {
  await s?.stop();
});

describe('meetplane accounts', () => {
  it('suspends and reinstates an account', async () => {
    const coop = await createCoop(s);
    const who = await memberWithToken(s, coop.id);
    const suspended = await cli('accounts', 'suspend', who.accountId, '--reason', 'laptop stolen');
    expect(suspended.stderr).toBe('');
    expect(suspended.code).toBe(0);
    expect(JSON.parse(suspended.stdout)).toMatchObject({ id: who.accountId, suspendedAt: expect.any(String) });
    expect((await s.api('GET', '/api/v1/tokens', { token: who.token })).status).toBe(401);

    const again = await cli('accounts', 'suspend', who.accountId, '--reason', 'twice');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('suspended already');

    const reinstated = await cli('accounts', 'reinstate', who.accountId, '--reason', 'found it');
    expect(reinstated.code).toBe(0);
    expect(JSON.parse(reinstated.stdout)).toMatchObject({ suspendedAt: null });
  });

  it('needs a reason', async () => {
    const coop = await createCoop(s);
    const who = await memberWithToken(s, coop.id);
    const res = await cli('accounts', 'suspend', who.accountId);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--reason');
  });

  it('shows what offboarding would do without doing it', async () => {
    const coop = await createCoop(s);
    const who = await memberWithToken(s, coop.id);
    const res = await cli('accounts', 'offboard', who.accountId, '--coop', coop.slug, '--reason', 'left', '--dry-run');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ dryRun: true, coop: coop.id, homeCoopCleared: true });
    expect((await s.api('GET', `/api/v1/accounts/${who.accountId}`)).json.coopId).toBe(coop.id);
  });
});
