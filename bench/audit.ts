// npm run bench:audit [-- --quick] — audit log figures, on PGlite and on PostgreSQL,
// each against a baseline measured in the same run:
//  - append-1, append-8: entries/s with 1 and 8 concurrent writers, each change its own
//    transaction, the sequencer running in the background as in `meetplane serve`; the clock
//    stops when every entry is sequenced (in the tree); baseline: the same number of one-row
//    changes without the log.
//  - proof-inclusion, proof-consistency: p50 ms at the loaded size (BENCH_AUDIT_SIZE, default
//    10^6, --quick 10^5); baseline: one primary-key read of an entry.
//  - verify-full: seconds for `meetplane audit verify --full` (the real CLI against
//    `meetplane serve`, reading tiles); baseline: `meetplane audit export` of the same entries
//    through the entries API (the transport verify used before tiles), which verifies nothing.
// Prints one JSON line per figure {"bench","case","backend","value","unit","baseline","ratio"}
// (ratio = value / baseline; for times lower is better). Asserts nothing.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openPglite, openPostgres, type Database } from '../server/db/index.js';
import { appendAudit } from '../server/audit/trail.js';
import { sequenceAudit, sequencerOf } from '../server/audit/sequencer.js';
import { canonicalBytes } from '../server/audit/canonical.js';
import { consistencyProof, inclusionProof, leafHash, MemoryNodeStore } from '../server/audit/merkle.js';
import { DbNodeReader, treeSize } from '../server/audit/store.js';
import { auditEntries, auditNodes } from '../server/audit/table.js';
import type { Principal } from '../server/auth/principal.js';
import { CLI, cli, onBothBackends, serve } from './support.js';

const QUICK = process.argv.includes('--quick');
const TARGET = Number(process.env.BENCH_AUDIT_SIZE ?? (QUICK ? 100_000 : 1_000_000));
const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? (QUICK ? 400 : 2000));
const PROOFS = QUICK ? 100 : 300;
const actor: Principal = { accountId: '01900000-0000-7000-8000-000000000001', coopId: null, platformAdmin: true, via: 'pat', tokenId: null };

function line(c: string, backend: string, value: number, unit: string, baseline: number) {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({ bench: 'audit', case: c, backend, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) }));
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function rate(writers: number, total: number, change: (w: number, i: number) => Promise<unknown>, settle = async () => {}): Promise<number> {
  const each = Math.ceil(total / writers);
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < each; i++) await change(w, i);
  }));
  await settle();
  return (each * writers) / ((performance.now() - started) / 1000);
}

async function appends(database: Database, backend: string): Promise<void> {
  const db = database.db;
  await db.execute(sql`create table if not exists bench_changes (id text primary key, writer int not null)`);
  const sequencer = sequencerOf(db);
  sequencer.start((err) => console.error('sequencing failed', err));
  for (const writers of [1, 8]) {
    const baseline = await rate(writers, APPENDS, (w, i) =>
      db.transaction((tx) => tx.execute(sql`insert into bench_changes (id, writer) values (${`${writers}-${w}-${i}`}, ${w})`)),
    );
    const value = await rate(writers, APPENDS, (w, i) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into bench_changes (id, writer) values (${`log-${writers}-${w}-${i}`}, ${w})`);
        await appendAudit(tx, { actor, action: 'bench.append', subject: { type: 'bench', id: `${w}-${i}` }, details: { writer: w } });
      }),
      () => sequenceAudit(db),
    );
    line(`append-${writers}`, backend, value, 'entries/s', baseline);
  }
  await sequencer.stop();
  await db.execute(sql`drop table bench_changes`);
}

/** Synthetic entries up to TARGET, computed with the same tree code (setup, not a figure). */
async function bulkLoad(database: Database): Promise<number> {
  const db = database.db;
  const start = await treeSize(db);
  const store = new MemoryNodeStore();
  for (const e of await db.select({ leaf: auditEntries.leafHash }).from(auditEntries).orderBy(auditEntries.idx)) store.append(e.leaf);
  const BATCH = 2000;
  for (let from = start; from < TARGET; from += BATCH) {
    const entries = [];
    const nodes = [];
    for (let i = from; i < Math.min(TARGET, from + BATCH); i++) {
      const entry = canonicalBytes({ v: 1, index: i, time: new Date().toISOString(), actor: { ref: null, coop: null, via: 'local' }, action: 'bench.bulk', subject: { type: 'bench', id: String(i) }, outcome: 'success' });
      const leaf = leafHash(entry);
      entries.push({ idx: i, createdAt: new Date(), actorRef: null, action: 'bench.bulk', subjectType: 'bench', subjectId: String(i), entry, leafHash: leaf });
      for (const n of store.append(leaf)) nodes.push({ level: n.level, idx: n.index, hash: n.hash });
    }
    await db.insert(auditEntries).values(entries);
    if (nodes.length) await db.insert(auditNodes).values(nodes);
  }
  return treeSize(db);
}

async function proofs(database: Database, backend: string, size: number): Promise<void> {
  const reader = new DbNodeReader(database.db);
  const inc: number[] = [];
  const con: number[] = [];
  const read: number[] = [];
  for (let i = 0; i < PROOFS; i++) {
    const index = Math.floor(Math.random() * size);
    let t = performance.now();
    await database.db.select({ leaf: auditEntries.leafHash }).from(auditEntries).where(sql`${auditEntries.idx} = ${index}`);
    read.push(performance.now() - t);
    t = performance.now();
    await inclusionProof(reader, index, size);
    inc.push(performance.now() - t);
    const from = 1 + Math.floor(Math.random() * (size - 1));
    t = performance.now();
    await consistencyProof(reader, from, size);
    con.push(performance.now() - t);
  }
  line('proof-inclusion', backend, p50(inc), 'ms', p50(read));
  line('proof-consistency', backend, p50(con), 'ms', p50(read));
}

function timed(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - t) / 1000) : reject(new Error(`meetplane ${args.join(' ')}: ${err}`))));
  });
}

console.error(`bench:audit  Node ${process.version}, ${os.cpus().length} CPUs, size ${TARGET}${QUICK ? ' (--quick)' : ''}`);
await onBothBackends(async (backend, env) => {
  const token = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], env)).match(/mp_pat_\S+/)![0];
  // The embedded database allows one process: load it here, then close it before `serve` opens it.
  const database = env.DATABASE_URL ? await openPostgres(env.DATABASE_URL, 10) : await openPglite(path.join(env.DATA_DIR!, 'pglite'));
  let size: number;
  try {
    await appends(database, backend);
    size = await bulkLoad(database);
    await proofs(database, backend, size);
  } finally {
    await database.close();
  }
  const server = await serve(env);
  try {
    const cliEnv = { MEETPLANE_URL: server.url, MEETPLANE_TOKEN: token, MEETPLANE_CONFIG: path.join(env.DATA_DIR!, 'cli.json'), MEETPLANE_AUDIT_STATE: path.join(env.DATA_DIR!, 'state.json') };
    await cli(['audit', 'trust'], cliEnv);
    const exported = await timed(['audit', 'export', '--out', path.join(env.DATA_DIR!, 'export.jsonl')], cliEnv);
    const verified = await timed(['audit', 'verify', '--full'], cliEnv);
    line('verify-full', backend, verified, 's', exported);
  } finally {
    await server.stop();
  }
});
