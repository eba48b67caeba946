// meetplane transfers … as a co-op admin would run it: documents are named by
// file and enter the transfer as their SHA-256; a refusal prints its rules.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
let env: Record<string, string>;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-transfer-cli-'));

beforeAll(async () => {
  s = await startTestServer();
  env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
});
afterAll(async () => {
  await s?.stop();
});

describe('meetplane transfers', () => {
  it('creates a transfer with its documents as hashes, checks it, shows why it was refused, and shows its status', async () => {
    const source = await createCoop(s, { slug: 'cli-src', jurisdiction: 'FR', legalRegime: 'eu_gdpr' });
    const target = await createCoop(s, { slug: 'cli-dst', jurisdiction: 'US', legalRegime: 'other' });
    const tenancy = await createTenancy(s, source.id, (await createCluster(s, source.id)).id, { slug: 'cli-school' });
    const cluster = await createCluster(s, target.id, { country: 'US' });
    const sccs = path.join(dir, 'sccs.pdf');
    writeFileSync(sccs, 'signed clauses');
    const created = await runCli(['--json', 'transfers', 'create', '--tenancy', 'cli-school', '--to', 'cli-dst', '--cluster', cluster.id, '--basis', 'sccs', '--sccs', sccs], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const t = JSON.parse(created.stdout);
    expect(t).toMatchObject({ state: 'draft', tenancyId: tenancy.id, targetCoopId: target.id });
    const [entry] = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&action=transfer.create`)).json.items;
    expect(entry.json.evidence).toEqual({ 'sccs-1': createHash('sha256').update('signed clauses').digest('hex') });

    const check = await runCli(['transfers', 'check', t.id], env);
    // Refused: a script can tell (exit 3), and the terminal says why and what to do.
    expect(check.code).toBe(3);
    expect(check.stderr).toBe(`meetplane: the rules refused transfer ${t.id}: dp-destination-dpf-not-listed, dp-processing-agreement, dp-target-cluster-ready\n`);
    expect(check.stdout).toMatch(/state\s+rejected/);
    // A US host without a DPF listing (the clauses alone do not do without an impact assessment),
    // no processing agreement, and a target cluster nobody has seen online.
    expect(check.stdout).toMatch(/decision: deny \(dp-destination-dpf-not-listed, dp-processing-agreement, dp-target-cluster-ready\)/);
    expect(check.stdout).toContain(
      '  dp-processing-agreement: No Art. 28 processing agreement between the tenancy and the target co-op is on record for today.\n' +
        '    what to do: Record the signed agreement: `meetplane transfers agreement',
    );
    expect(check.stdout).toMatch(/ {2}dp-target-cluster-ready: .+\n {4}what to do: .+/);

    const status = await runCli(['transfers', 'status', t.id], env);
    expect(status.stdout).toMatch(/\[x\] draft\n\[ \] checked/);
    const list = await runCli(['--json', 'transfers', 'list'], env);
    expect(JSON.parse(list.stdout).map((x: { id: string }) => x.id)).toContain(t.id);

    const cancel = await runCli(['transfers', 'cancel', t.id], env);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/^meetplane: Conflict \(409\): a rejected transfer cannot be cancelled/);
    const badRole = await runCli(['transfers', 'approve', t.id, '--as', 'someone'], env);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/^meetplane: The request is not valid \(400\)/);
  });

  it('records a processing agreement, refuses a notice period below the minimum at create, and names clusters by slug', async () => {
    const source = await createCoop(s, { jurisdiction: 'FR', legalRegime: 'eu_gdpr' });
    const target = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr' });
    const tenancy = await createTenancy(s, source.id, (await createCluster(s, source.id)).id);
    const cluster = await createCluster(s, target.id);
    const doc = path.join(dir, 'dpa.pdf');
    writeFileSync(doc, 'art 28 agreement');
    const recorded = await runCli(['transfers', 'agreement', '--tenancy', tenancy.slug, '--coop', target.slug, '--document', doc, '--signed-on', '2026-01-01'], env);
    expect(recorded.stderr).toBe('');
    expect(recorded.stdout).toContain(`(document sha256 ${createHash('sha256').update('art 28 agreement').digest('hex')})`);
    const badDay = await runCli(['transfers', 'agreement', '--tenancy', tenancy.slug, '--coop', target.slug, '--document', doc, '--signed-on', '1 Jan'], env);
    expect(badDay.code).toBe(2);

    // The server's minimum is 30 days (the default): 7 is refused now, naming the rule, not later at check.
    const short = await runCli(['transfers', 'create', '--tenancy', tenancy.slug, '--to', target.slug, '--cluster', cluster.slug, '--notice-days', '7'], env);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^meetplane: The request is not valid \(400\): noticeDays: must be at least 30 .*\n {2}dp-notice-period: Members must be given at least the required notice/);
    const created = await runCli(['--json', 'transfers', 'create', '--tenancy', tenancy.slug, '--to', target.slug, '--cluster', cluster.slug], env);
    expect(created.stderr).toBe('');
    const t = JSON.parse(created.stdout);
    expect(t.targetClusterId).toBe(cluster.id);
    // With the agreement on record, only the target cluster (never seen online) stands in the way.
    const check = await runCli(['--json', 'transfers', 'check', t.id], env);
    expect(check.code).toBe(3);
    const decision = JSON.parse(check.stdout).decision;
    expect(decision.policyIds).toEqual(['dp-target-cluster-ready']);
    expect(decision.rules).toEqual([{ id: 'dp-target-cluster-ready', explain: expect.stringMatching(/enabled, online/), remedy: expect.any(String) }]);
    // The audit page of the check says the same in words.
    const [entry] = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&action=transfer.check`)).json.items;
    const page = await (await fetch(`${s.url}/audit/entries/${entry.index}`, { headers: { cookie: `mp_audit=${s.adminToken}` } })).text();
    expect(page).toContain('<h2>Refused by</h2>');
    expect(page).toMatch(/<code>dp-target-cluster-ready<\/code><\/dt><dd>The target cluster must be enabled, online and have room for the tenancy\.<br\/><span class="muted">What to do: /);
  });

  it('lists, sets and removes the members of a tenancy', async () => {
    const coop = await createCoop(s);
    const tenancy = await createTenancy(s, coop.id, (await createCluster(s, coop.id)).id);
    const account = (await s.api('POST', '/api/v1/accounts', { body: { email: `m-${tenancy.slug}@example.org`, name: 'Mira', coop: coop.id } })).json;
    const set = await runCli(['tenancies', 'members', 'set', tenancy.slug, account.id, '--role', 'admin'], env);
    expect(set.stderr).toBe('');
    expect(set.stdout).toBe(`${account.id} is an admin of ${tenancy.slug}\n`);
    const list = await runCli(['tenancies', 'members', 'list', tenancy.slug], env);
    expect(list.stdout).toMatch(new RegExp(`${account.id}\\s+m-${tenancy.slug}@example.org\\s+Mira\\s+admin`));
    const badRole = await runCli(['tenancies', 'members', 'set', tenancy.slug, account.id, '--role', 'king'], env);
    expect(badRole.code).toBe(2);
    expect((await runCli(['tenancies', 'members', 'remove', tenancy.slug, account.id], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['--json', 'tenancies', 'members', 'list', tenancy.slug], env)).stdout)).toEqual([]);
  });
});
