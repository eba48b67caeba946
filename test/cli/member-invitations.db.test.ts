// meetplane tenancies invite / invitations / revoke-invitation, run as a user
// would (the built CLI as a child process) against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
let env: Record<string, string>;
let tenancy: { id: string; slug: string };
let invitee: string;

beforeAll(async () => {
  s = await startTestServer();
  const north = await createCoop(s);
  const south = await createCoop(s);
  tenancy = await createTenancy(s, north.id, (await createCluster(s, north.id)).id);
  const admin = await coopAdminWithToken(s, north.id);
  env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: admin.token };
  const person = await memberWithToken(s, south.id);
  invitee = (await s.api('GET', `/api/v1/accounts/${person.accountId}`)).json.email;
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe('meetplane tenancies invite', () => {
  it('invites by address (the same answer with or without an account), lists and revokes', async () => {
    const known = await runCli(['--json', 'tenancies', 'invite', tenancy.slug, '--email', invitee, '--role', 'admin'], env);
    expect(known.stderr).toBe('');
    expect(known.code).toBe(0);
    const invitation = JSON.parse(known.stdout);
    expect(invitation).toMatchObject({ email: invitee, role: 'admin', state: 'pending' });

    const unknown = await runCli(['tenancies', 'invite', tenancy.slug, '--email', 'nobody@example.org', '--role', 'member', '--expires-in-days', '3'], env);
    expect(unknown.code).toBe(0);
    expect(unknown.stdout).toMatch(/state\s+pending/);
    expect(unknown.stderr).toContain('If nobody@example.org has an account here');

    const listed = await runCli(['tenancies', 'invitations', tenancy.slug], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+EMAIL\s+ROLE\s+STATE/);
    expect(listed.stdout).toMatch(new RegExp(`${invitee.replace(/\./g, '\\.')}\\s+admin\\s+pending`));
    expect(listed.stdout).toMatch(/nobody@example\.org\s+member\s+pending/);

    const revoked = await runCli(['tenancies', 'revoke-invitation', tenancy.slug, invitation.id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked invitation ${invitation.id}\n`);
    const after = JSON.parse((await runCli(['--json', 'tenancies', 'invitations', tenancy.slug, '--state', 'revoked'], env)).stdout);
    expect(after.map((i: { id: string }) => i.id)).toEqual([invitation.id]);
    // Nobody became a member.
    expect((await s.api('GET', `/api/v1/tenancies/${tenancy.id}/members`)).json.items).toEqual([]);
  });

  it('refuses a bad role before calling the server, and reports the server\'s refusal in one line', async () => {
    const badRole = await runCli(['tenancies', 'invite', tenancy.slug, '--email', invitee, '--role', 'boss'], env);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain("Allowed choices are owner, admin, member");
    const badEmail = await runCli(['tenancies', 'invite', tenancy.slug, '--email', 'not-an-address', '--role', 'member'], env);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr.trim().split('\n')).toHaveLength(1);
    expect(badEmail.stderr).toMatch(/^meetplane: .*email/);
  });
});
