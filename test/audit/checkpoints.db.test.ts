// Signed checkpoints in-process (server/audit/checkpoints.ts): the log signs a
// checkpoint only for a tree consistent with the one it signed before, never
// twice for one size, with the key stored now; the checkpointer batches a burst
// of writes into one checkpoint and tells its witnesses once per new size.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { appendAudit } from '../../server/audit/trail.js';
import { auditOrigin, Checkpointer, CheckpointSigner, InconsistentTreeError } from '../../server/audit/checkpoints.js';
import { openNote } from '../../server/audit/note.js';
import { rowsOf } from '../../server/db/index.js';
import type { Logger } from '../../server/logger.js';
import { within } from '../support/within.js';

let database: TestDatabase;
let signer: CheckpointSigner;
const box = new SecretBox(randomBytes(32));
let n = 0;

const append = (count = 1) =>
  database.db.transaction(async (tx) => {
    for (let i = 0; i < count; i++) await appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'coop.create', subject: { type: 'coop', id: `c${++n}` } });
  });
const checkpointSizes = async () => rowsOf<{ size: string | number }>(await database.db.execute(sql`select size from audit_checkpoints order by size`)).map((r) => Number(r.size));

/** What a logger was told, by level. */
function recordingLogger() {
  const told: Array<[string, unknown, string]> = [];
  const at = (level: string) => (obj: unknown, msg: string) => void told.push([level, obj, msg]);
  return { told, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger };
}

beforeAll(async () => {
  database = await freshDatabase();
  signer = await CheckpointSigner.load(database.db, box, 'log.example/audit');
});
afterAll(async () => database?.close());

describe('a new log\'s origin', () => {
  it('is the public URL\'s host and path, without scheme or trailing slash, then /audit', () => {
    expect(auditOrigin('https://meet.example.org')).toBe('meet.example.org/audit');
    expect(auditOrigin('https://meet.example.org:8443/base/')).toBe('meet.example.org:8443/base/audit');
    expect(auditOrigin('https://meet.example.org/base//')).toBe('meet.example.org/base/audit');
    expect(auditOrigin('https://meet.example.org/a/b')).toBe('meet.example.org/a/b/audit');
  });
});

describe('issuing a checkpoint', () => {
  it('signs the whole tree with the stored key and origin, once per size', async () => {
    await append(3);
    const first = await signer.issue(database.db);
    expect(first.issued).toBe(true);
    expect(openNote(first.note, await signer.vkey(database.db))).toMatchObject({ origin: 'log.example/audit', size: first.size });
    const again = await signer.issue(database.db);
    expect(again).toEqual({ size: first.size, note: first.note, issued: false });
    await append();
    const next = await signer.issue(database.db);
    expect(next).toMatchObject({ size: first.size + 1, issued: true });
    expect(await checkpointSizes()).toEqual(expect.arrayContaining([first.size, next.size]));
  });

  it('refuses to sign a tree that does not extend the last checkpoint (a fork), and stores nothing', async () => {
    await append();
    await signer.issue(database.db);
    const before = await checkpointSizes();
    // The stored root of the last checkpoint no longer matches the tree: as if the log had been rewritten under it.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_checkpoints set root_hash = ${randomBytes(32)} where size = (select max(size) from audit_checkpoints)`);
    });
    await append();
    await expect(signer.issue(database.db)).rejects.toBeInstanceOf(InconsistentTreeError);
    await expect(signer.issue(database.db)).rejects.toThrow(/not consistent with the checkpoint at size \d+: refusing to sign/);
    expect(await checkpointSizes()).toEqual(before);
  });
});

describe('the checkpointer', () => {
  it('signs once for a burst of writes, tells its witnesses once per new size, and logs (not throws) their failure', async () => {
    const fresh = await freshDatabase();
    try {
      const s = await CheckpointSigner.load(fresh.db, box, 'burst.example/audit');
      const { told, log } = recordingLogger();
      const sizes: number[] = [];
      const cp = new Checkpointer(fresh.db, s, log, 60_000, 50, async (size) => {
        sizes.push(size);
        throw new Error('witness down');
      });
      const write = () => fresh.db.transaction((tx) => appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'coop.create', subject: { type: 'coop', id: `b${++n}` } }));
      for (let i = 0; i < 3; i++) await write();
      for (let i = 0; i < 3; i++) cp.nudge();
      await new Promise((r) => setTimeout(r, 300));
      await cp.run(); // nothing new: the witnesses are not asked again
      await cp.stop();
      const signed = rowsOf<{ size: string | number }>(await fresh.db.execute(sql`select size from audit_checkpoints`)).map((r) => Number(r.size));
      expect(signed).toHaveLength(1);
      expect(sizes).toEqual(signed);
      const warnings = told.filter(([level]) => level === 'warn');
      expect(warnings.map(([, , msg]) => msg)).toEqual(['after the audit checkpoint']);
      expect((warnings[0]![1] as { err: Error }).err.message).toBe('witness down');
      expect(told.filter(([level]) => level === 'error')).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('the checkpointer\'s timers', () => {
  /** A checkpointer on its own fresh log, counting the signer's passes. */
  async function freshCheckpointer(intervalMs: number, debounceMs: number) {
    const fresh = await freshDatabase();
    const s = await CheckpointSigner.load(fresh.db, box, 'timers.example/audit');
    let passes = 0;
    const issue = s.issue.bind(s);
    s.issue = (db) => (passes++, issue(db));
    const { told, log } = recordingLogger();
    const cp = new Checkpointer(fresh.db, s, log, intervalMs, debounceMs);
    const write = () => fresh.db.transaction((tx) => appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'coop.create', subject: { type: 'coop', id: `t${++n}` } }));
    const signed = async () => rowsOf<{ size: string | number }>(await fresh.db.execute(sql`select size from audit_checkpoints order by size`)).map((r) => Number(r.size));
    return { fresh, cp, write, signed, told, passes: () => passes };
  }
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('once started, signs on its interval without being nudged, and not after it is stopped', async () => {
    const { fresh, cp, write, signed } = await freshCheckpointer(40, 60_000);
    try {
      await write();
      expect(await signed()).toEqual([]);
      cp.start();
      await within(5_000, async () => (await signed()).length === 1);
      await write();
      await within(5_000, async () => (await signed()).length === 2);
      await cp.stop();
      const atStop = await signed();
      await write();
      await pause(200);
      expect(await signed()).toEqual(atStop);
    } finally {
      await cp.stop();
      await fresh.close();
    }
  });

  it('makes one pass for a burst of nudges, and a later nudge makes another', async () => {
    const { fresh, cp, write, signed, told, passes } = await freshCheckpointer(60_000, 50);
    try {
      await write();
      for (let i = 0; i < 5; i++) cp.nudge();
      await within(5_000, async () => (await signed()).length === 1);
      await pause(150);
      expect(passes()).toBe(1);
      const [first] = await signed();
      expect(told.filter(([level, , msg]) => level === 'debug' && msg === 'audit checkpoint signed').map(([, obj]) => obj)).toEqual([{ size: first }]);
      await cp.run(); // nothing new: no checkpoint, nothing said about one
      expect(told.filter(([, , msg]) => msg === 'audit checkpoint signed')).toHaveLength(1);
      await write();
      cp.nudge();
      await within(5_000, async () => (await signed()).length === 2);
      expect(await signed()).toEqual([first, first! + 1]);
      expect(passes()).toBe(3);
    } finally {
      await cp.stop();
      await fresh.close();
    }
  });

  it('signs nothing for a nudge pending when it is stopped', async () => {
    const { fresh, cp, write, signed, passes } = await freshCheckpointer(60_000, 50);
    try {
      await write();
      cp.nudge();
      await cp.stop();
      await pause(200);
      expect(passes()).toBe(0);
      expect(await signed()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('signs nothing, and says why, when the log has no signing key', async () => {
    const { fresh, cp, write, signed, told } = await freshCheckpointer(60_000, 50);
    try {
      await write();
      await fresh.db.execute(sql`update audit_log_keys set retired_at = now()`);
      await cp.run();
      const errors = told.filter(([level]) => level === 'error');
      expect((errors[0]![1] as { err: Error }).err.message).toBe('the audit log has no signing key');
      expect(await signed()).toEqual([]);
    } finally {
      await cp.stop();
      await fresh.close();
    }
  });

  it('logs a refused checkpoint as an error and keeps running', async () => {
    const { fresh, cp, write, signed, told } = await freshCheckpointer(60_000, 50);
    try {
      await write();
      await cp.run();
      await fresh.db.transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        await tx.execute(sql`update audit_checkpoints set root_hash = ${randomBytes(32)}`);
      });
      await write();
      await expect(cp.run()).resolves.toBeUndefined();
      const errors = told.filter(([level]) => level === 'error');
      expect(errors.map(([, , msg]) => msg)).toEqual(['audit checkpoint failed']);
      expect((errors[0]![1] as { err: unknown }).err).toBeInstanceOf(InconsistentTreeError);
      expect(await signed()).toHaveLength(1);
    } finally {
      await cp.stop();
      await fresh.close();
    }
  });
});
