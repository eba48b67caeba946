/**
 * RFC 9162 §2.1 Merkle tree over SHA-256, split into pure planning/combining steps so the
 * server (database) and the offline auditor (memory) share the same code.
 *
 * Storage model: the hash of every COMPLETE subtree is stored once and never changes.
 * Node (level L, index i) covers leaves [i * 2^L, (i + 1) * 2^L); level 0 holds the leaf hashes.
 * Any hash the RFC needs for a tree of size n is either such a node or a "right edge" range
 * [a, n) whose hash is the right fold of O(log n) nodes, so no tree size needs its own storage.
 *
 * Sizes and indexes are JS numbers limited to Number.MAX_SAFE_INTEGER; arithmetic uses
 * division rather than bit operators because those truncate to 32 bits.
 */
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

export interface NodeId {
  level: number;
  index: number;
}

export interface NodeRecord extends NodeId {
  hash: Uint8Array;
}

/** Batched node lookup: one call returns the hashes in request order. Level 0 = leaf hashes. */
export interface NodeReader {
  get(nodes: NodeId[]): Promise<Uint8Array[]>;
}

/** Nodes to fetch, and how many consecutive fetched hashes fold into each output hash. */
export interface HashPlan {
  nodes: NodeId[];
  parts: number[];
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Uint8Array = sha256();

export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

// ---------------------------------------------------------------------------------------------
// Integer helpers valid up to 2^53.

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The RFC's split point k: the largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && splitPoint(n + 1) === n;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function assertSize(name: string, n: number): void {
  if (!isSize(n)) throw new RangeError(`${name} must be a safe non-negative integer, got ${n}`);
}

// ---------------------------------------------------------------------------------------------
// Planning: which stored nodes each RFC hash needs.

type Range = readonly [start: number, end: number];

/**
 * Complete nodes covering [start, end), largest first. Valid for every range the RFC recursion
 * visits: its start is a multiple of the largest power of two not above its length.
 */
function rangeNodes([start, end]: Range): NodeId[] {
  const nodes: NodeId[] = [];
  while (start < end) {
    let level = 0;
    while (2 ** (level + 1) <= end - start) level++;
    nodes.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return nodes;
}

function planRanges(ranges: Range[]): HashPlan {
  const groups = ranges.map(rangeNodes);
  return { nodes: groups.flat(), parts: groups.map((g) => g.length) };
}

export function planRoot(treeSize: number): HashPlan {
  assertSize('treeSize', treeSize);
  return planRanges([[0, treeSize]]);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), audit path ordered leaf to root. */
export function planInclusion(index: number, treeSize: number): HashPlan {
  assertSize('index', index);
  assertSize('treeSize', treeSize);
  if (index >= treeSize) throw new RangeError(`index ${index} is not below treeSize ${treeSize}`);
  const siblings: Range[] = [];
  let [lo, hi] = [0, treeSize];
  while (hi - lo > 1) {
    const mid = lo + splitPoint(hi - lo);
    if (index < mid) {
      siblings.push([mid, hi]);
      hi = mid;
    } else {
      siblings.push([lo, mid]);
      lo = mid;
    }
  }
  return planRanges(siblings.reverse());
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]); defined for 0 < from <= to (empty when from == to). */
export function planConsistency(from: number, to: number): HashPlan {
  assertSize('from', from);
  assertSize('to', to);
  if (from < 1 || from > to) throw new RangeError(`need 0 < from <= to, got from=${from} to=${to}`);
  const siblings: Range[] = [];
  let [lo, hi] = [0, to];
  let oldRootKnown = true; // SUBPROOF's flag b: the verifier already knows MTH(D[lo:hi])
  while (from < hi) {
    const mid = lo + splitPoint(hi - lo);
    if (from <= mid) {
      siblings.push([mid, hi]);
      hi = mid;
    } else {
      siblings.push([lo, mid]);
      lo = mid;
      oldRootKnown = false;
    }
  }
  const first: Range[] = oldRootKnown ? [] : [[lo, hi]];
  return planRanges([...first, ...siblings.reverse()]);
}

// ---------------------------------------------------------------------------------------------
// Combining fetched hashes.

/** MTH of a range from its complete nodes: right fold, as in the RFC's recursion. */
function foldRight(hashes: Uint8Array[]): Uint8Array {
  const last = hashes.at(-1);
  if (last === undefined) return EMPTY_ROOT;
  return hashes.slice(0, -1).reduceRight((acc, h) => nodeHash(h, acc), last);
}

function assertHashes(hashes: Uint8Array[], count: number): void {
  if (hashes.length !== count) throw new Error(`expected ${count} node hashes, got ${hashes.length}`);
  if (!hashes.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) {
    throw new Error(`node hashes must be ${HASH_SIZE}-byte Uint8Arrays`);
  }
}

/** Turns the hashes fetched for plan.nodes into one hash per plan part. */
export function combine(plan: HashPlan, hashes: Uint8Array[]): Uint8Array[] {
  assertHashes(hashes, plan.nodes.length);
  let offset = 0;
  return plan.parts.map((count) => foldRight(hashes.slice(offset, (offset += count))));
}

async function fetchPlan(reader: NodeReader, plan: HashPlan): Promise<Uint8Array[]> {
  const hashes = plan.nodes.length === 0 ? [] : await reader.get(plan.nodes);
  return combine(plan, hashes);
}

export async function rootHash(reader: NodeReader, treeSize: number): Promise<Uint8Array> {
  const [root] = await fetchPlan(reader, planRoot(treeSize));
  return root ?? EMPTY_ROOT;
}

export function inclusionProof(reader: NodeReader, index: number, treeSize: number): Promise<Uint8Array[]> {
  return fetchPlan(reader, planInclusion(index, treeSize));
}

export function consistencyProof(reader: NodeReader, from: number, to: number): Promise<Uint8Array[]> {
  return fetchPlan(reader, planConsistency(from, to));
}

// ---------------------------------------------------------------------------------------------
// Appending: leaf n completes the nodes (L, (n+1)/2^L - 1) for every L >= 1 with 2^L | n+1.

/** Left children of the nodes that leaf `leafIndex` completes, lowest level first. */
export function planAppend(leafIndex: number): NodeId[] {
  assertSize('leafIndex', leafIndex);
  const lefts: NodeId[] = [];
  for (let width = 2; (leafIndex + 1) % width === 0; width *= 2) {
    const childWidth = width / 2;
    lefts.push({ level: Math.log2(childWidth), index: (leafIndex + 1) / childWidth - 2 });
  }
  return lefts;
}

/** The newly complete nodes (levels >= 1) given the hashes fetched for planAppend. */
export function combineAppend(leafIndex: number, leaf: Uint8Array, lefts: Uint8Array[]): NodeRecord[] {
  assertHashes([leaf, ...lefts], planAppend(leafIndex).length + 1);
  let hash = leaf;
  return lefts.map((left, i) => {
    const level = i + 1;
    hash = nodeHash(left, hash);
    return { level, index: (leafIndex + 1) / 2 ** level - 1, hash };
  });
}

/**
 * Nodes to persist with leaf `leafIndex` (in the same transaction). The reader must already
 * see every earlier leaf and node, including those written earlier in that transaction.
 */
export async function completedNodes(reader: NodeReader, leafIndex: number, leaf: Uint8Array): Promise<NodeRecord[]> {
  const plan = planAppend(leafIndex);
  const lefts = plan.length === 0 ? [] : await reader.get(plan);
  return combineAppend(leafIndex, leaf, lefts);
}

// ---------------------------------------------------------------------------------------------

/** All complete nodes in memory: for tests and for recomputing a root from every entry. */
export class MemoryNodeStore implements NodeReader {
  private readonly levels: Uint8Array[][] = [];

  get size(): number {
    return this.levels[0]?.length ?? 0;
  }

  append(leaf: Uint8Array): NodeRecord[] {
    const index = this.size;
    const records = combineAppend(index, leaf, this.read(planAppend(index)));
    for (const { level, hash } of [{ level: 0, hash: leaf }, ...records]) {
      (this.levels[level] ??= []).push(hash);
    }
    return records;
  }

  read(nodes: NodeId[]): Uint8Array[] {
    return nodes.map(({ level, index }) => {
      const hash = this.levels[level]?.[index];
      if (hash === undefined) throw new RangeError(`node (${level}, ${index}) is not stored`);
      return hash;
    });
  }

  async get(nodes: NodeId[]): Promise<Uint8Array[]> {
    return this.read(nodes);
  }

  root(treeSize: number = this.size): Uint8Array {
    const plan = planRoot(treeSize);
    return combine(plan, this.read(plan.nodes))[0] ?? EMPTY_ROOT;
  }
}

export function rootFromLeafHashes(hashes: Uint8Array[]): Uint8Array {
  const store = new MemoryNodeStore();
  for (const h of hashes) store.append(h);
  return store.root();
}

// ---------------------------------------------------------------------------------------------
// Verifiers: RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. They never throw.

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isHashList(list: unknown): list is Uint8Array[] {
  return Array.isArray(list) && list.every(isHash);
}

export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !isHashList(proof)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && equalBytes(r, root);
}

export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) return false;
  if (!isHash(root1) || !isHash(root2) || !isHashList(proof)) return false;
  // A proof from the empty tree proves nothing; RFC 9162 defines proofs for 0 < size1.
  if (size1 === 0) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0]!;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}
