// npm run bench:audit — audit log figures on PostgreSQL:
//  1. appends/s with 1 and with 8 concurrent writers (each append its own transaction);
//  2. inclusion and consistency proof latency at BENCH_AUDIT_SIZE entries (default 10^6),
//     after bulk-loading synthetic entries computed with the same tree code;
//  3. wall time of `meetplane audit verify --full` (the real CLI against `meetplane serve`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../server/db/index.js';
import { appendAudit } from '../server/audit/trail.js';
import { canonicalBytes } from '../server/audit/canonical.js';
import { consistencyProof, inclusionProof, leafHash, MemoryNodeStore } from '../server/audit/merkle.js';
import { DbNodeReader, treeSize } from '../server/audit/store.js';
import { auditEntries, auditNodes } from '../server/audit/table.js';
import type { Principal } from '../server/auth/principal.js';
import { CLI, cli, fmt, scratchPostgres, serve } from './support.js';

const TARGET = Number(process.env.BENCH_AUDIT_SIZE ?? 1_000_000);
const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 2000);
const actor: Principal = { accountId: '01900000-0000-7000-8000-000000000001', coopId: null, platformAdmin: true, via: 'pat', tokenId: null };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const pg = await scratchPostgres();
if (!pg) {
  console.log('bench:audit needs PostgreSQL (BENCH_DATABASE_URL / DATABASE_URL / 127.0.0.1:5432)');
  process.exit(1);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-bench-audit-'));
const env = { DATABASE_URL: pg.url, MASTER_KEY: randomBytes(32).toString('base64'), DATA_DIR: dir };
try {
  const token = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], env)).trim().split('\n').pop()!;
  const database = await openPostgres(pg.url, 10);
  const db = database.db;
  console.log(`bench:audit  PostgreSQL, Node ${process.version}, ${os.cpus().length} CPUs, target size ${fmt(TARGET)}`);

  for (const writers of [1, 8]) {
    const each = Math.ceil(APPENDS / writers);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < each; i++)
          await db.transaction((tx) => appendAudit(tx, { actor, action: 'bench.append', subject: { type: 'bench', id: `${w}-${i}` }, details: { writer: w } }));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`append    ${writers} writer${writers > 1 ? 's' : ' '}: ${fmt((each * writers) / seconds)} entries/s (${fmt(each * writers)} appends, each its own transaction)`);
  }

  // Bulk-load synthetic entries up to TARGET with the same tree code, then measure proofs.
  const start = await treeSize(db);
  const store = new MemoryNodeStore();
  const existing = await db.select({ leaf: auditEntries.leafHash }).from(auditEntries).orderBy(auditEntries.idx);
  for (const e of existing) store.append(e.leaf);
  const loadStarted = performance.now();
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
  const size = await treeSize(db);
  console.log(`bulk load ${fmt(size - start)} entries in ${fmt((performance.now() - loadStarted) / 1000, 1)} s (setup, not a figure of merit)`);

  const reader = new DbNodeReader(db);
  const inc: number[] = [];
  const con: number[] = [];
  for (let i = 0; i < 300; i++) {
    const index = Math.floor(Math.random() * size);
    let t = performance.now();
    await inclusionProof(reader, index, size);
    inc.push(performance.now() - t);
    const from = 1 + Math.floor(Math.random() * (size - 1));
    t = performance.now();
    await consistencyProof(reader, from, size);
    con.push(performance.now() - t);
  }
  console.log(`proofs at ${fmt(size)} entries: inclusion p50 ${fmt(pct(inc, 50), 2)} ms p99 ${fmt(pct(inc, 99), 2)} ms; consistency p50 ${fmt(pct(con, 50), 2)} ms p99 ${fmt(pct(con, 99), 2)} ms (300 random each, database reads included)`);
  await database.close();

  const server = await serve(env);
  try {
    const cliEnv = { MEETPLANE_URL: server.url, MEETPLANE_TOKEN: token, MEETPLANE_CONFIG: path.join(dir, 'cli.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 'state.json') };
    await cli(['audit', 'trust'], cliEnv);
    const t = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'audit', 'verify', '--full'], { env: { ...process.env, ...cliEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      child.stdout.on('data', (d) => (o += d));
      child.stderr.on('data', (d) => (e += d));
      child.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(e))));
    });
    console.log(`audit verify --full at ${fmt(size)} entries: ${fmt((performance.now() - t) / 1000, 1)} s over REST (${out.trim()})`);
  } finally {
    await server.stop();
  }
} finally {
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
}
