// A platform hand-over of BENCH_TENANCIES tenancies (default 500; --quick 100),
// metadata only, on the embedded database and on PostgreSQL, each backend in a
// child process of its own (so its peak RSS is its own). Measured:
//   plan          creating the plan (scope, placement, waves, one audited insert set)
//   per-tenancy   the second approval, which makes every tenancy's transfer from the plan
//                 (create, data-protection check, two approvals each decided by the
//                 policies for that person), divided by the tenancies;
//                 baseline: the same work done one transfer at a time through the
//                 transfers service for as many other tenancies, in the same run
//   peak-rss      the child's peak RSS; baseline: its RSS once seeded
// Prints JSON lines {"bench","case","backend","value","unit","baseline","ratio"}; asserts nothing.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../server/config.js';
import { openDatabase, rowsOf, type Db } from '../server/db/index.js';
import { SecretBox } from '../server/crypto/secretbox.js';
import { authorized, LOCAL_OPERATOR, type Principal } from '../server/auth/principal.js';
import { createCoop } from '../server/coops/service.js';
import { createCluster } from '../server/clusters/service.js';
import { insertRootGrant } from '../server/grants/service.js';
import { Authz } from '../server/authz/authz.js';
import { transferRef } from '../server/authz/guard.js';
import { createLogger } from '../server/logger.js';
import { CheckpointSigner } from '../server/audit/checkpoints.js';
import { outboundFor } from '../server/net/outbound.js';
import { transferDeps } from '../server/transfers/deps.js';
import { approveTransfer, checkTransfer, createTransfer, recordProcessingAgreement } from '../server/transfers/service.js';
import type { ExecutionDeps } from '../server/transfers/step-kit.js';
import { createPlan } from '../server/handovers/plan.js';
import { approvePlan } from '../server/handovers/approvals.js';
import { handoverTenancies } from '../server/handovers/table.js';
import { onBothBackends } from './support.js';

const QUICK = process.argv.includes('--quick');
const N = Number(process.env.BENCH_TENANCIES ?? (QUICK ? 20 : 500));

function line(c: string, backend: string, value: number, unit: string, baseline: number | null) {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({ bench: 'handover', case: c, backend, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio: baseline ? round(value / baseline) : null }));
}

async function account(db: Db, coopId: string, tag: string): Promise<Principal> {
  const id = crypto.randomUUID();
  await db.execute(sql`insert into accounts (id, email, name, coop_id) values (${id}, ${`${tag}-${id}@example.org`}, 'Admin', ${coopId})`);
  await db.transaction((tx) => insertRootGrant(tx, LOCAL_OPERATOR, { accountId: id, role: 'coop_admin', scope: { type: 'coop', id: coopId }, reason: 'bench' }));
  return { accountId: id, coopId, platformAdmin: false, via: 'pat', tokenId: null };
}

/** `n` tenancies of the co-op on the cluster, set-based (seeding is not measured). */
async function tenancies(db: Db, coopId: string, clusterId: string, n: number, tag: string): Promise<void> {
  await db.execute(sql`insert into tenancies (id, slug, name, coop_id, cluster_id, residency, retention_days, bbb_secret_sealed)
    select gen_random_uuid(), ${tag} || '-' || g, 'School ' || g, ${coopId}, ${clusterId}, '{"kind":"none"}'::jsonb, 3650, 'unused' from generate_series(1, ${n}) g`);
}

async function child(backend: string) {
  const env = JSON.parse(process.env.BENCH_CHILD_ENV!) as Record<string, string>;
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent', TRANSFER_MIN_NOTICE_DAYS: '0' });
  const box = new SecretBox(Buffer.from(env.MASTER_KEY!, 'base64'));
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const db = database.db;
    const tag = randomBytes(3).toString('hex');
    const coop = (slug: string) => createCoop(db, LOCAL_OPERATOR, { slug: `${slug}-${tag}`, name: slug, jurisdiction: 'DE', contactEmail: 'ops@example.org', legalRegime: 'eu_gdpr' });
    const [from, to] = [await coop('from'), await coop('to')];
    const cluster = (coopId: string, name: string) =>
      createCluster(db, box, LOCAL_OPERATOR, { coopId, name, apiUrl: 'https://bbb.example.org/bigbluebutton/api', secret: 's'.repeat(40), checksumAlgorithm: 'sha256', country: 'DE', capacity: 100_000, state: 'enabled' });
    const [a1, a2, b1] = [await cluster(from.id, 'a1'), await cluster(from.id, 'a2'), await cluster(to.id, 'b1')];
    await db.execute(sql`insert into cluster_health (cluster_id, state, load, last_success_at, checked_at) values (${b1.id}, 'online', 0, now(), now())`);
    await tenancies(db, from.id, a1.id, N, `${tag}-h`);
    await tenancies(db, from.id, a2.id, N, `${tag}-b`);
    const [src, dst] = [await account(db, from.id, 'src'), await account(db, to.id, 'dst')];
    const authz = new Authz(db);
    const exec: ExecutionDeps = {
      db,
      box,
      log: createLogger('silent'),
      signer: await CheckpointSigner.load(db, box, 'bench.example.org/audit'),
      outbound: outboundFor(config),
      publicUrl: 'https://meetplane.example.org',
      ...transferDeps(db, { transferMinNoticeDays: 0 }),
    };
    const deps = { exec, authz, publicUrl: 'https://meetplane.example.org' };
    const seededRss = process.memoryUsage().rss;
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms);
    const agreement = { sha256: 'a'.repeat(64), signedOn: '2026-01-01' };

    // The plan: cluster a1's tenancies, three waves.
    let t0 = performance.now();
    const plan = await createPlan(
      db,
      src,
      {
        name: 'bench',
        sourceCoopId: from.id,
        targetCoopId: to.id,
        clusters: [{ clusterId: a1.id, mode: 'data-move', targetClusterId: b1.id }],
        noticeDays: 0,
        announceAt: at(0),
        waves: [1, 2, 3].map((w) => ({ freezeFrom: at(w * 3_600_000), freezeUntil: at(w * 3_600_000 + 1_800_000), concurrency: 8 })),
        cutoverAt: at(4 * 3_600_000),
        decommissionAt: at(10 * 3_600_000),
        agreement,
      },
      { now: new Date(), minNoticeDays: 0 },
    );
    const planMs = performance.now() - t0;
    const decide = async (p: Principal, action: string, ref: ReturnType<typeof transferRef>) => {
      const d = await authz.decide(p, action, ref);
      if (d.decision !== 'allow') throw new Error(`${action} refused`);
      return authorized(p, { decision: 'allow', policyIds: d.policyIds, policySetHash: d.policySetHash });
    };

    // Baseline: the same transfers one at a time through the transfers service, for cluster a2's tenancies.
    const ids = rowsOf<{ id: string }>(await db.execute(sql`select id from tenancies where cluster_id = ${a2.id}`)).map((r) => r.id);
    t0 = performance.now();
    for (const tenancyId of ids) {
      await recordProcessingAgreement(db, src, { tenancyId, coopId: to.id, documentSha256: agreement.sha256, signedOn: agreement.signedOn, validUntil: null });
      let t = await createTransfer(db, src, { tenancyId, targetCoopId: to.id, targetClusterId: b1.id, evidence: { claimedBasis: 'adequacy', dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null }, noticeDays: 0 });
      t = await checkTransfer(db, exec, src, t);
      if (t.state !== 'checked') throw new Error(`baseline transfer ${t.state}: ${t.lastDecision?.reasons.join('; ')}`);
      t = await approveTransfer(db, await decide(src, 'transfer.approveAsSource', transferRef(t)), t, 'source_admin');
      t = await approveTransfer(db, await decide(dst, 'transfer.approveAsTarget', transferRef(t)), t, 'target_admin');
    }
    const baselineMs = (performance.now() - t0) / ids.length;

    // The hand-over: both approvals; the second makes every tenancy's transfer.
    await approvePlan(deps, src, plan, 'source_admin');
    const approvedOnce = { ...plan, version: plan.version + 1 };
    t0 = performance.now();
    await approvePlan(deps, dst, approvedOnce, 'target_admin');
    const perTenancyMs = (performance.now() - t0) / N;
    const rows = await db.select({ state: handoverTenancies.state }).from(handoverTenancies);
    const opened = rows.filter((r) => r.state === 'transfer').length;
    if (opened !== N) throw new Error(`only ${opened} of ${N} transfers were made (${rows.filter((r) => r.state === 'failed').length} failed)`);

    line('plan', backend, planMs, 'ms', null);
    line('plan-per-tenancy', backend, planMs / N, 'ms', null);
    line('per-tenancy', backend, perTenancyMs, 'ms', baselineMs);
    line('peak-rss', backend, process.resourceUsage().maxRSS / 1024, 'MB', seededRss / 1024 / 1024);
  } finally {
    await database.close();
  }
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  await onBothBackends(async (label, env) => {
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [...process.execArgv, self, '--child', label, ...(QUICK ? ['--quick'] : [])], { env: { ...process.env, BENCH_CHILD_ENV: JSON.stringify(env) }, stdio: ['ignore', 'inherit', 'inherit'] });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${label}: the benchmark exited ${code}`))));
    });
  });
}

const at = process.argv.indexOf('--child');
(at >= 0 ? child(process.argv[at + 1]!) : main()).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
