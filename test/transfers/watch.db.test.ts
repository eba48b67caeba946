// meetplane transfers watch|receipt against a real server: watch follows a
// transfer's step and copy progress until it ends (exit 0 completed, 4 any
// other end), receipt fetches the signed receipt and checks it with both
// co-ops' keys from the same server. The transfers' state and progress are set
// on their rows here, as the execution (test/transfers/execute.db.test.ts)
// writes them; the completed one gets a receipt signed with the co-ops' keys.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli, spawnCli } from '../support/cli.js';
import { sampleReceiptSummary } from '../support/receipts.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { signReceipt, storeReceipt } from '../../server/receipts/receipt.js';
import { transfers, type TransferProgress } from '../../server/transfers/table.js';
import type { TransferState } from '../../server/transfers/lifecycle.js';

let s: TestServer;
let env: Record<string, string>;
let source: { id: string };
let target: { id: string };
let targetCluster: { id: string };
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-watch-'));

beforeAll(async () => {
  // No background worker: nothing moves the transfers but this test.
  s = await startTestServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' });
  env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
  source = await createCoop(s, { jurisdiction: 'FR', legalRegime: 'eu_gdpr' });
  target = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr' });
  targetCluster = await createCluster(s, target.id);
});
afterAll(async () => {
  await s?.stop();
});

/** A draft transfer of a new tenancy of the source co-op. */
async function draftTransfer(): Promise<{ id: string; tenancyId: string }> {
  const tenancy = await createTenancy(s, source.id, (await createCluster(s, source.id)).id);
  const res = await s.api('POST', '/api/v1/transfers', { body: { tenancy: tenancy.id, targetCoop: target.id, targetCluster: targetCluster.id, noticeDays: 0 } });
  expect(res.status, res.text).toBe(201);
  return { id: res.json.id, tenancyId: tenancy.id };
}

const progress = (over: Partial<TransferProgress> = {}): TransferProgress => ({
  recordingsDone: 0,
  recordingsTotal: 10,
  filesDone: 0,
  filesTotal: 40,
  bytesDone: 0,
  bytesTotal: 52_000_000,
  bytesPerSecond: 0,
  etaSeconds: null,
  at: new Date().toISOString(),
  ...over,
});

/** Moves the row as the execution does (state and progress), bypassing it. */
async function setRow(id: string, set: { state?: TransferState; progress?: TransferProgress | null }) {
  await s.database.db
    .update(transfers)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(transfers.id, id));
}

async function until(what: string, check: () => boolean, ms = 45_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Each CLI run starts a node process (a few seconds on a busy machine).
describe('transfers watch and receipt', { timeout: 120_000 }, () => {
  let completed: { id: string; tenancyId: string };

  beforeAll(async () => {
    completed = await draftTransfer();
    await setRow(completed.id, { state: 'completed', progress: progress({ recordingsDone: 10, filesDone: 40, bytesDone: 52_000_000, bytesPerSecond: 8e6, etaSeconds: 0 }) });
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    const jws = await signReceipt(
      s.database.db,
      box,
      sampleReceiptSummary({ transferId: completed.id, tenancyId: completed.tenancyId, sourceCoopId: source.id, targetCoopId: target.id, completedAt: new Date() }),
    );
    await storeReceipt(s.database.db, completed.id, jws);
  });

  it('watch on a completed transfer prints its final state and figures, and exits 0', async () => {
    const res = await runCli(['transfers', 'watch', completed.id, '--interval', '100'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // Not a terminal: plain lines, no escape sequences; the copy is over, so no rate or ETA.
    expect(res.stdout).toBe('completed (step 9 of 9): 10/10 recordings, 40/40 files, 52.0/52.0 MB\n');

    const json = await runCli(['--json', 'transfers', 'watch', completed.id], env);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: completed.id, state: 'completed', progress: { recordingsDone: 10, recordingsTotal: 10, etaSeconds: 0 } });
  });

  it('watch follows the copy from the progress the server reports, and exits 4 when the transfer ends otherwise', async () => {
    const t = await draftTransfer();
    expect((await s.api('GET', `/api/v1/transfers/${t.id}`)).json.progress).toBeNull();
    await setRow(t.id, { state: 'copying', progress: progress({ recordingsDone: 3, filesDone: 12, bytesDone: 15_600_000, bytesPerSecond: 4_200_000, etaSeconds: 65 }) });
    const status = await s.api('GET', `/api/v1/transfers/${t.id}`);
    expect(status.json.progress).toMatchObject({ recordingsDone: 3, recordingsTotal: 10, bytesPerSecond: 4_200_000, etaSeconds: 65 });

    const watch = spawnCli(['transfers', 'watch', t.id, '--interval', '100'], env);
    try {
      await until('the first progress line', () => watch.stdout().includes('\n'));
      expect(watch.stdout()).toBe('copying (step 6 of 9): 3/10 recordings, 12/40 files, 15.6/52.0 MB, 4.2 MB/s, ETA 1m05s\n');
      // Polls that change nothing print nothing.
      await new Promise((r) => setTimeout(r, 400));
      expect(watch.stdout().split('\n')).toHaveLength(2);

      await setRow(t.id, { progress: progress({ recordingsDone: 7, filesDone: 30, bytesDone: 40_000_000, bytesPerSecond: 5e6, etaSeconds: null }) });
      await until('the next progress line', () => watch.stdout().includes('7/10 recordings'));
      expect(watch.stdout()).toContain('copying (step 6 of 9): 7/10 recordings, 30/40 files, 40.0/52.0 MB, 5.0 MB/s, ETA unknown\n');

      await setRow(t.id, { state: 'rolled_back' });
      const res = await watch.done;
      expect(res.code).toBe(4);
      expect(res.stdout.trim().split('\n').at(-1)).toBe('rolled_back: 7/10 recordings, 30/40 files, 40.0/52.0 MB');
      expect(res.stderr).toBe(`meetplane: transfer ${t.id} ended rolled_back, not completed\n`);
    } finally {
      watch.child.kill();
    }

    // No receipt: a rolled-back transfer never gets one.
    const receipt = await runCli(['transfers', 'receipt', t.id], env);
    expect(receipt.code).toBe(1);
    expect(receipt.stdout).toBe('');
    expect(receipt.stderr).toBe('meetplane: Not found (404): the transfer has no receipt: it is not completed (it is rolled back)\n');
  });

  it('watch stops cleanly on ctrl-c, leaving the transfer as it was', async () => {
    const t = await draftTransfer();
    const watch = spawnCli(['transfers', 'watch', t.id, '--interval', '100'], env);
    await until('the first line', () => watch.stdout().includes('\n'));
    expect(watch.stdout()).toBe('draft (step 1 of 9)\n');
    watch.child.kill('SIGINT');
    const res = await watch.done;
    expect(res.code).toBe(130);
    expect(res.stderr).toBe('meetplane: stopped watching (the transfer goes on)\n');
    expect((await s.api('GET', `/api/v1/transfers/${t.id}`)).json.state).toBe('draft');
  });

  it('watch refuses a bad interval and an unknown transfer', async () => {
    const bad = await runCli(['transfers', 'watch', completed.id, '--interval', 'soon'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--interval must be a whole number of milliseconds/);
    const unknown = await runCli(['transfers', 'watch', '00000000-0000-7000-8000-000000000000'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('meetplane: Not found (404): transfer not found\n');
  });

  it('receipt fetches the receipt, verifies it with both co-ops\' keys from the server, and saves it', async () => {
    const file = path.join(dir, 'receipt.json');
    const res = await runCli(['transfers', 'receipt', completed.id, '--out', file], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^OK: transfer ${completed.id} of tenancy ${completed.tenancyId}, completed \\S+Z\\n`));
    expect(res.stdout).toMatch(new RegExp(`  source co-op ${source.id} signed with \\S+\\n  target co-op ${target.id} countersigned with \\S+\\nsaved to ${file}\\n$`));

    // The saved file is the receipt the server stores, and verifies on its own.
    const served = await s.api('GET', `/api/v1/transfers/${completed.id}/receipt`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/jose\+json/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(served.json);
    const jwks = (coop: string) => `${s.url}/api/v1/coops/${coop}/jwks`;
    const verify = await runCli(['receipts', 'verify', file, '--source-jwks', jwks(source.id), '--target-jwks', jwks(target.id)], env);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^OK: transfer /);
    expect(verify.stdout).toBe(res.stdout.replace(/saved to .*\n$/, '')); // the same report

    const json = await runCli(['--json', 'transfers', 'receipt', completed.id], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, summary: { transferId: completed.id, sourceCoopId: source.id, targetCoopId: target.id } });
  });

  it('a transfer without a receipt answers 404 saying it is not completed; only those who may read the transfer get its receipt', async () => {
    const t = await draftTransfer();
    const res = await s.api('GET', `/api/v1/transfers/${t.id}/receipt`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json).toMatchObject({ title: 'Not found', detail: 'the transfer has no receipt: it is not completed (it is draft)', state: 'draft' });
    const cli = await runCli(['transfers', 'receipt', t.id, '--out', path.join(dir, 'none.json')], env);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe('meetplane: Not found (404): the transfer has no receipt: it is not completed (it is draft)\n');

    // Someone of an unrelated co-op does not even see the completed transfer.
    const stranger = await memberWithToken(s, (await createCoop(s)).id);
    expect((await s.api('GET', `/api/v1/transfers/${completed.id}/receipt`, { token: stranger.token })).status).toBe(404);
    expect((await s.api('GET', `/api/v1/transfers/${completed.id}`, { token: stranger.token })).status).toBe(404);
    expect((await s.api('GET', `/api/v1/transfers/${completed.id}/receipt`, { token: null })).status).toBe(401);
  });
});
