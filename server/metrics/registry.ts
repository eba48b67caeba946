// /metrics through prom-client (the Prometheus client most Node services use:
// its default process metrics are the ones dashboards and alerts expect). Three
// parts, merged at each scrape:
// - the process (once per process): event-loop lag, GC, heap, CPU, memory, handles;
// - counters the code increments (per app): HTTP requests, BBB gateway calls;
// - gauges read from the database at scrape time (per app): transfers by state,
//   cluster health, audit log size and checkpoint age, job queue, mail outbox.
// Labels are bounded: tenancy slugs only for calls the gateway recognised,
// cluster slugs, fixed state names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'drizzle-orm';
import { rowsOf, type Executor } from '../db/index.js';

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export type GatewayOutcome = 'success' | 'failed' | 'refused' | 'forwarded';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'meetplane_http_requests_total', help: 'HTTP requests answered, by method and status.', labelNames: ['method', 'code'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'meetplane_http_request_duration_seconds',
    help: 'Time spent answering HTTP requests.',
    labelNames: ['method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly gatewayCalls = new Counter({
    name: 'meetplane_gateway_calls_total',
    help: 'BBB API calls through the gateway, by tenancy (slug; "-" when the call was refused as unknown or unsigned), call and outcome (success, failed: a FAILED answer, refused: checksumError, forwarded: answered by the gateway of the instance a moved tenancy went to).',
    labelNames: ['tenancy', 'call', 'outcome'] as const,
    registers: [this.registry],
  });

  record(method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, code: String(status) });
    this.httpDuration.observe({ method }, seconds);
  }

  /** The gauges read from `db` at each scrape. */
  watch(db: Executor): this {
    const q = async <T>(query: ReturnType<typeof sql>) => rowsOf<T>(await db.execute(query));
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => Promise<void>) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          await collect(this);
        },
      });
    gauge('meetplane_transfers', 'Transfers by state.', ['state'], async (g) => {
      for (const r of await q<{ state: string; n: number }>(sql`select state, count(*)::int as n from transfers group by state`)) g.set({ state: r.state }, Number(r.n));
    });
    gauge('meetplane_cluster_up', 'Cluster health from the last poll: 1 online, 0 offline or not polled yet.', ['cluster', 'state'], async (g) => {
      for (const r of await q<{ slug: string; state: string | null }>(sql`select c.slug, h.state from clusters c left join cluster_health h on h.cluster_id = c.id`))
        g.set({ cluster: r.slug, state: r.state ?? 'unknown' }, r.state === 'online' ? 1 : 0);
    });
    gauge('meetplane_cluster_load', 'Participants on the cluster at the last poll.', ['cluster'], async (g) => {
      for (const r of await q<{ slug: string; load: number }>(sql`select c.slug, h.load from clusters c join cluster_health h on h.cluster_id = c.id`)) g.set({ cluster: r.slug }, Number(r.load));
    });
    gauge('meetplane_audit_entries', 'Entries in the audit log.', [], async (g) => {
      const [r] = await q<{ n: number | null }>(sql`select max(idx) + 1 as n from audit_entries`);
      g.set(Number(r?.n ?? 0));
    });
    gauge('meetplane_audit_checkpoint_age_seconds', 'Seconds since the newest signed checkpoint (none yet: not exported).', [], async (g) => {
      const [r] = await q<{ age: number | null }>(sql`select extract(epoch from now() - max(created_at))::float8 as age from audit_checkpoints`);
      if (r?.age !== null && r?.age !== undefined) g.set(Number(r.age));
    });
    gauge('meetplane_audit_unsigned_entries', 'Entries not yet covered by a signed checkpoint.', [], async (g) => {
      const [r] = await q<{ n: number | null }>(sql`select (select coalesce(max(idx) + 1, 0) from audit_entries) - (select coalesce(max(size), 0) from audit_checkpoints) as n`);
      g.set(Math.max(0, Number(r?.n ?? 0)));
    });
    gauge('meetplane_witness_incidents', 'Checkpoints this witness refused as inconsistent (fork, rollback, bad-proof), by log origin.', ['origin', 'kind'], async (g) => {
      for (const r of await q<{ origin: string; kind: string; n: number }>(sql`select origin, kind, count(*)::int as n from witness_incidents group by origin, kind`))
        g.set({ origin: r.origin, kind: r.kind }, Number(r.n));
    });
    gauge('meetplane_jobs', 'Background jobs by kind and state (queued: due or waiting; running: leased).', ['kind', 'state'], async (g) => {
      for (const r of await q<{ kind: string; state: string; n: number }>(sql`select kind, state, count(*)::int as n from jobs where state in ('queued', 'running', 'failed') group by kind, state`))
        g.set({ kind: r.kind, state: r.state }, Number(r.n));
    });
    gauge('meetplane_jobs_due', 'Queued jobs whose time has come: the queue depth the workers have to catch up on.', [], async (g) => {
      const [r] = await q<{ n: number }>(sql`select count(*)::int as n from jobs where state = 'queued' and run_at <= now()`);
      g.set(Number(r?.n ?? 0));
    });
    gauge('meetplane_jobs_lease_expired', 'Running jobs whose lease expired (their process died or hangs): the next claim takes them over.', [], async (g) => {
      const [r] = await q<{ n: number }>(sql`select count(*)::int as n from jobs where state = 'running' and lease_expires_at < now()`);
      g.set(Number(r?.n ?? 0));
    });
    gauge('meetplane_mail_outbox', 'Mail not yet delivered (pending: to be tried; failed: given up).', ['state'], async (g) => {
      const [r] = await q<{ pending: number; failed: number }>(
        sql`select count(*) filter (where sent_at is null and failed_at is null)::int as pending, count(*) filter (where failed_at is not null and sent_at is null)::int as failed from mail_outbox`,
      );
      g.set({ state: 'pending' }, Number(r?.pending ?? 0));
      g.set({ state: 'failed' }, Number(r?.failed ?? 0));
    });
    gauge('meetplane_mail_outbox_oldest_seconds', 'Age of the oldest mail still to be delivered (0: none).', [], async (g) => {
      const [r] = await q<{ age: number | null }>(sql`select extract(epoch from now() - min(created_at))::float8 as age from mail_outbox where sent_at is null and failed_at is null`);
      g.set(Number(r?.age ?? 0));
    });
    return this;
  }

  /** The Prometheus text exposition of the process and this app. */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
