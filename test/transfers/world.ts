// What the transfer-failure tests share: a real server, a source and a target
// BBB double whose recordings roots are the clusters' storage, a UK and a German
// co-op, and a way to bring a fresh tenancy's transfer to its notice (three
// approvals) and run it.
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { armFailpoint } from '../../server/failpoints.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createLogger } from '../../server/logger.js';
import { pollClusters } from '../../server/clusters/health.js';
import { clusterHealth } from '../../server/clusters/health-table.js';
import { CheckpointSigner, auditOrigin } from '../../server/audit/checkpoints.js';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from '../../server/transfers/jurisdictions.js';
import type { ExecutionDeps } from '../../server/transfers/execute.js';
import { signQuery } from '../../server/bbb/checksum.js';
import { deliverDue, smtpTransport } from '../../server/mail/outbox.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

export interface World {
  s: TestServer;
  peers: BbbPair;
  uk: { id: string };
  de: { id: string };
  ukCluster: { id: string };
  deCluster: { id: string };
  sourceAdmin: { token: string; accountId: string };
  targetAdmin: { token: string; accountId: string };
  deps: ExecutionDeps;
  smtp: SmtpSink;
  close(): Promise<void>;
}

/** `storage`: the storage URL of each cluster, given its BBB double's recordings root (default: the root itself). */
export async function startWorld(storage: { source?: (root: string) => string; target?: (root: string) => string } = {}): Promise<World> {
  const s = await startTestServer({ TRANSFER_MIN_NOTICE_DAYS: '0', WORKER: 'off' });
  const peers = await startBbbPair({ source: 'src-secret-18', target: 'dst-secret-18' });
  const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
  const uk = await createCoop(s, { jurisdiction: 'GB', legalRegime: 'uk_gdpr', name: 'Old Co-op' });
  const de = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr', name: 'New Co-op' });
  const ukCluster = await createCluster(s, uk.id, { country: 'GB', apiUrl: peers.source.url, secret: 'src-secret-18' });
  const deCluster = await createCluster(s, de.id, { country: 'DE', apiUrl: peers.target.url, secret: 'dst-secret-18' });
  const url = (root: string, f?: (root: string) => string) => (f ? f(root) : `file://${root}`);
  for (const [cluster, u] of [
    [ukCluster.id, url(peers.dirs.source, storage.source)],
    [deCluster.id, url(peers.dirs.target, storage.target)],
  ] as const) {
    const res = await s.api('PUT', `/api/v1/clusters/${cluster}/storage`, { body: { url: u } });
    expect(res.status, res.text).toBe(200);
  }
  await pollClusters(s.database.db, box, { outbound: s.outbound });
  const smtp = await startSmtpSink();
  const deps: ExecutionDeps = {
    db: s.database.db,
    box,
    log: createLogger('silent'),
    signer: await CheckpointSigner.load(s.database.db, box, auditOrigin(s.url)),
    outbound: s.outbound,
    publicUrl: s.url,
    timing: { meetingGraceMs: 0, sourceGraceMs: 0 },
    rules: new DataProtectionRules(),
    registry: JurisdictionRegistry.load(),
    minNoticeDays: 0,
    clusterStatus: async (clusterId) => {
      const [h] = await s.database.db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId));
      return { online: h?.state === 'online', load: h?.load ?? 0 };
    },
  };
  return {
    s,
    peers,
    uk,
    de,
    ukCluster,
    deCluster,
    sourceAdmin: await coopAdminWithToken(s, uk.id),
    targetAdmin: await coopAdminWithToken(s, de.id),
    deps,
    smtp,
    async close() {
      await smtp.close();
      await peers.close();
      await s.stop();
    },
  };
}

/**
 * A test file's world: started before its first test and closed after its last; a failpoint a test
 * armed is disarmed after it. The object is filled in when the world has started.
 */
export function useWorld(): World {
  const w = {} as World;
  beforeAll(async () => {
    Object.assign(w, await startWorld());
  }, 60_000);
  afterAll(async () => w.close?.());
  afterEach(() => armFailpoint(null));
  return w;
}

export interface Tenancy {
  id: string;
  slug: string;
  bbbSecret: string;
  owner: { token: string; accountId: string };
  member: { token: string; accountId: string };
}

/** A tenancy of the UK co-op with an owner and a member. */
export async function ukTenancy(w: World, name: string): Promise<Tenancy> {
  const t = await createTenancy(w.s, w.uk.id, w.ukCluster.id, { name, retentionDays: 3650 });
  const owner = await memberWithToken(w.s, w.uk.id);
  const member = await memberWithToken(w.s, w.uk.id);
  await w.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${owner.accountId}`, { body: { role: 'owner' } });
  await w.s.api('PUT', `/api/v1/tenancies/${t.id}/members/${member.accountId}`, { body: { role: 'member' } });
  return { ...t, owner, member };
}

/** Requests, checks and approves (three people) the tenancy's transfer to the German co-op: it is in notice, due at once. */
export async function transferInNotice(w: World, t: Tenancy, create: Record<string, unknown> = {}): Promise<string> {
  const { s } = w;
  await s.api('POST', '/api/v1/processing-agreements', { token: w.sourceAdmin.token, body: { tenancy: t.id, coop: w.de.id, documentSha256: 'c'.repeat(64), signedOn: '2026-01-01' } });
  const created = await s.api('POST', '/api/v1/transfers', { token: w.sourceAdmin.token, body: { tenancy: t.id, targetCoop: w.de.id, targetCluster: w.deCluster.id, noticeDays: 0, ...create } });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  const checked = await transferAction(w, id, 'check', { token: w.sourceAdmin.token });
  expect(checked.json.state, checked.text).toBe('checked');
  await transferAction(w, id, 'approve', { token: w.sourceAdmin.token, body: { as: 'source_admin' } });
  await transferAction(w, id, 'approve', { token: w.targetAdmin.token, body: { as: 'target_admin' } });
  const approved = await transferAction(w, id, 'approve', { token: t.owner.token, body: { as: 'owner' } });
  expect(approved.json.state, approved.text).toBe('notice');
  // The notices reach every member (accepted by the mail server): the notice period (0 days) is behind them.
  const transport = smtpTransport(w.smtp.url);
  while ((await deliverDue(s.database.db, transport, 'meetplane@example.org', w.deps.log)).sent > 0);
  return id;
}

/** POST /transfers/{id}/{action} as `token`, with If-Match set to the ETag the transfer has now (when it has one). */
export async function transferAction(w: World, id: string, action: string, opts: { token: string; body?: unknown }) {
  const etag = (await w.s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag');
  return w.s.api('POST', `/api/v1/transfers/${id}/${action}`, { token: opts.token, body: opts.body, headers: etag ? { 'If-Match': etag } : {} });
}

/** What a front end sees when it creates a meeting through the gateway: the XML answer. */
export async function gatewayCreate(w: World, t: Tenancy, meetingID: string): Promise<string> {
  const q = signQuery('create', { meetingID, name: meetingID, attendeePW: 'a', moderatorPW: 'm' }, t.bbbSecret, 'sha256');
  return (await fetch(`${w.s.url}/t/${t.slug}/bigbluebutton/api/create?${q}`)).text();
}

/** The audit entries recorded on a transfer, in order: each action with its details. */
export async function transferEntries(w: World, id: string): Promise<Array<{ action: string; details?: Record<string, unknown> }>> {
  const res = await w.s.api('GET', `/api/v1/audit/entries?subjectType=transfer&subject=${id}&limit=100`);
  return res.json.items.map((e: { json: { action: string; details?: Record<string, unknown> } }) => e.json);
}

/** The audit actions recorded on a transfer, in order. */
export async function transferAudit(w: World, id: string): Promise<string[]> {
  return (await transferEntries(w, id)).map((e) => e.action);
}
