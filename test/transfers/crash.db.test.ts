// Crash safety of transfer execution. `meetplane transfers run` (the built CLI,
// a real process on the same PostgreSQL) is killed with SIGKILL at every step
// boundary, just before each step commits, in the middle of a file and between
// files of the copy (MEETPLANE_FAILPOINT, server/failpoints.ts). A second run,
// after the dead runner's lease ran out, finishes the transfer: every recording
// is at the target exactly once with the right SHA-256, nothing half-written is
// left, the source copy is deleted, each step is in the audit log once and the
// receipt verifies. PostgreSQL only: the test and the runner are two processes
// on one database, which an in-memory PGlite cannot be.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { deliverOutbox, transferAction } from '../support/transfers.js';
import { startTestServer, TEST_OUTBOUND_ALLOW, type TestServer } from '../support/server.js';
import { backend } from '../support/db.js';
import { spawnCli } from '../support/cli.js';
import type { BbbDouble } from '../support/bbb/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { pollClusters } from '../../server/clusters/health.js';
import { transferFiles, transfers } from '../../server/transfers/table.js';
import { loadReceipt } from '../../server/receipts/receipt.js';
import { coopJwks } from '../../server/receipts/keys.js';
import { verifyReceipt } from '../../federation/receipt-verify.js';

const postgres = backend() === 'postgres';
let s: TestServer;
let source: BbbDouble;
let target: BbbDouble;
let peers: BbbPair;
let dirs: BbbPair['dirs'];
let clusters: { uk: { coop: string; cluster: string }; de: { coop: string; cluster: string } };
let admins: { uk: string; de: string };

beforeAll(async () => {
  if (!postgres) return;
  s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  peers = await startBbbPair({ source: 'crash-source', target: 'crash-target' });
  ({ source, target, dirs } = peers);
  const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Old Co-op' });
  const de = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'New Co-op' });
  const ukCluster = await createCluster(s, uk.id, { country: 'GB', apiUrl: source.url, secret: 'crash-source' });
  const deCluster = await createCluster(s, de.id, { country: 'DE', apiUrl: target.url, secret: 'crash-target' });
  await s.api('PUT', `/api/v1/clusters/${ukCluster.id}/storage`, { body: { url: `file://${dirs.source}` } });
  await s.api('PUT', `/api/v1/clusters/${deCluster.id}/storage`, { body: { url: `file://${dirs.target}` } });
  await pollClusters(s.database.db, new SecretBox(Buffer.from(s.masterKey, 'base64')), { outbound: s.outbound });
  clusters = { uk: { coop: uk.id, cluster: ukCluster.id }, de: { coop: de.id, cluster: deCluster.id } };
  admins = { uk: (await coopAdminWithToken(s, uk.id)).token, de: (await coopAdminWithToken(s, de.id)).token };
}, 60_000);
afterAll(async () => {
  await peers?.close();
  await s?.stop();
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A tenancy with three recordings (one file of 300 KB: several read chunks), approved and past its notice. */
async function dueTransfer() {
  const tenancy = await createTenancy(s, clusters.uk.coop, clusters.uk.cluster, { name: 'Riverside School' });
  const owner = await memberWithToken(s, clusters.uk.coop);
  await s.api('PUT', `/api/v1/tenancies/${tenancy.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  const expected = new Map<string, string>(); // path below the storage root -> SHA-256 of the source bytes
  const recordIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const files = { 'video/webcams.webm': Buffer.alloc(300_000 + i, 7 + i), 'shapes.svg': `<svg id="${i}"/>` };
    const r = await writeRecording(dirs.source, { meetingId: `room-${tenancy.slug}-${i}`, name: `Lesson ${i}`, host: source.origin, meta: { 'meetplane-tenancy': tenancy.id }, files });
    recordIds.push(r.recordId);
    for (const [name, content] of Object.entries(files)) expected.set(path.relative(dirs.source, path.join(r.dir, name)), sha(content));
  }
  await s.api('POST', '/api/v1/processing-agreements', { token: admins.uk, body: { tenancy: tenancy.id, coop: clusters.de.coop, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
  const created = await s.api('POST', '/api/v1/transfers', { token: admins.uk, body: { tenancy: tenancy.id, targetCoop: clusters.de.coop, targetCluster: clusters.de.cluster, noticeDays: 0 } });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  expect((await transferAction(s, id, 'check', { token: admins.uk })).json.state).toBe('checked');
  await transferAction(s, id, 'approve', { token: admins.uk, body: { as: 'source_admin' } });
  await transferAction(s, id, 'approve', { token: admins.de, body: { as: 'target_admin' } });
  const approved = await transferAction(s, id, 'approve', { token: owner.token, body: { as: 'owner' } });
  expect(approved.json.state, approved.text).toBe('notice');
  await deliverOutbox(s.database.db); // the notice reaches the owner: the freeze counts from then
  return { id, tenancyId: tenancy.id, expected, recordIds };
}

/** `meetplane transfers run` as a child process on the test's database. */
async function runner(failpoint?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const r = await spawnCli(['transfers', 'run', '--wait', '20'], {
    DATABASE_URL: s.database.url!,
    MASTER_KEY: s.masterKey,
    DATA_DIR: s.dataDir,
    PUBLIC_URL: s.url,
    TRANSFER_MIN_NOTICE_DAYS: '0',
    TRANSFER_MEETING_GRACE: '0',
    TRANSFER_SOURCE_GRACE_DAYS: '0',
    TRANSFER_LEASE: '1',
    MEETPLANE_FAILPOINT: failpoint ?? '',
    OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
  }).done;
  return { code: r.code, signal: r.signal, output: r.stdout + r.stderr };
}

/** Every file below `dir`, relative to `root`. */
function filesUnder(root: string, dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const EXECUTION_ACTIONS = ['transfer.freeze', 'transfer.copy-start', 'transfer.copied', 'transfer.switch', 'transfer.complete', 'transfer.source-delete'];

// Where the runner dies: between steps (after a commit), inside a step just
// before its commit (its work done, the state not moved), and inside the copy.
const FAILPOINTS = [
  'transfer.before:frozen',
  'transfer.after:frozen',
  'transfer.before:copying',
  'transfer.after:copying',
  'copy.chunk:3',
  'copy.before-record:2',
  'copy.after-record:4',
  'transfer.before:switching',
  'transfer.after:switching',
  'transfer.before:verifying',
  'transfer.after:verifying',
  'transfer.before:completed',
  'transfer.after:completed',
  'transfer.before:source-deleted',
];

describe.skipIf(!postgres)('two transfer runners at once', () => {
  it('run each step once: the second waits for the first one\'s lease', async () => {
    const t = await dueTransfer();
    const [a, b] = await Promise.all([runner(), runner()]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    const [done] = await s.database.db.select().from(transfers).where(eq(transfers.id, t.id));
    expect(done!.state).toBe('completed');
    const entries = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(entries.filter((a: string) => EXECUTION_ACTIONS.includes(a))).toEqual(EXECUTION_ACTIONS);
    for (const [file, hash] of t.expected) expect(sha(readFileSync(path.join(dirs.target, file))), file).toBe(hash);
  }, 60_000);
});

describe.skipIf(!postgres)('a transfer runner killed with SIGKILL', () => {
  it.each(FAILPOINTS)('at %s: a second run completes it, every recording once with the right checksum', async (failpoint) => {
    const t = await dueTransfer();
    const killed = await runner(failpoint);
    expect(killed.signal, `the runner was not killed at ${failpoint}:\n${killed.output}`).toBe('SIGKILL');
    const [midway] = await s.database.db.select().from(transfers).where(eq(transfers.id, t.id));
    expect(midway!.sourceDeletedAt).toBeNull();

    const resumed = await runner();
    expect(resumed.code, resumed.output).toBe(0);
    const [done] = await s.database.db.select().from(transfers).where(eq(transfers.id, t.id));
    expect(done!.state).toBe('completed');
    expect(done!.sourceDeletedAt).not.toBeNull();

    // Exactly the tenancy's files at the target, each once, byte for byte; nothing partial left over.
    const atTarget = t.recordIds.flatMap((r) => filesUnder(dirs.target, path.join(dirs.target, 'published', 'presentation', r)));
    const expectedFiles = [...t.expected.keys()];
    expect(atTarget.filter((f) => !f.endsWith('metadata.xml')).sort()).toEqual(expectedFiles.sort());
    expect(atTarget.filter((f) => f.endsWith('metadata.xml'))).toHaveLength(3);
    for (const [file, hash] of t.expected) expect(sha(readFileSync(path.join(dirs.target, file))), file).toBe(hash);
    for (const f of atTarget.filter((f) => f.endsWith('metadata.xml'))) expect(readFileSync(path.join(dirs.target, f), 'utf8')).toContain(target.origin);
    // The copy's own record agrees with the disk.
    const records = await s.database.db.select().from(transferFiles).where(eq(transferFiles.transferId, t.id));
    expect(records.map((r) => r.path).sort()).toEqual([...atTarget].sort());
    for (const r of records) expect(sha(readFileSync(path.join(dirs.target, r.path)))).toBe(r.sha256);
    // The source copy is gone after the (zero) grace period.
    // In no tree: BBB's deleteRecordings only moves a recording to deleted/.
    for (const r of t.recordIds)
      for (const tree of ['published', 'unpublished', 'deleted']) expect(existsSync(path.join(dirs.source, tree, 'presentation', r)), `${tree}/${r}`).toBe(false);

    // Each step happened once, in order, whatever the runner died in.
    const entries = (await s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${t.id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(entries.filter((a: string) => EXECUTION_ACTIONS.includes(a))).toEqual(EXECUTION_ACTIONS);

    const receipt = await loadReceipt(s.database.db, t.id);
    const verified = await verifyReceipt(receipt!, { sourceJwks: await coopJwks(s.database.db, clusters.uk.coop), targetJwks: await coopJwks(s.database.db, clusters.de.coop) });
    expect(verified.summary.transferId).toBe(t.id);
  }, 60_000);
});
