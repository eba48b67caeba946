// Reading the log from the database: tree nodes for proofs (O(log n) rows per
// proof, fetched in one round trip per level kind), entries by range and filter.
import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { rowsOf, type Executor } from '../db/index.js';
import type { NodeId, NodeReader } from './merkle.js';
import { auditCheckpoints, auditEntries, auditNodes } from './table.js';

export class DbNodeReader implements NodeReader {
  constructor(private readonly db: Executor) {}

  async get(nodes: NodeId[]): Promise<Uint8Array[]> {
    const leaves = nodes.filter((n) => n.level === 0).map((n) => n.index);
    const inner = nodes.filter((n) => n.level > 0);
    const found = new Map<string, Uint8Array>();
    if (leaves.length > 0) {
      const rows = await this.db
        .select({ idx: auditEntries.idx, hash: auditEntries.leafHash })
        .from(auditEntries)
        .where(inArray(auditEntries.idx, leaves));
      for (const r of rows) found.set(`0:${r.idx}`, r.hash);
    }
    if (inner.length > 0) {
      const pairs = sql.join(
        inner.map((n) => sql`(${n.level}::smallint, ${n.index}::bigint)`),
        sql`, `,
      );
      const rows = rowsOf<{ level: number; idx: string | number; hash: Uint8Array }>(
        await this.db.execute(sql`select level, idx, hash from audit_nodes where (level, idx) in (${pairs})`),
      );
      for (const r of rows) found.set(`${r.level}:${Number(r.idx)}`, new Uint8Array(r.hash));
    }
    return nodes.map((n) => {
      const hash = found.get(`${n.level}:${n.index}`);
      if (!hash) throw new Error(`audit tree node (${n.level}, ${n.index}) is missing`);
      return hash;
    });
  }
}

export async function treeSize(db: Executor): Promise<number> {
  const [row] = rowsOf<{ n: string | number | null }>(await db.execute(sql`select max(idx) + 1 as n from audit_entries`));
  return Number(row?.n ?? 0);
}

export async function insertNodes(db: Executor, nodes: Array<{ level: number; index: number; hash: Uint8Array }>): Promise<void> {
  if (nodes.length > 0) await db.insert(auditNodes).values(nodes.map((n) => ({ level: n.level, idx: n.index, hash: n.hash })));
}

export interface EntryFilter {
  from?: number;
  to?: number; // exclusive
  subjectType?: string;
  subjectIds?: string[];
  actorRef?: string;
  action?: string;
  since?: Date;
  until?: Date;
  limit: number;
}

export async function findEntries(db: Executor, f: EntryFilter) {
  const conds = [];
  if (f.from !== undefined) conds.push(gte(auditEntries.idx, f.from));
  if (f.to !== undefined) conds.push(sql`${auditEntries.idx} < ${f.to}`);
  if (f.subjectType) conds.push(eq(auditEntries.subjectType, f.subjectType));
  if (f.subjectIds) conds.push(inArray(auditEntries.subjectId, f.subjectIds));
  if (f.actorRef) conds.push(eq(auditEntries.actorRef, f.actorRef));
  if (f.action) conds.push(eq(auditEntries.action, f.action));
  if (f.since) conds.push(gte(auditEntries.createdAt, f.since));
  if (f.until) conds.push(lte(auditEntries.createdAt, f.until));
  return db
    .select({ idx: auditEntries.idx, entry: auditEntries.entry, leafHash: auditEntries.leafHash })
    .from(auditEntries)
    .where(and(...conds))
    .orderBy(asc(auditEntries.idx))
    .limit(f.limit);
}

export async function findEntry(db: Executor, index: number) {
  const [row] = await db
    .select({ idx: auditEntries.idx, entry: auditEntries.entry, leafHash: auditEntries.leafHash })
    .from(auditEntries)
    .where(eq(auditEntries.idx, index));
  return row;
}

export async function indexOfLeaf(db: Executor, leafHash: Uint8Array, below: number): Promise<number | undefined> {
  const [row] = await db
    .select({ idx: auditEntries.idx })
    .from(auditEntries)
    .where(and(eq(auditEntries.leafHash, leafHash), sql`${auditEntries.idx} < ${below}`))
    .orderBy(asc(auditEntries.idx))
    .limit(1);
  return row?.idx;
}

export async function latestCheckpoint(db: Executor) {
  const [row] = await db.select().from(auditCheckpoints).orderBy(sql`${auditCheckpoints.size} desc`).limit(1);
  return row;
}

export async function listCheckpoints(db: Executor, opts: { after?: number; limit: number }) {
  return db
    .select()
    .from(auditCheckpoints)
    .where(opts.after !== undefined ? sql`${auditCheckpoints.size} > ${opts.after}` : undefined)
    .orderBy(asc(auditCheckpoints.size))
    .limit(opts.limit);
}

/** Leaf hashes [from, to) in index order (a level-0 tile). */
export async function leafHashRange(db: Executor, from: number, to: number): Promise<Uint8Array[]> {
  const rows = await db
    .select({ hash: auditEntries.leafHash })
    .from(auditEntries)
    .where(and(gte(auditEntries.idx, from), sql`${auditEntries.idx} < ${to}`))
    .orderBy(asc(auditEntries.idx));
  return rows.map((r) => r.hash);
}

/** Stored complete-subtree hashes at `level`, indices [from, to), in order (a higher tile). */
export async function nodeRange(db: Executor, level: number, from: number, to: number): Promise<Uint8Array[]> {
  const rows = await db
    .select({ hash: auditNodes.hash })
    .from(auditNodes)
    .where(and(eq(auditNodes.level, level), gte(auditNodes.idx, from), sql`${auditNodes.idx} < ${to}`))
    .orderBy(asc(auditNodes.idx));
  return rows.map((r) => r.hash);
}

/** Entry bytes [from, to) in index order (an entry bundle). */
export async function entryRange(db: Executor, from: number, to: number): Promise<Uint8Array[]> {
  const rows = await db
    .select({ entry: auditEntries.entry })
    .from(auditEntries)
    .where(and(gte(auditEntries.idx, from), sql`${auditEntries.idx} < ${to}`))
    .orderBy(asc(auditEntries.idx));
  return rows.map((r) => r.entry);
}
