// meetplane handovers … as the two co-ops' admins run it: a custody-only hand-over
// (one cluster changes hands with its tenancy, no data copied) from a plan file,
// approved by each side, the cut-over refused while a blocking task is open (the
// task named, a non-zero exit), then done, completed, and the saved report
// verified offline against the two co-ops' saved JWKS; a tampered report is not.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-handover-cli-'));

beforeAll(async () => {
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
});
afterAll(async () => {
  await s?.stop();
});

describe('meetplane handovers', () => {
  it('plans, approves, holds the cut-over for a blocking task, completes a custody hand-over and verifies its report offline', async () => {
    const old = await createCoop(s, { name: 'Old Co-op' });
    const neu = await createCoop(s, { name: 'New Co-op' });
    const cluster = await createCluster(s, old.id, { secret: 'before-custody-0123456789' });
    const tenancy = await createTenancy(s, old.id, cluster.id);
    const src = await coopAdminWithToken(s, old.id);
    const dst = await coopAdminWithToken(s, neu.id);
    const techie = await memberWithToken(s, neu.id);
    const as = (who: { token: string }) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: who.token });
    const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
    // The window opens after the CLI had time to start (twice, on a busy machine): a wave must open after the plan is made.
    const opens = Date.now() + 12_000;
    const planFile = path.join(dir, 'plan.json');
    writeFileSync(
      planFile,
      JSON.stringify({
        name: 'Custody of the old servers',
        sourceCoop: old.id,
        targetCoop: neu.id,
        clusters: [{ cluster: cluster.id, mode: 'custody' }],
        noticeDays: 0,
        announceAt: soon(0),
        waves: [{ freezeFrom: new Date(opens).toISOString(), freezeUntil: soon(3_600_000), concurrency: 1 }],
        cutoverAt: soon(3_600_000),
        decommissionAt: soon(7_200_000),
      }),
    );
    const created = await runCli(['--json', 'handovers', 'create', planFile], as(src));
    expect(created.stderr).toBe('');
    const id = JSON.parse(created.stdout).id as string;
    expect((await runCli(['handovers', 'approve', id, '--as', 'source_admin'], as(src))).code).toBe(0);
    const shown = await runCli(['handovers', 'approve', id, '--as', 'target_admin'], as(dst));
    expect(shown.stdout).toContain('state');
    expect(shown.stdout).toContain('approved');
    expect(shown.stdout).toContain(`${cluster.id} custody`);
    // The waves run by hand from now on (automatic by default), and it shows.
    const byHand = await runCli(['handovers', 'run-waves', id, 'by-hand'], as(dst));
    expect(byHand.code, byHand.stderr).toBe(0);
    expect(byHand.stdout).toContain('run by hand');
    const badMode = await runCli(['handovers', 'run-waves', id, 'sometimes'], as(dst));
    expect([badMode.code, badMode.stderr.trim()]).toEqual([2, 'meetplane: the mode is automatic or by-hand']);

    // Once its freeze window is open, the (empty) wave runs and the hand-over is running.
    await new Promise((r) => setTimeout(r, Math.max(0, opens - Date.now())));
    expect((await runCli(['handovers', 'run', id, '1'], as(dst))).code).toBe(0);
    const secretFile = path.join(dir, 'secret');
    writeFileSync(secretFile, 'after-custody-0123456789\n');
    const custody = await runCli(['handovers', 'custody', id, '--cluster', cluster.id, '--secret-file', secretFile], as(src));
    expect(custody.stdout).toContain("in the target co-op's custody: 1 tenancies kept it");
    expect((await s.api('GET', `/api/v1/tenancies/${tenancy.id}`)).json.coopId).toBe(neu.id);

    const added = await runCli(['--json', 'handovers', 'tasks', 'add', id, '--title', 'Greenlight reconfigured', '--assignee', techie.accountId, '--due', '2026-12-31', '--blocking'], as(dst));
    const taskId = JSON.parse(added.stdout).id as string;
    const held = await runCli(['handovers', 'cut-over', id], as(src));
    expect(held.code).not.toBe(0);
    expect(held.stderr).toContain('the cut-over waits for 1 blocking task: "Greenlight reconfigured" (open)');
    const status = await runCli(['handovers', 'status', id], as(src));
    expect(status.stdout).toContain(`BLOCKING task ${taskId} open due 2026-12-31: Greenlight reconfigured`);
    expect((await runCli(['handovers', 'tasks', 'update', id, taskId, '--status', 'done'], as(techie))).code).not.toBe(0); // not an admin of either co-op
    expect((await runCli(['handovers', 'tasks', 'update', id, taskId, '--status', 'done'], as(dst))).stdout).toContain('done');
    expect((await runCli(['handovers', 'cut-over', id], as(src))).code).toBe(0);
    expect((await runCli(['handovers', 'complete', id], as(dst))).code).toBe(0);
    const watched = await runCli(['handovers', 'watch', id, '--interval', '1'], as(src));
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('state: completed');

    const reportFile = path.join(dir, 'report.json');
    expect((await runCli(['handovers', 'report', id, '--out', reportFile], as(src))).code).toBe(0);
    const jwks = async (coop: string, file: string) => writeFileSync(path.join(dir, file), JSON.stringify((await s.api('GET', `/api/v1/coops/${coop}/jwks`)).json));
    await jwks(old.id, 'old.jwks');
    await jwks(neu.id, 'new.jwks');
    const ok = await runCli(['handovers', 'verify-report', reportFile, '--source-jwks', path.join(dir, 'old.jwks'), '--target-jwks', path.join(dir, 'new.jwks')], {});
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain(`OK: hand-over ${id} "Custody of the old servers"`);
    expect(ok.stdout).toContain('0 moved, 0 opted out, 0 failed, 1 clusters in custody');
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const payload = JSON.parse(Buffer.from(report.payload, 'base64url').toString());
    const tampered = path.join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...report, payload: Buffer.from(JSON.stringify({ ...payload, custody: [] })).toString('base64url') }));
    const bad = await runCli(['handovers', 'verify-report', tampered, '--source-jwks', path.join(dir, 'old.jwks'), '--target-jwks', path.join(dir, 'new.jwks')], {});
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('VERIFICATION FAILED');
  }, 90_000);
});
