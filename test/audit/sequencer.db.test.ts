// Sequencing: changes leave pending entries in their own transactions; the
// sequencer numbers them into the tree in batches, each batch one transaction.
// Whatever happens to a batch (a failure, or the sequencer's process killed
// with SIGKILL in the middle of it), no entry is lost, none is in the log twice
// and none gets two indices; the log is the tree one-at-a-time appends build.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { backend, freshDatabase, type TestDatabase } from '../support/db.js';
import { rowsOf } from '../../server/db/index.js';
import { appendAudit } from '../../server/audit/trail.js';
import { sequenceAudit, sequenceBatch } from '../../server/audit/sequencer.js';
import { DbNodeReader, treeSize } from '../../server/audit/store.js';
import { leafHash, MemoryNodeStore, rootFromLeafHashes, rootHash } from '../../server/audit/merkle.js';
import { armFailpoint, FailpointError } from '../../server/failpoints.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { person } from '../../server/audit/subjects.js';

let database: TestDatabase;
beforeEach(async () => {
  database = await freshDatabase();
});
afterEach(async () => {
  armFailpoint(null);
  await database.close();
});

const actor = { accountId: '01900000-0000-7000-8000-0000000000aa', coopId: null, platformAdmin: true, via: 'pat' as const, tokenId: null };

/** `n` changes, each its own transaction, each with its entry (subject id "change-<i>"). */
async function changes(n: number, from = 0) {
  for (let i = from; i < from + n; i++)
    await database.db.transaction((tx) => appendAudit(tx, { actor, action: 'test.change', subject: { type: 'test', id: `change-${i}` }, details: { i, who: person(actor.accountId) } }));
}

const pending = async () => Number(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from audit_pending`))[0]!.n);

async function entries() {
  return rowsOf<{ idx: string | number; entry: Uint8Array; leaf_hash: Uint8Array }>(await database.db.execute(sql`select idx, entry, leaf_hash from audit_entries order by idx`)).map((r) => ({
    idx: Number(r.idx),
    json: JSON.parse(Buffer.from(r.entry).toString('utf8')),
    entry: new Uint8Array(r.entry),
    leaf: new Uint8Array(r.leaf_hash),
  }));
}

/** Every change in the log exactly once, indices 0..n-1, and the stored tree is the one its entries make. */
async function expectWholeLog(n: number) {
  expect(await pending()).toBe(0);
  const all = await entries();
  expect(all.map((e) => e.idx)).toEqual([...Array(n).keys()]);
  expect(all.map((e) => e.json.index)).toEqual([...Array(n).keys()]);
  expect(all.map((e) => e.json.subject.id).sort()).toEqual([...Array(n).keys()].map((i) => `change-${i}`).sort());
  for (const e of all) expect(Buffer.from(e.leaf).equals(Buffer.from(leafHash(e.entry)))).toBe(true);
  expect(await treeSize(database.db)).toBe(n);
  const stored = await rootHash(new DbNodeReader(database.db), n);
  expect(Buffer.from(stored).toString('hex')).toBe(Buffer.from(rootFromLeafHashes(all.map((e) => e.leaf))).toString('hex'));
  // Every stored subtree hash is the one appending the leaves one at a time stores.
  const memory = new MemoryNodeStore();
  const expected = all.flatMap((e) => memory.append(e.leaf)).map((r) => `${r.level}/${r.index}/${Buffer.from(r.hash).toString('hex')}`);
  const nodes = rowsOf<{ level: number; idx: string | number; hash: Uint8Array }>(await database.db.execute(sql`select level, idx, hash from audit_nodes`));
  expect(nodes.map((r) => `${r.level}/${Number(r.idx)}/${Buffer.from(r.hash).toString('hex')}`).sort()).toEqual(expected.sort());
}

describe('audit sequencing', () => {
  it('numbers committed changes only, in one gapless tree, with the entry the change wrote', async () => {
    await changes(5);
    await database.db
      .transaction(async (tx) => {
        await appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'test.change', subject: { type: 'test', id: 'rolled-back' } });
        throw new Error('the change fails');
      })
      .catch(() => {});
    expect(await pending()).toBe(5);
    expect(await entries()).toEqual([]);
    await sequenceAudit(database.db);
    await changes(4, 5);
    await sequenceAudit(database.db);
    await expectWholeLog(9);
    const [first] = await entries();
    expect(first!.json).toMatchObject({ v: 1, index: 0, action: 'test.change', outcome: 'success', subject: { type: 'test', id: 'change-0' }, details: { i: 0 } });
    expect(first!.json.actor.ref).toMatch(/^p:[0-9a-f]{32}$/);
    expect(first!.json.details.who).toBe(first!.json.actor.ref);
    expect(Date.parse(first!.json.time)).not.toBeNaN();
  });

  it('batches of any size, starting at any tree size, store the nodes one-at-a-time appends store', async () => {
    await changes(75);
    for (let k = 1; (await pending()) > 0; k = (k % 9) + 1) await database.db.transaction((tx) => sequenceBatch(tx, k));
    await expectWholeLog(75);
  });

  it('a batch that fails half-way leaves everything pending, and the next run sequences each entry once', async () => {
    await changes(30);
    armFailpoint('throw:audit.sequence.batch');
    await expect(sequenceAudit(database.db)).rejects.toBeInstanceOf(FailpointError);
    expect(await pending()).toBe(30);
    expect(await entries()).toEqual([]);
    armFailpoint(null);
    await sequenceAudit(database.db);
    await expectWholeLog(30);
  });

  it.runIf(backend() === 'postgres')('a sequencer killed (SIGKILL) in the middle of a batch loses nothing and sequences nothing twice', async () => {
    await changes(50);
    // Batches of 10: the first commits, the second dies after writing its entries, before its commit.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/sequencer-worker.ts', database.url!, '10'], {
      env: { ...process.env, MEETPLANE_FAILPOINT: 'audit.sequence.batch:2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    expect(exit, err).toEqual({ code: null, signal: 'SIGKILL' });
    expect(out.trim().split('\n')).toEqual(['{"sequenced":10}']);
    // The committed batch is in the log; the killed one is still pending, whole.
    expect((await entries()).map((e) => e.json.subject.id)).toEqual([...Array(10).keys()].map((i) => `change-${i}`));
    expect(await pending()).toBe(40);
    // Changes go on meanwhile; the next sequencer picks everything up.
    await changes(5, 50);
    await sequenceAudit(database.db);
    await expectWholeLog(55);
  });
});
