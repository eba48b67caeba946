// meetplane clients grant|grants|revoke, run as a child process against the real
// server: a machine client named by its client_id gets a role, lists it, loses it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  s = await startTestServer();
  env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
});
afterAll(async () => {
  await s?.stop();
});

describe('meetplane clients grant|grants|revoke', { timeout: 120_000 }, () => {
  it('gives a machine client a role, lists it with the client and revokes it', async () => {
    const coop = await createCoop(s);
    const robot = (await s.api('POST', '/api/v1/clients', { body: { name: 'health probe', coop: coop.id, kind: 'machine' } })).json;
    const root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id as string;

    const g = await runCli(['--json', 'clients', 'grant', robot.clientId, '--from', root, '--role', 'cluster_operator', '--scope', `coop:${coop.slug}`, '--expires', '30d', '--reason', 'drains clusters at night'], env);
    expect(g.code, g.stderr).toBe(0);
    const grant = JSON.parse(g.stdout);
    expect(grant).toMatchObject({ clientId: robot.id, accountId: null, role: 'cluster_operator', scope: { type: 'coop', id: coop.id }, status: 'active' });

    const listed = await runCli(['clients', 'grants', robot.clientId], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${grant.id}\\s+cluster_operator\\s+coop:${coop.id}\\s+active`));

    const revoked = await runCli(['clients', 'revoke', robot.clientId, grant.id, '--reason', 'job retired'], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked 1 grant(s): ${grant.id}\n`);
    expect((await runCli(['clients', 'grants', robot.clientId, '--active'], env)).stdout).not.toContain(grant.id);
  });

  it('refuses a client that is not a machine client, and a grant the client does not hold, in one line', async () => {
    const coop = await createCoop(s);
    const web = (await s.api('POST', '/api/v1/clients', { body: { name: 'Greenlight', coop: coop.id, kind: 'web', redirectUris: ['https://gl.example/cb'] } })).json;
    const robot = (await s.api('POST', '/api/v1/clients', { body: { name: 'probe', coop: coop.id, kind: 'machine' } })).json;
    const root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id as string;

    const toWeb = await runCli(['clients', 'grant', web.clientId, '--from', root, '--role', 'cluster_operator', '--scope', `coop:${coop.id}`, '--expires', '1d', '--reason', 'x'], env);
    expect(toWeb.code).toBe(2);
    expect(toWeb.stderr.trim().split('\n')).toHaveLength(1);
    expect(toWeb.stderr).toContain('only machine clients hold grants');

    const notIts = await runCli(['clients', 'revoke', robot.clientId, root, '--reason', 'x'], env);
    expect(notIts.code).toBe(2);
    expect(notIts.stderr).toContain(`is not held by client ${robot.clientId}`);
    expect((await s.api('GET', `/api/v1/grants/${root}`)).json.status).toBe('active');
  });
});
