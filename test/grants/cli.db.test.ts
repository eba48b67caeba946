// meetplane grants list|show|delegate|revoke and policies show|check, run as a
// child process against the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';
import { policyEvaluator } from '../../policies/evaluator.js';

let s: TestServer;
let env: Record<string, string>;
let coop: { id: string; slug: string };
let cluster: string;
let clusterSlug: string;
let alice: { accountId: string; token: string };
let bob: { accountId: string; token: string };

beforeAll(async () => {
  s = await startTestServer();
  env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
  coop = await createCoop(s);
  ({ id: cluster, slug: clusterSlug } = await createCluster(s, coop.id));
  alice = await memberWithToken(s, coop.id);
  bob = await memberWithToken(s, coop.id);
});

afterAll(async () => {
  await s?.stop();
});

// Each command is a Node process start: give the runs room on a busy machine.
describe('meetplane grants and policies', { timeout: 120_000 }, () => {
  it('lists, delegates, shows and revokes with its cascade', async () => {
    const list = await runCli(['grants', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+ACCOUNTID\s+ROLE\s+SCOPE\s+STATUS\s+DELEGABLE\s+EXPIRESAT\s+GRANTEDBY$/);
    expect(list.stdout).toMatch(/platform_admin\s+global\s+active\s+true\s+-\s+-/);
    const rootId = list.stdout.split('\n')[1]!.split(/\s+/)[0]!;

    const d = await runCli(
      ['--json', 'grants', 'delegate', '--from', rootId, '--to', alice.accountId, '--role', 'coop_admin', '--scope', `coop:${coop.slug}`, '--expires', '30d', '--delegable', '--reason', 'runs the co-op'],
      env,
    );
    expect(d.code, d.stderr).toBe(0);
    const a = JSON.parse(d.stdout);
    expect(a).toMatchObject({ role: 'coop_admin', scope: { type: 'coop', id: coop.id }, delegable: true, grantedBy: rootId, status: 'active', reason: 'runs the co-op' });
    expect(Math.abs(new Date(a.expiresAt).getTime() - Date.now() - 30 * 86_400_000)).toBeLessThan(60_000);

    const b = await runCli(
      ['grants', 'delegate', '--from', a.id, '--to', bob.accountId, '--role', 'cluster_operator', '--scope', `cluster:${clusterSlug}`, '--expires', '7d', '--reason', 'on call'],
      { ...env, MEETPLANE_TOKEN: alice.token },
    );
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/role\s+cluster_operator/);
    // Named by slug, kept by id.
    expect(b.stdout).toMatch(new RegExp(`scope\\s+cluster:${cluster}`));

    const widen = await runCli(
      ['grants', 'delegate', '--from', a.id, '--to', bob.accountId, '--role', 'platform_admin', '--scope', 'global', '--expires', '1d', '--reason', 'x'],
      { ...env, MEETPLANE_TOKEN: alice.token },
    );
    expect(widen.code).toBe(1);
    expect(widen.stderr).toMatch(/^meetplane: Delegation refused \(403\): a coop_admin grant can delegate/);

    const shown = await runCli(['grants', 'show', a.id], env);
    expect(shown.stdout).toMatch(/status\s+active/);

    const revoked = await runCli(['grants', 'revoke', a.id, '--reason', 'left'], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked 2 grant\(s\): /);
    const bobs = await runCli(['--json', 'grants', 'list', '--account', bob.accountId], env);
    expect(JSON.parse(bobs.stdout)[0].status).toBe('revoked');
    const active = await runCli(['--json', 'grants', 'list', '--account', bob.accountId, '--active'], env);
    expect(JSON.parse(active.stdout)).toEqual([]);
  });

  it('refuses bad scopes and expiries as usage errors', async () => {
    const scope = await runCli(['grants', 'delegate', '--from', 'x', '--to', 'y', '--role', 'auditor', '--scope', 'coop:North Coop', '--expires', '1d', '--reason', 'r'], env);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toMatch(/--scope must be global, coop:<id\|slug>/);
    const exp = await runCli(['grants', 'delegate', '--from', 'x', '--to', 'y', '--role', 'auditor', '--scope', 'global', '--expires', 'soon', '--reason', 'r'], env);
    expect(exp.code).toBe(2);
    const role = await runCli(['grants', 'delegate', '--from', 'x', '--to', 'y', '--role', 'king', '--scope', 'global', '--expires', '1d', '--reason', 'r'], env);
    expect(role.code).toBe(2);
  });

  it('shows the policy set and explains a decision', async () => {
    const shown = await runCli(['policies', 'show'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`policy set ${policyEvaluator().policySetHash}`);
    expect(shown.stdout).toMatch(/deny-unverified-grants-on-change\s+forbid\s+guards\.cedar/);

    const check = await runCli(['policies', 'check', '--principal', alice.accountId, '--action', 'cluster.drain', '--resource', `cluster:${cluster}`], env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^DENY  cluster\.drain on cluster:/);
    expect(check.stdout).toContain('no active grants');
    expect(check.stdout).toMatch(/permit\s+cluster-operator-operate\s+does not match\s+cluster-operator\.cedar/);

    const self = await runCli(['policies', 'check', '--action', 'coop.read', '--resource', `coop:${coop.id}`], { ...env, MEETPLANE_TOKEN: alice.token });
    expect(self.stdout).toMatch(/^ALLOW  coop\.read/);
    expect(self.stdout).toMatch(/permit\s+account-read-home-coop\s+matches/);

    const bad = await runCli(['policies', 'check', '--action', 'coop.read', '--resource', 'nowhere'], env);
    expect(bad.code).toBe(2);
  });
});
