// The Merkle tree's refusals as the log's code meets them (server/audit/merkle.ts):
// impossible sizes name the argument, a store that hands back the wrong nodes
// is caught before a wrong root is computed from them.
import { describe, expect, it } from 'vitest';
import { combine, completedNodes, consistencyProof, inclusionProof, leafHash, MemoryNodeStore, nodeHash, planConsistency, planInclusion, planRoot, rootHash, verifyConsistency, verifyInclusion, type NodeReader } from '../../server/audit/merkle.js';

const store = new MemoryNodeStore();
for (let i = 0; i < 9; i++) store.append(leafHash(new TextEncoder().encode(`entry ${i}`)));

describe('impossible sizes', () => {
  it('name the argument and the value', () => {
    expect(() => planRoot(-1)).toThrow('treeSize must be a safe non-negative integer, got -1');
    expect(() => planInclusion(1.5, 4)).toThrow('index must be a safe non-negative integer, got 1.5');
    expect(() => planInclusion(0, Number.NaN)).toThrow('treeSize must be a safe non-negative integer, got NaN');
    expect(() => planInclusion(4, 4)).toThrow('index 4 is not below treeSize 4');
    expect(() => planConsistency(-2, 4)).toThrow('from must be a safe non-negative integer, got -2');
    expect(() => planConsistency(1, 2 ** 60)).toThrow(`to must be a safe non-negative integer, got ${2 ** 60}`);
    expect(() => planConsistency(5, 4)).toThrow('need 0 < from <= to, got from=5 to=4');
    expect(() => store.read([{ level: 1, index: 9 }])).toThrow('node (1, 9) is not stored');
  });

  it('refuse a negative leaf index when appending', async () => {
    await expect(completedNodes(store, -1, leafHash(new Uint8Array()))).rejects.toThrow('leafIndex must be a safe non-negative integer, got -1');
  });
});

describe('hashes from a store', () => {
  const plan = planInclusion(3, 9);

  it('must be as many as the plan asks for, each 32 bytes', () => {
    const hashes = store.read(plan.nodes);
    expect(() => combine(plan, hashes.slice(1))).toThrow(`expected ${plan.nodes.length} node hashes, got ${plan.nodes.length - 1}`);
    expect(() => combine(plan, [...hashes.slice(1), hashes[0]!.subarray(1)])).toThrow('node hashes must be 32-byte Uint8Arrays');
    expect(() => combine(plan, [...hashes.slice(1), Array.from(hashes[0]!) as unknown as Uint8Array])).toThrow('node hashes must be 32-byte Uint8Arrays');
  });

  it('are not asked for when a plan needs none', async () => {
    let asked = 0;
    const counting: NodeReader = { get: async (nodes) => (asked++, store.read(nodes)) };
    expect(await rootHash(counting, 0)).toEqual(await rootHash(store, 0));
    expect(await inclusionProof(counting, 0, 1)).toEqual([]);
    expect(await completedNodes(counting, 0, leafHash(new Uint8Array()))).toHaveLength(0);
    expect(asked).toBe(0);
    await rootHash(counting, 9);
    expect(asked).toBe(1);
  });

  it('a broken store (wrong count) fails the proof, never yields a wrong one', async () => {
    const short: NodeReader = { get: async (nodes) => store.read(nodes).slice(1) };
    await expect(inclusionProof(short, 3, 9)).rejects.toThrow(/node hashes/);
  });
});

describe('consistency proofs between powers of two and others', () => {
  it('verify only for the sizes they were made for', async () => {
    for (const [from, to] of [[1, 9], [2, 9], [4, 9], [3, 8], [8, 9]] as const) {
      const proof = await consistencyProof(store, from, to);
      expect(verifyConsistency(from, to, proof, store.root(from), store.root(to)), `${from}→${to}`).toBe(true);
      expect(verifyConsistency(from, to, [...proof, store.root(1)], store.root(from), store.root(to)), `${from}→${to} with an extra hash`).toBe(false);
      expect(verifyConsistency(from, to, proof, store.root(to), store.root(to)), `${from}→${to} with the wrong old root`).toBe(false);
      expect(verifyConsistency(to, from, proof, store.root(from), store.root(to))).toBe(false);
    }
  });
});

describe('verifiers given what no honest log sends', () => {
  const a = leafHash(Uint8Array.of(1));
  const b = leafHash(Uint8Array.of(2));

  it('refuse a consistency proof that says the tree shrank, however it is built', () => {
    // Read naively from 3 to 2, [a, b] would prove old root a and new root H(a, b).
    expect(verifyConsistency(3, 2, [a, b], a, nodeHash(a, b))).toBe(false);
  });

  it('refuse sizes that are not whole numbers, even with a proof that would fit', () => {
    expect(verifyConsistency(Number.NaN, 1, [a], a, a)).toBe(false);
    expect(verifyConsistency(1, Number.NaN, [a], a, a)).toBe(false);
    expect(verifyConsistency(0.5, 1, [a], a, a)).toBe(false);
  });

  it('answer false, never throw, for a leaf or root that is not a hash', () => {
    expect(verifyInclusion(undefined as unknown as Uint8Array, 0, 1, [], a)).toBe(false);
    expect(verifyInclusion(a, 0, 1, [], undefined as unknown as Uint8Array)).toBe(false);
    expect(verifyInclusion(a.subarray(1), 0, 1, [], a.subarray(1))).toBe(false);
  });
});

