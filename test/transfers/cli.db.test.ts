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
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/state\s+rejected/);
    // A US host without a DPF listing (the clauses alone do not do without an impact assessment),
    // no processing agreement, and a target cluster nobody has seen online.
    expect(check.stdout).toMatch(/decision: deny \(dp-destination-dpf-not-listed, dp-processing-agreement, dp-target-cluster-ready\)/);

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
});
