// The metadata half of a transfer: how long the switch takes for a tenancy
// with BENCH_ROOMS rooms (default 10,000), BENCH_RECORDINGS recordings in its
// inventory (default 100,000) and BENCH_MEMBERS members (default 500, 1% of
// them objecting and getting their Art. 20 export). Timed is the transaction
// the switching step commits (server/transfers/switch.ts plus the audited
// transition), as the runner does it, on the embedded database and on
// PostgreSQL. The tenancy is moved back between runs (not timed); the median
// of BENCH_RUNS (default 3) is the figure; its baseline is the same switch of a
// tenancy with 1% of the recordings, measured in the same run (ratio near 1: the
// switch does not grow with the number of recordings). --quick: 2,000 rooms and
// 20,000 recordings. Prints one JSON line per figure
// {"bench","case","backend","value","unit","baseline","ratio"}; asserts nothing.
import { randomBytes } from 'node:crypto';
import { sql, eq, like } from 'drizzle-orm';
import { accounts } from '../server/accounts/table.js';
import { loadConfig } from '../server/config.js';
import { openDatabase, type Db } from '../server/db/index.js';
import { SecretBox } from '../server/crypto/secretbox.js';
import { LOCAL_OPERATOR } from '../server/auth/principal.js';
import { createCoop } from '../server/coops/service.js';
import { createCluster } from '../server/clusters/service.js';
import { createTenancy } from '../server/tenancies/service.js';
import { tenancies } from '../server/tenancies/table.js';
import { transfers } from '../server/transfers/table.js';
import { findTransfer, transition } from '../server/transfers/service.js';
import { switchTenancy } from '../server/transfers/switch.js';
import { uuidv7 } from '../server/ids.js';
import { fmt, onBothBackends } from './support.js';

const QUICK = process.argv.includes('--quick');
const ROOMS = Number(process.env.BENCH_ROOMS ?? (QUICK ? 2_000 : 10_000));
const RECORDINGS = Number(process.env.BENCH_RECORDINGS ?? (QUICK ? 20_000 : 100_000));
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function seed(db: Db, box: SecretBox, recordingCount: number) {
  const tag = randomBytes(3).toString('hex');
  const coop = (slug: string, jurisdiction: string) =>
    createCoop(db, LOCAL_OPERATOR, { slug: `${slug}-${tag}`, name: slug, jurisdiction, contactEmail: 'ops@example.org', legalRegime: 'eu_gdpr' });
  const [from, to] = [await coop('from', 'DE'), await coop('to', 'FR')];
  const cluster = (coopId: string, country: string) =>
    createCluster(db, box, LOCAL_OPERATOR, { coopId, name: 'bbb', apiUrl: 'https://bbb.example.org/bigbluebutton/api', secret: 's'.repeat(40), checksumAlgorithm: 'sha256', country, capacity: 1000, state: 'enabled' });
  const [fromCluster, toCluster] = [await cluster(from.id, 'DE'), await cluster(to.id, 'FR')];
  const { tenancy } = await createTenancy(db, box, LOCAL_OPERATOR, { slug: `big-${tag}`, name: 'Big School', coopId: from.id, clusterId: fromCluster.id, residency: { kind: 'none' }, retentionDays: 3650 });
  // Set-based inserts: seeding is not what is measured. Recordings at the tenancy's cluster have cluster_id null.
  await db.execute(sql`insert into rooms (id, tenancy_id, meeting_id, name, cluster_id)
    select gen_random_uuid(), ${tenancy.id}, ${tag} || '-room-' || g, 'Room ' || g, ${fromCluster.id} from generate_series(1, ${ROOMS}) g`);
  await db.execute(sql`insert into recordings (id, tenancy_id, cluster_id, record_id, meeting_id, name, state, published, start_time, end_time, size, formats, metadata)
    select gen_random_uuid(), ${tenancy.id}, null, md5(g::text) || '-' || g, ${tag} || '-room-' || (g % ${ROOMS} + 1), 'Lesson ' || g, 'published', true,
           now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval + interval '45 minutes', 1000000,
           jsonb_build_array(jsonb_build_object('type', 'presentation', 'url', 'https://bbb.example.org/playback/presentation/2.3/' || g, 'length', 45, 'processingTime', 1000)),
           jsonb_build_object('meetplane-tenancy', ${tenancy.id}::text)
    from generate_series(1, ${recordingCount}) g`);
  await db.execute(sql`insert into accounts (id, email, name, coop_id)
    select gen_random_uuid(), ${tag} || '-m' || g || '@example.org', 'Member ' || g, ${from.id} from generate_series(1, ${MEMBERS}) g`);
  await db.execute(sql`insert into memberships (tenancy_id, account_id, role)
    select ${tenancy.id}, id, 'member' from accounts where email like ${tag + '-m%'}`);
  // The transfer's requester must be an account: the first seeded member.
  const [requester] = await db.select({ id: accounts.id }).from(accounts).where(like(accounts.email, `${tag}-m%`)).limit(1);
  const id = uuidv7();
  await db.insert(transfers).values({
    id,
    tenancyId: tenancy.id,
    sourceCoopId: from.id,
    sourceClusterId: fromCluster.id,
    targetCoopId: to.id,
    targetClusterId: toCluster.id,
    state: 'switching',
    requestedBy: requester!.id,
    evidence: { dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null, claimedBasis: 'domestic' },
    noticeDays: 30,
  });
  await db.execute(sql`insert into transfer_objections (transfer_id, account_id, kind)
    select ${id}, id, 'member' from accounts where email like ${tag + '-m%'} order by email limit ${Math.max(1, Math.floor(MEMBERS / 100))}`);
  return { id, tenancyId: tenancy.id, from, fromCluster };
}

async function switchOnce(db: Db, box: SecretBox, seeded: Awaited<ReturnType<typeof seed>>): Promise<number> {
  const t = (await findTransfer(db, seeded.id))!;
  const started = performance.now();
  await db.transaction(async (tx) => {
    const outcome = await switchTenancy(tx, { box, actor: LOCAL_OPERATOR, publicUrl: 'https://meetplane.example.org', now: new Date() }, t);
    await transition(tx, LOCAL_OPERATOR, t, 'verifying', 'transfer.switch', { details: { ...outcome } });
  });
  const ms = performance.now() - started;
  // Back where it was, untimed: the same tenancy moves again next run.
  await db.execute(sql`update transfers set state = 'switching' where id = ${seeded.id}`);
  await db.update(tenancies).set({ coopId: seeded.from.id, clusterId: seeded.fromCluster.id }).where(eq(tenancies.id, seeded.tenancyId));
  await db.execute(sql`update accounts set coop_id = ${seeded.from.id} where id in (select account_id from memberships where tenancy_id = ${seeded.tenancyId})`);
  await db.execute(sql`insert into memberships (tenancy_id, account_id, role) select ${seeded.tenancyId}, account_id, 'member' from transfer_objections where transfer_id = ${seeded.id} on conflict do nothing`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  console.error(`bench:transfer (metadata) — the switch of a tenancy with ${fmt(ROOMS)} rooms, ${fmt(RECORDINGS)} recordings, ${fmt(MEMBERS)} members (1% objecting); median of ${RUNS}`);
  await onBothBackends(async (label, env) => {
    const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
    const box = new SecretBox(Buffer.from(env.MASTER_KEY!, 'base64'));
    const database = await openDatabase(config);
    try {
      await database.migrate();
      const db = database.db;
      const big = await seed(db, box, RECORDINGS);
      const small = await seed(db, box, Math.max(1, Math.floor(RECORDINGS / 100)));
      const value: number[] = [];
      const baseline: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        value.push(await switchOnce(db, box, big));
        baseline.push(await switchOnce(db, box, small));
      }
      const round = (x: number) => Math.round(x * 1000) / 1000;
      console.log(JSON.stringify({ bench: 'transfer', case: `switch-${RECORDINGS}-recordings`, backend: label, value: round(median(value)), unit: 'ms', baseline: round(median(baseline)), ratio: round(median(value) / median(baseline)) }));
    } finally {
      await database.close();
    }
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
