// Crash safety of a transfer between instances, with real processes: A (the source) and B (the
// target) are each `meetplane serve` (the built CLI) on its own PostgreSQL database, with the
// background worker on, so the transfers job and the peer-transfers job drive the flow; the test
// only does what people do (offer, approvals, the acceptance at B) through REST. One of the two is
// started with MEETPLANE_FAILPOINT (server/failpoints.ts) and dies with SIGKILL there: at A's step
// boundaries, at B in the middle of the pull, between the tenancy's creation and `pulled`, and at A
// between the switch's commit and the announce. It is started again on the same database and port;
// both ends then finish: every file of the manifest at B once, with its SHA-256, nothing partial
// left, nothing created twice, each one-shot action audited once. And B stopped while A packages:
// A retries with growing waits and stays copying (never switching) until B is back.
//
// The jobs' own periods (transfers every 30 s, mail every 30 s) are cut short by making the jobs due
// (runSoon, as a tick would), and a dead process's job leases (60 s) are expired by SQL, as the minute
// passing would: the waits themselves are not what is tested here. PostgreSQL only: the test reads
// and nudges the databases the servers run on, which an embedded PGlite cannot share.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { freePort } from '../oidc/helpers.js';
import { serveCli } from '../support/cli.js';
import { backend, freshDatabase, type TestDatabase } from '../support/db.js';
import { restClient, TEST_OUTBOUND_ALLOW, type TestServer } from '../support/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { bootstrapAdmin } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { runSoon } from '../../server/jobs/queue.js';
import { transfers } from '../../server/transfers/table.js';
import { tenancies } from '../../server/tenancies/table.js';
import { recordings, rooms } from '../../server/inventory/table.js';
import { memberships } from '../../server/accounts/table.js';
import { peerTransferFiles, peerTransfers } from '../../server/peer-transfers/table.js';
import type { Manifest } from '../../federation/transfer-messages.js';

const postgres = backend() === 'postgres';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One meetplane instance: its database, data directory and port stay; its process comes and goes. */
interface Instance {
  name: 'A' | 'B';
  port: number;
  database: TestDatabase;
  masterKey: string;
  dataDir: string;
  adminToken: string;
  child?: ChildProcess;
  /** the output of each process of this instance so far */
  outputs: Array<() => string>;
  /** what fixtures need of a TestServer: the REST API and the database */
  s: TestServer;
}

let A: Instance, B: Instance;
let bbb: BbbPair;
let smtp: SmtpSink;
let uk: { id: string };
let quebec: { slug: string; id: string };
let montreal: { id: string; slug: string };
let aAdmin: { token: string }, bAdmin: { token: string };
let bEntity: string;

async function instance(name: 'A' | 'B'): Promise<Instance> {
  const database = await freshDatabase();
  const { token: adminToken } = await bootstrapAdmin(database.db, LOCAL_OPERATOR, { email: `root-${name}@platform.test`, name: 'Platform Admin' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = restClient(url, adminToken);
  const s = { url, database, adminToken, api } as unknown as TestServer;
  return { name, port, database, masterKey: randomBytes(32).toString('base64'), dataDir: mkdtempSync(path.join(os.tmpdir(), `mp-crash-${name}-`)), adminToken, outputs: [], s };
}

/** Starts the instance's process (on its database and port), optionally armed to die at `failpoint`. */
async function start(i: Instance, failpoint = ''): Promise<void> {
  const started = await serveCli({
    PORT: String(i.port),
    PUBLIC_URL: `http://127.0.0.1:${i.port}`,
    DATABASE_URL: i.database.url!,
    MASTER_KEY: i.masterKey,
    DATA_DIR: i.dataDir,
    WORKER: 'on',
    OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    TRANSFER_MIN_NOTICE_DAYS: '0',
    TRANSFER_MEETING_GRACE: '0',
    TRANSFER_LEASE: '1',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'meetplane@example.org',
    PASSWORD_SCRYPT_LN: '14',
    LOG_LEVEL: 'info',
    MEETPLANE_FAILPOINT: failpoint,
  });
  i.child = started.child;
  i.outputs.push(started.output);
}

const tail = (i: Instance) => i.outputs.map((o) => o()).join('\n').slice(-4000);
const dead = (i: Instance) => !i.child || i.child.exitCode !== null || i.child.signalCode !== null;

/** Stops the process (SIGTERM: a clean stop) and waits for it. */
async function stop(i: Instance): Promise<void> {
  const child = i.child;
  if (!child || dead(i)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * After a process died: its periodic jobs are still leased to it for the worker's lease (60 s);
 * expired here, as the minute passing would expire them.
 */
async function expireLeasesOf(i: Instance, pid: number): Promise<void> {
  await i.database.db.execute(sql`update jobs set lease_expires_at = now() where state = 'running' and lease_owner like ${`%:${pid}:%`}`);
}

/** Makes the instance's periodic jobs due now (their periods are 5 to 30 s). */
async function nudge(i: Instance): Promise<void> {
  for (const key of ['transfers.advance', 'peer-transfers.deliver', 'mail.deliver']) await runSoon(i.database.db, key);
}

/** A UK tenancy with an owner, two members and two recordings (one of 600 KB: many chunks), on A's cluster, in A's inventory. */
async function ukTenancy(name: string) {
  const t = await createTenancy(A.s, uk.id, clusterA.id, { name, retentionDays: 3650 });
  const owner = await memberWithToken(A.s, uk.id);
  const members = [await memberWithToken(A.s, uk.id), await memberWithToken(A.s, uk.id)];
  await A.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  for (const m of members) await A.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${m.accountId}`, { body: { role: 'member' } });
  const written = [];
  for (const [i, format] of ['presentation', 'video'].entries())
    written.push(
      await writeRecording(bbb.dirs.source, {
        meetingId: `${t.slug}-room-${i}`,
        name: `Lesson ${i}`,
        host: bbb.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        format,
        files: { 'shapes.svg': `<svg id="${t.slug}-${i}"/>`, 'video/webcams.webm': Buffer.alloc(600_000 + i, 3 + i), 'slides/1.png': Buffer.alloc(70_000, 9 + i) },
      }),
    );
  // The tenancy's recordings as A's inventory holds them (they travel as its content).
  await runSoon(A.database.db, 'inventory.refresh-all');
  await until(`A's inventory of ${name}`, async () => (await A.database.db.select().from(recordings).where(eq(recordings.tenancyId, t.id))).length === 2);
  return { ...t, owner, members, written };
}
let clusterA: { id: string };

async function until(what: string, done: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- A ---\n${tail(A)}\n--- B ---\n${tail(B)}`);
    await sleep(200);
  }
}

/** Offered by A's platform admin, approved by A's co-op admin and the owner, accepted by B's co-op admin: the rest is the jobs'. */
async function offerAndApprove(t: Awaited<ReturnType<typeof ukTenancy>>): Promise<string> {
  const offered = await A.s.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: bEntity, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: 'a'.repeat(64), noticeDays: 0 } });
  expect(offered.status, offered.text).toBe(201);
  const id = offered.json.id as string;
  const act = async (action: string, token: string, body: unknown) => {
    const etag = (await A.s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag');
    const res = await A.s.api('POST', `/api/v1/transfers/${id}/${action}`, { token, body, headers: etag ? { 'If-Match': etag } : {} });
    expect(res.status, res.text).toBe(200);
  };
  await act('approve', aAdmin.token, { as: 'source_admin' });
  await act('approve', t.owner.token, { as: 'owner' });
  const accepted = await B.s.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } });
  expect(accepted.status, accepted.text).toBe(200);
  return id;
}

const transferAtA = async (id: string) => (await A.database.db.select().from(transfers).where(eq(transfers.id, id)))[0]!;
const peerRow = async (i: Instance, id: string) => (await i.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, id)))[0];
const tenancyAt = async (i: Instance, id: string) => (await i.database.db.select().from(tenancies).where(eq(tenancies.id, id)))[0];
const actionsOn = async (i: Instance, type: string, id: string) =>
  (await i.s.api('GET', `/api/v1/audit/entries?subjectType=${type}&subject=${id}&limit=200`)).json.items.map((e: { json: { action: string } }) => e.json.action) as string[];
const once = (actions: string[], action: string) => expect(actions.filter((a) => a === action), `${action} in ${actions.join(', ')}`).toHaveLength(1);

/** Both ends finished: A's transfer completed and its tenancy moved out, B's transfer completed and the tenancy active there. */
async function bothEnded(id: string, tenancyId: string): Promise<boolean> {
  const [t, atB, tA, tB] = [await transferAtA(id), await peerRow(B, id), await tenancyAt(A, tenancyId), await tenancyAt(B, tenancyId)];
  if (t.state === 'rejected' || t.state === 'failed' || t.state === 'cancelled' || atB?.state === 'failed' || atB?.state === 'cancelled')
    throw new Error(`the transfer ended badly: A ${t.state} (${JSON.stringify(t.failure)}), B ${atB?.state} (${atB?.lastError})\n--- A ---\n${tail(A)}\n--- B ---\n${tail(B)}`);
  return t.state === 'completed' && atB?.state === 'completed' && !!atB.receipt && tA?.state === 'moved' && tB?.state === 'active';
}

/** Every file below `dir`, relative to `root`. */
function filesUnder(root: string, dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** What a user would check after the move, whatever crashed on the way. */
async function expectMovedOnce(id: string, t: Awaited<ReturnType<typeof ukTenancy>>): Promise<void> {
  const source = (await peerRow(A, id))!;
  const manifest = JSON.parse(source.manifest!) as Manifest;
  expect(manifest.files.length).toBeGreaterThanOrEqual(8);
  // Every file the manifest names at B's storage exactly once, byte for byte; nothing else, nothing partial.
  const pulled = await B.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, id));
  expect(pulled.map((f) => f.path).sort()).toEqual(manifest.files.map((f) => f.path).sort());
  const recorded = new Map(pulled.map((f) => [f.path, f.sha256]));
  for (const f of manifest.files) {
    const bytes = readFileSync(path.join(bbb.dirs.target, f.path));
    // metadata.xml is B's own (its playback links may be rewritten by the pull): as the pull recorded it.
    expect(sha(bytes), f.path).toBe(f.path.endsWith('/metadata.xml') ? recorded.get(f.path) : f.sha256);
  }
  const atB = t.written.flatMap((w) => filesUnder(bbb.dirs.target, w.dir.replace(bbb.dirs.source, bbb.dirs.target)));
  expect(atB.sort()).toEqual(manifest.files.map((f) => f.path).sort());
  expect(filesUnder(bbb.dirs.target, bbb.dirs.target).filter((f) => f.endsWith('.partial'))).toEqual([]);
  // Nothing created twice at B: the rooms and recordings A had, the members who did not object.
  const count = async (i: Instance, table: typeof rooms | typeof recordings | typeof memberships) =>
    (await i.database.db.select({ n: sql<number>`count(*)::int` }).from(table).where(eq(table.tenancyId, t.id)))[0]!.n;
  expect(await count(B, recordings)).toBe(await count(A, recordings));
  expect(await count(B, rooms)).toBe(await count(A, rooms));
  expect(await count(B, memberships)).toBe(3);
  const emails = (await B.s.api('GET', `/api/v1/tenancies/${t.id}/members`)).json.items.map((m: { email: string }) => m.email) as string[];
  expect(new Set(emails).size).toBe(3);
  // Each one-shot action audited once, at A and at B.
  const atA = await actionsOn(A, 'transfer', id);
  for (const a of ['transfer.freeze', 'transfer.copy-start', 'transfer.copied', 'transfer.switch', 'transfer.complete']) once(atA, a);
  const peerAtA = await actionsOn(A, 'peer-transfer', id);
  for (const a of ['peer-transfer.package', 'peer-transfer.switch']) once(peerAtA, a);
  const peerAtB = await actionsOn(B, 'peer-transfer', id);
  for (const a of ['peer-transfer.pulled', 'peer-transfer.switched', 'peer-transfer.tenancy-created']) once(peerAtB, a);
  once(await actionsOn(B, 'tenancy', t.id), 'tenancy.create');
  // One receipt, the same on both sides, signed by both; stored once on each.
  once(peerAtA, 'peer-transfer.receipt');
  once(peerAtB, 'peer-transfer.receipt');
  expect(source.receipt?.signatures).toHaveLength(2);
  expect((await peerRow(B, id))!.receipt).toEqual(source.receipt);
  // A forwards the tenancy's calls to B for the grace period; B's peer row owes A nothing.
  expect((await peerRow(B, id))!.nextAttemptAt).toBeNull();
  expect(source.state).toBe('switched');
}

beforeAll(async () => {
  if (!postgres) return;
  bbb = await startBbbPair({ source: 'src-secret-crash', target: 'dst-secret-crash' });
  smtp = await startSmtpSink();
  [A, B] = [await instance('A'), await instance('B')];
  await Promise.all([start(A), start(B)]);
  const self = async (i: Instance) => (await i.s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };
  const [a, b] = [await self(A), await self(B)];
  bEntity = b.entityId;
  // Pinned with witnessing on: each cosigns the other's checkpoints, which the receipt names.
  for (const [i, e] of [[A, b], [B, a]] as const) expect((await i.s.api('POST', '/api/v1/federation/peers', { body: e })).status).toBe(201);
  uk = await createCoop(A.s, { name: 'Harbour Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });
  clusterA = await createCluster(A.s, uk.id, { country: 'GB', apiUrl: bbb.source.url, secret: 'src-secret-crash' });
  expect((await A.s.api('PUT', `/api/v1/clusters/${clusterA.id}/storage`, { body: { url: `file://${bbb.dirs.source}` } })).status).toBe(200);
  quebec = await createCoop(B.s, { name: 'Coop Érable', jurisdiction: 'CA', legalRegime: 'other', pipedaSubject: true, contactEmail: 'bonjour@erable.example' });
  montreal = await createCluster(B.s, quebec.id, { name: 'Montreal', country: 'CA', apiUrl: bbb.target.url, secret: 'dst-secret-crash' });
  expect((await B.s.api('PUT', `/api/v1/clusters/${montreal.id}/storage`, { body: { url: `file://${bbb.dirs.target}` } })).status).toBe(200);
  await runSoon(B.database.db, 'clusters.health');
  aAdmin = await coopAdminWithToken(A.s, uk.id);
  bAdmin = await coopAdminWithToken(B.s, quebec.id);
}, 120_000);

afterAll(async () => {
  for (const i of [A, B]) if (i) await stop(i);
  await smtp?.close();
  await bbb?.close();
  for (const i of [A, B]) await i?.database.close();
});

// Where a process dies: A at its step boundaries (before a transition's commit: its work done, the
// state not moved; after it), B in the middle of the pull (inside a file; before and after a batch of
// copied files is recorded, in one statement: here the package's files are one batch), B between the tenancy's creation and `pulled`, B before the verification goes out, and
// A between the switch's commit and the announce (transfer.after:verifying), or just before the
// announce's message is sent (its 3rd delivery: offer, package, switch); B once it signed the
// receipt, before sending it, and A once it stored the receipt, before answering and sending it back.
const KILLS: Array<{ who: 'A' | 'B'; at: string }> = [
  { who: 'A', at: 'transfer.after:frozen' },
  { who: 'A', at: 'transfer.before:copying' },
  { who: 'B', at: 'copy.chunk:5' },
  { who: 'B', at: 'copy.before-record:1' },
  { who: 'B', at: 'copy.after-record:1' },
  { who: 'B', at: 'peer-transfers.tenancy-created' },
  { who: 'B', at: 'peer-transfers.deliver:2' },
  { who: 'A', at: 'transfer.before:switching' },
  { who: 'A', at: 'transfer.before:verifying' },
  { who: 'A', at: 'transfer.after:verifying' },
  { who: 'A', at: 'peer-transfers.deliver:3' },
  { who: 'A', at: 'transfer.before:completed' },
  { who: 'B', at: 'peer-transfers.receipt-signed' },
  { who: 'A', at: 'peer-transfers.receipt-stored' },
];

describe.skipIf(!postgres)('a transfer between two instances, one of them killed with SIGKILL', () => {
  it.each(KILLS)('$who at $at: restarted, both ends finish, every file once with its SHA-256', async ({ who, at }) => {
    const victim = who === 'A' ? A : B;
    await stop(victim);
    await start(victim, at);
    const t = await ukTenancy(`Harbour School ${who} ${at}`);
    const id = await offerAndApprove(t);
    let killed: { pid: number; signal: string | null } | undefined;
    await until(`the transfer past the crash at ${who} ${at}`, async () => {
      if (!killed && dead(victim)) {
        killed = { pid: victim.child!.pid!, signal: victim.child!.signalCode };
        await expireLeasesOf(victim, killed.pid);
        await start(victim);
      }
      for (const i of [A, B]) if (!dead(i)) await nudge(i);
      return killed !== undefined && (await bothEnded(id, t.id));
    }, 90_000);
    expect(killed!.signal, `${who} was not killed at ${at}`).toBe('SIGKILL');
    await expectMovedOnce(id, t);
  }, 120_000);
});

describe.skipIf(!postgres)('the target unreachable while the source packages', () => {
  it('A retries with growing waits and stays copying, never switching; once B is back, the transfer completes', async () => {
    const t = await ukTenancy('Harbour Evening Classes');
    const id = await offerAndApprove(t);
    await stop(B);
    const waits: number[] = [];
    await until('three failed deliveries of the package', async () => {
      await nudge(A);
      const row = (await peerRow(A, id))!;
      if (row.attempts > waits.length && row.nextAttemptAt && row.lastError) waits.push(row.nextAttemptAt.getTime() - row.updatedAt.getTime());
      return waits.length >= 2;
    });
    const row = (await peerRow(A, id))!;
    expect(row.state).toBe('packaged');
    expect(row.lastError).toBeTruthy();
    expect(waits[1]!).toBeGreaterThan(waits[0]! * 1.5);
    const atA = await transferAtA(id);
    expect(atA.state).toBe('copying');
    expect((await tenancyAt(A, t.id))!.state).toBe('frozen');
    expect(await actionsOn(A, 'transfer', id)).not.toContain('transfer.switch');
    await start(B);
    await until('the transfer after B is back', async () => {
      for (const i of [A, B]) await nudge(i);
      return bothEnded(id, t.id);
    }, 90_000);
    await expectMovedOnce(id, t);
  }, 150_000);
});
