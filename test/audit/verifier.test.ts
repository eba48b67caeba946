// The auditor's verifier (cli/audit) against a log kept in memory: what it must
// refuse when a server lies. Keys here are real, well-formed Ed25519 keys, so
// each refusal comes from the check named in the test, not from parsing.
import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, leafHash, MemoryNodeStore } from '../../server/audit/merkle.js';
import { formatCheckpoint, generateNoteKey, NoteError, signNote, type NoteKey } from '../../server/audit/note.js';
import { ROTATE_ACTION } from '../../server/audit/announcement.js';
import {
  checkAgainstState,
  KeyChain,
  keyLabel,
  openCheckpoint,
  toB64,
  VerificationError,
  verifyBundle,
  verifyFull,
  type Bundle,
  type LogSource,
} from '../../cli/audit/verifier.js';
import { followRotations } from '../../cli/audit/rotations.js';

const ORIGIN = 'meetplane.example/audit';
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A log as a server keeps it, with hooks to make it lie. */
class MemoryLog implements LogSource {
  readonly entryBytes: Uint8Array[] = [];
  readonly store = new MemoryNodeStore();
  readonly notes: Array<{ size: number; note: string }> = [];
  readonly rotationIndexes: number[] = [];
  /** What `entries` serves instead of the stored entries, when set. */
  serve?: (stored: Array<{ index: number; entry: string; leafHash: string }>) => Array<{ index: number; entry: string; leafHash: string }>;

  constructor(public key: NoteKey) {}

  append(record: Record<string, unknown>): number {
    const index = this.entryBytes.length;
    const bytes = utf8(JSON.stringify({ index, ...record }));
    this.entryBytes.push(bytes);
    this.store.append(leafHash(bytes));
    return index;
  }

  appendMany(n: number): void {
    for (let i = 0; i < n; i++) this.append({ action: 'coop.create', details: { n: i } });
  }

  /** Signs the current tree (or `size`) with the log's key and any co-signers. */
  sign(size = this.store.size, ...cosigners: NoteKey[]): string {
    const body = formatCheckpoint({ origin: this.key.name, size, rootHash: this.store.root(size) });
    const note = signNote(body, this.key, ...cosigners);
    this.notes.push({ size, note });
    this.notes.sort((a, b) => a.size - b.size);
    return note;
  }

  rotate(next: NoteKey): void {
    const index = this.append({
      action: ROTATE_ACTION,
      details: { previousOrigin: this.key.name, previousVkey: this.key.vkey, origin: next.name, vkey: next.vkey },
    });
    this.rotationIndexes.push(index);
    this.sign(index + 1, next);
    this.key = next;
  }

  async checkpoint() {
    return this.notes.at(-1)!.note;
  }
  async checkpoints(after: number | undefined) {
    return this.notes.filter((n) => after === undefined || n.size > after).slice(0, 2);
  }
  async consistency(from: number, to: number) {
    return (await consistencyProof(this.store, from, to)).map(toB64);
  }
  async entries(from: number, to: number) {
    const stored = this.entryBytes.slice(from, to).map((b, i) => ({ index: from + i, entry: toB64(b), leafHash: toB64(leafHash(b)) }));
    return this.serve ? this.serve(stored) : stored;
  }
  async rotations() {
    return this.rotationIndexes.map((index) => ({ index, entry: toB64(this.entryBytes[index]!) }));
  }
  async inclusion(index: number, treeSize: number) {
    return (await inclusionProof(this.store, index, treeSize)).map(toB64);
  }
}

async function refusal(run: () => unknown): Promise<VerificationError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof VerificationError) return e;
    throw e;
  }
  throw new Error('expected the verifier to refuse');
}

describe('opening a checkpoint with the pinned key', () => {
  const key = generateNoteKey(ORIGIN);
  const log = new MemoryLog(key);
  log.appendMany(5);

  it('accepts the log\'s own checkpoint and reads its size and root', () => {
    const cp = openCheckpoint(log.sign(), key.vkey);
    expect(cp).toMatchObject({ origin: ORIGIN, size: 5 });
    expect(Buffer.from(cp.rootHash).equals(Buffer.from(log.store.root()))).toBe(true);
  });

  it('refuses a checkpoint of another log even when the pinned key signed it (origin check)', async () => {
    const body = formatCheckpoint({ origin: 'other.example/audit', size: 5, rootHash: log.store.root() });
    const e = await refusal(() => openCheckpoint(signNote(body, key), key.vkey));
    expect(e.message).toMatch(/origin "other\.example\/audit" is not the pinned key's log/);
  });

  it('refuses a checkpoint signed by another well-formed key of the same name', () => {
    const impostor = generateNoteKey(ORIGIN);
    const note = signNote(formatCheckpoint({ origin: ORIGIN, size: 5, rootHash: log.store.root() }), impostor);
    expect(() => openCheckpoint(note, key.vkey)).toThrow(NoteError);
    expect(() => openCheckpoint(note, key.vkey)).toThrow(/no signature by key/);
  });

  it('refuses a signature line that carries the pinned key\'s id over another key\'s signature', () => {
    const body = formatCheckpoint({ origin: ORIGIN, size: 5, rootHash: log.store.root() });
    const genuine = signNote(body, key);
    const forged = signNote(body, generateNoteKey(ORIGIN));
    // Keep the pinned key's 4-byte id, put the impostor's 64-byte signature after it.
    const sig = (note: string) => Buffer.from(note.trimEnd().split(' ').at(-1)!, 'base64');
    const spliced = Buffer.concat([sig(genuine).subarray(0, 4), sig(forged).subarray(4)]).toString('base64');
    const note = genuine.replace(sig(genuine).toString('base64'), spliced);
    expect(note).not.toBe(genuine);
    expect(() => openCheckpoint(note, key.vkey)).toThrow(/does not verify/);
  });

  it('refuses a checkpoint whose root was changed after signing', () => {
    const genuine = log.sign();
    const otherRoot = toB64(leafHash(utf8('x')));
    const note = genuine.replace(toB64(log.store.root()), otherRoot);
    expect(note).not.toBe(genuine);
    expect(() => openCheckpoint(note, key.vkey)).toThrow(/does not verify/);
  });
});

describe('a new checkpoint against the state verified before', () => {
  const key = generateNoteKey(ORIGIN);

  async function grown() {
    const log = new MemoryLog(key);
    log.appendMany(6);
    const old = openCheckpoint(log.sign(), key.vkey);
    return { log, state: { size: old.size, rootHash: toB64(old.rootHash) } };
  }

  it('accepts the same tree and a tree that extends it', async () => {
    const { log, state } = await grown();
    await checkAgainstState(log, openCheckpoint(log.sign(), key.vkey), state);
    log.appendMany(5);
    await checkAgainstState(log, openCheckpoint(log.sign(), key.vkey), state);
    await checkAgainstState(log, openCheckpoint(log.sign(), key.vkey), undefined);
  });

  it('refuses a fork: another tree of the same size', async () => {
    const { state } = await grown();
    const fork = new MemoryLog(key);
    fork.appendMany(5);
    fork.append({ action: 'coop.delete' });
    const e = await refusal(() => checkAgainstState(fork, openCheckpoint(fork.sign(), key.vkey), state));
    expect(e.message).toMatch(/^fork: the server signed two different trees of size 6/);
  });

  it('refuses a log that shrank', async () => {
    const { log, state } = await grown();
    const e = await refusal(() => checkAgainstState(log, openCheckpoint(log.sign(5), key.vkey), state));
    expect(e.message).toMatch(/the log shrank: it was verified at size 6, the server now signs size 5/);
  });

  it('refuses a longer tree that rewrote the verified part', async () => {
    const { state } = await grown();
    const rewritten = new MemoryLog(key);
    rewritten.append({ action: 'coop.create', details: { n: 'changed' } });
    rewritten.appendMany(9);
    const e = await refusal(() => checkAgainstState(rewritten, openCheckpoint(rewritten.sign(), key.vkey), state));
    expect(e.message).toMatch(/history rewritten: the tree of size 10 is not consistent with the tree of size 6/);
  });
});

describe('full verification from the entries', () => {
  const key = generateNoteKey(ORIGIN);
  const log = new MemoryLog(key);
  log.appendMany(4);
  log.sign();
  log.appendMany(7);
  const latest = openCheckpoint(log.sign(), key.vkey);

  const withServe = (serve: MemoryLog['serve']) => Object.assign(Object.create(log) as MemoryLog, { serve });

  it('recomputes the signed root from every entry, page by page, and reports progress', async () => {
    const progress: number[] = [];
    await verifyFull(log, latest, key.vkey, { pageSize: 3, onProgress: (done, total) => progress.push(done, total) });
    expect(progress).toEqual([3, 11, 6, 11, 9, 11, 11, 11]);
  });

  it('names a missing entry, a duplicate and an entry served at the wrong place', async () => {
    const drop = withServe((s) => s.filter((e) => e.index !== 5));
    expect(await refusal(() => verifyFull(drop, latest, key.vkey))).toMatchObject({ firstBadIndex: 5, message: 'entry 5 is missing (the next one served is 6)' });
    const twice = withServe((s) => s.flatMap((e) => (e.index === 2 ? [e, e] : [e])));
    expect(await refusal(() => verifyFull(twice, latest, key.vkey))).toMatchObject({ firstBadIndex: 2, message: 'entry 2 is served twice' });
    const short = withServe((s) => s.filter((e) => e.index !== 10));
    expect(await refusal(() => verifyFull(short, latest, key.vkey))).toMatchObject({ firstBadIndex: 10, message: 'entry 10 is missing' });
    const moved = withServe((s) => s.map((e) => (e.index === 3 ? { ...s[4]!, index: 3 } : e)));
    expect(await refusal(() => verifyFull(moved, latest, key.vkey))).toMatchObject({ firstBadIndex: 3, message: 'entry at position 3 says it is entry 4' });
    const garbage = withServe((s) => s.map((e) => (e.index === 1 ? { ...e, entry: toB64(utf8('{not json')) } : e)));
    expect(await refusal(() => verifyFull(garbage, latest, key.vkey))).toMatchObject({ firstBadIndex: 1, message: 'entry 1 is not valid JSON' });
  });

  it('names an entry whose bytes no longer match its recorded leaf hash', async () => {
    const edited = withServe((s) => s.map((e) => (e.index === 7 ? { ...e, entry: toB64(utf8(JSON.stringify({ index: 7, action: 'forged' }))) } : e)));
    expect(await refusal(() => verifyFull(edited, latest, key.vkey))).toMatchObject({ firstBadIndex: 7, message: 'entry 7 does not match its recorded leaf hash' });
  });

  it('locates a rewrite whose leaf hashes were recomputed, by the checkpoints signed before', async () => {
    const forged = (e: { index: number }) => utf8(JSON.stringify({ index: e.index, action: 'forged' }));
    const rewrite = withServe((s) => s.map((e) => (e.index === 2 ? { ...e, entry: toB64(forged(e)), leafHash: toB64(leafHash(forged(e))) } : e)));
    // The server's own checkpoint of size 4 narrows it down to entries 0 to 3.
    expect(await refusal(() => verifyFull(rewrite, latest, key.vkey))).toMatchObject({ firstBadIndex: 0, message: 'entries 0 to 3 no longer match the checkpoint signed at size 4' });
    // A root the verifier kept from an earlier run narrows it further.
    const known = [1, 2, 3].map((size) => ({ size, rootHash: toB64(log.store.root(size)) }));
    expect(await refusal(() => verifyFull(rewrite, latest, key.vkey, { known }))).toMatchObject({ firstBadIndex: 2, message: 'entry 2 no longer matches the checkpoint signed at size 3' });
  });

  it('fails on a latest root that nothing reproduces, naming the span since the last good checkpoint', async () => {
    const other = new MemoryLog(key);
    other.appendMany(11);
    const foreignRoot = { ...latest, rootHash: other.store.root() };
    // Entries 0..3 reproduce the server's checkpoint of size 4; the rest do not reach the claimed root.
    expect(await refusal(() => verifyFull(log, foreignRoot, key.vkey))).toMatchObject({ firstBadIndex: 4, message: 'entries 4 to 10 no longer match the checkpoint signed at size 11' });
  });
});

describe('offline bundles', () => {
  const key = generateNoteKey(ORIGIN);
  const log = new MemoryLog(key);
  log.appendMany(9);
  const checkpoint = log.sign();

  async function bundle(index: number): Promise<Bundle> {
    const bytes = log.entryBytes[index]!;
    return {
      format: 'meetplane-audit-bundle/1',
      vkey: key.vkey,
      index,
      entry: toB64(bytes),
      leafHash: toB64(leafHash(bytes)),
      checkpoint,
      proof: { index, treeSize: 9, hashes: await log.inclusion(index, 9) },
    };
  }

  it('verifies an entry, its proof and the signed root with the pinned key', async () => {
    for (const i of [0, 4, 8]) expect(verifyBundle(await bundle(i), key.vkey).size).toBe(9);
  });

  it('refuses another format, a proof for another size, and an entry not in the tree', async () => {
    const b = await bundle(4);
    expect((await refusal(() => verifyBundle({ ...b, format: 'other/1' }, key.vkey))).message).toBe('not a meetplane audit bundle');
    expect((await refusal(() => verifyBundle({ ...b, proof: { ...b.proof, treeSize: 8 } }, key.vkey))).message).toMatch(/another tree size/);
    const e = await refusal(() => verifyBundle({ ...b, entry: toB64(utf8('{"index":4,"action":"forged"}')) }, key.vkey));
    expect(e).toMatchObject({ firstBadIndex: 4, message: 'entry 4 is not included in the signed tree of size 9' });
    expect(() => verifyBundle(b, generateNoteKey(ORIGIN).vkey)).toThrow(/not signed by the key trusted for it/);
  });
});

describe('key rotations', () => {
  it('follows an announced rotation forward from the old key and backward from the new one', async () => {
    const first = generateNoteKey(ORIGIN);
    const second = generateNoteKey('meetplane.example/audit-2');
    const log = new MemoryLog(first);
    log.appendMany(3);
    log.sign();
    log.rotate(second); // entry 3 announces it; the checkpoint of size 4 is co-signed
    log.appendMany(2);
    const latestNote = log.sign();

    const forward = await followRotations(log, first.vkey);
    expect(forward.followed).toEqual([
      { index: 3, size: 4, from: { origin: ORIGIN, vkey: first.vkey }, to: { origin: second.name, vkey: second.vkey }, direction: 'forward' },
    ]);
    expect(forward.chain.epochs.map((e) => [e.origin, e.upTo])).toEqual([[ORIGIN, 4], [second.name, null]]);
    expect(forward.chain.open(latestNote).size).toBe(6);
    await verifyFull(log, forward.chain.open(latestNote), forward.chain);

    const backward = await followRotations(log, second.vkey);
    expect(backward.followed.map((f) => f.direction)).toEqual(['backward']);
    expect(backward.chain.keyFor(3).vkey).toBe(first.vkey);
    expect(backward.chain.keyFor(4).vkey).toBe(first.vkey);
    expect(backward.chain.keyFor(5).vkey).toBe(second.vkey);
    expect(backward.chain.current.vkey).toBe(second.vkey);

    // A retired key cannot sign the log's future.
    const late = signNote(formatCheckpoint({ origin: ORIGIN, size: 6, rootHash: log.store.root(6) }), first);
    expect(() => forward.chain.open(late)).toThrow(new RegExp(`size 6 is not signed by the key trusted for it \\(${keyLabel(second.vkey).replace('+', '\\+')}\\)`));
  });

  it('trusts no key that is not announced in a checkpoint the trusted key signed', async () => {
    const first = generateNoteKey(ORIGIN);
    const second = generateNoteKey('meetplane.example/audit-2');
    const log = new MemoryLog(first);
    log.appendMany(2);
    // The announcement is there, but its checkpoint is signed by the new key only.
    const index = log.append({ action: ROTATE_ACTION, details: { previousOrigin: ORIGIN, previousVkey: first.vkey, origin: second.name, vkey: second.vkey } });
    log.rotationIndexes.push(index);
    log.notes.push({ size: index + 1, note: signNote(formatCheckpoint({ origin: ORIGIN, size: index + 1, rootHash: log.store.root() }), second) });
    const e = await refusal(() => followRotations(log, first.vkey));
    expect(e.firstBadIndex).toBe(2);
    expect(e.message).toMatch(/key rotation at entry 2 .* refused: the checkpoint of size 3: note has no signature by key/);
  });

  it('refuses an announcement no checkpoint of its size covers, or one the checkpoint does not include', async () => {
    const first = generateNoteKey(ORIGIN);
    const second = generateNoteKey('meetplane.example/audit-2');
    const log = new MemoryLog(first);
    log.appendMany(2);
    const index = log.append({ action: ROTATE_ACTION, details: { previousOrigin: ORIGIN, previousVkey: first.vkey, origin: second.name, vkey: second.vkey } });
    log.rotationIndexes.push(index);
    log.appendMany(2);
    log.sign(5, second);
    expect((await refusal(() => followRotations(log, first.vkey))).message).toMatch(/refused: no checkpoint of size 3 covers it/);

    // A co-signed checkpoint of size 3 whose tree is another one: the entry is not in it.
    const other = new MemoryLog(first);
    other.appendMany(3);
    log.notes.push({ size: 3, note: signNote(formatCheckpoint({ origin: ORIGIN, size: 3, rootHash: other.store.root() }), first, second) });
    log.notes.sort((a, b) => a.size - b.size);
    expect((await refusal(() => followRotations(log, first.vkey))).message).toMatch(/the announcing entry is not included in the checkpoint of size 3/);
  });

  it('refuses an announcement whose entry says another index', async () => {
    const first = generateNoteKey(ORIGIN);
    const log = new MemoryLog(first);
    log.appendMany(3);
    log.rotationIndexes.push(1);
    const e = await refusal(() => followRotations(log, first.vkey));
    expect(e).toMatchObject({ firstBadIndex: 1 });
    expect(e.message).toMatch(/^key rotation: /);
  });

  it('builds a chain only when it ends with the key that signs now', () => {
    expect(() => KeyChain.of([])).toThrow(/ends with the key that signs now/);
    expect(() => KeyChain.of([{ vkey: 'k', origin: 'o', upTo: 3 }])).toThrow(/ends with the key that signs now/);
  });
});

describe('edges of verification', () => {
  const key = generateNoteKey(ORIGIN);

  it('accepts any first checkpoint after a state of size 0', async () => {
    const log = new MemoryLog(key);
    log.appendMany(3);
    await checkAgainstState(log, openCheckpoint(log.sign(), key.vkey), { size: 0, rootHash: toB64(new MemoryNodeStore().root(0)) });
  });

  it('finds a rewrite the server re-signed, by the roots this verifier kept', async () => {
    const log = new MemoryLog(key);
    log.appendMany(6);
    const known = [{ size: 6, rootHash: toB64(log.store.root(6)) }];
    const rewritten = new MemoryLog(key);
    rewritten.append({ action: 'coop.create', details: { n: 'rewritten' } });
    rewritten.appendMany(7);
    const resigned = openCheckpoint(rewritten.sign(), key.vkey);
    // Every entry matches its leaf hash and the re-signed root: only the kept root shows it.
    await verifyFull(rewritten, resigned, key.vkey);
    expect(await refusal(() => verifyFull(rewritten, resigned, key.vkey, { known }))).toMatchObject({ firstBadIndex: 0, message: 'entries 0 to 5 no longer match the checkpoint signed at size 6' });
  });

  it('narrows damage with kept roots in any order, and ignores kept roots beyond the checkpoint verified', async () => {
    const log = new MemoryLog(key);
    log.appendMany(8);
    const older = openCheckpoint(log.sign(5), key.vkey);
    const later = [{ size: 8, rootHash: toB64(log.store.root(8)) }];
    await verifyFull(log, older, key.vkey, { known: later });
    const forged = utf8(JSON.stringify({ index: 3, action: 'forged' }));
    const rewrite = Object.assign(Object.create(log) as MemoryLog, {
      serve: (s: Array<{ index: number; entry: string; leafHash: string }>) => s.map((e) => (e.index === 3 ? { ...e, entry: toB64(forged), leafHash: toB64(leafHash(forged)) } : e)),
    });
    const known = [4, 2, 3].map((size) => ({ size, rootHash: toB64(log.store.root(size)) }));
    expect(await refusal(() => verifyFull(rewrite, openCheckpoint(log.sign(), key.vkey), key.vkey, { known }))).toMatchObject({ firstBadIndex: 3, message: 'entry 3 no longer matches the checkpoint signed at size 4' });
  });

  it('passes on a malformed note as what it is, not as an unknown key', () => {
    const chain = KeyChain.single(key.vkey);
    expect(() => chain.open('not a note')).toThrow(NoteError);
    expect(() => chain.open('not a note')).not.toThrow(VerificationError);
  });
});

describe('several rotations', () => {
  const keys = [generateNoteKey(ORIGIN), generateNoteKey('meetplane.example/audit-2'), generateNoteKey('meetplane.example/audit-3')];

  async function threeKeyLog() {
    const log = new MemoryLog(keys[0]!);
    log.appendMany(2);
    log.rotate(keys[1]!); // entry 2, checkpoint 3
    log.appendMany(2);
    log.rotate(keys[2]!); // entry 5, checkpoint 6
    log.appendMany(1);
    log.sign();
    return log;
  }

  it('follows them all backward from today\'s key, and forward from the first', async () => {
    const log = await threeKeyLog();
    const back = await followRotations(log, keys[2]!.vkey);
    expect(back.followed.map((f) => [f.index, f.direction, f.from.origin, f.to.origin])).toEqual([
      [2, 'backward', keys[0]!.name, keys[1]!.name],
      [5, 'backward', keys[1]!.name, keys[2]!.name],
    ]);
    expect(back.chain.epochs.map((e) => [e.origin, e.upTo])).toEqual([[keys[0]!.name, 3], [keys[1]!.name, 6], [keys[2]!.name, null]]);
    expect(back.chain.current.vkey).toBe(keys[2]!.vkey);
    const forward = await followRotations(log, keys[0]!.vkey);
    expect(forward.followed.map((f) => f.direction)).toEqual(['forward', 'forward']);
    expect(forward.chain.current.vkey).toBe(keys[2]!.vkey);
    expect(forward.chain.keyFor(4).vkey).toBe(keys[1]!.vkey);
  });

  it('refuses to go back to an older key the trusted key did not co-sign', async () => {
    const [old, current] = [generateNoteKey(ORIGIN), generateNoteKey('meetplane.example/audit-2')];
    const log = new MemoryLog(old);
    log.appendMany(2);
    const index = log.append({ action: ROTATE_ACTION, details: { previousOrigin: old.name, previousVkey: old.vkey, origin: current.name, vkey: current.vkey } });
    log.rotationIndexes.push(index);
    log.sign(index + 1); // the old key alone: the current key never vouched for it
    log.key = current;
    log.sign();
    const e = await refusal(() => followRotations(log, current.vkey));
    expect(e.message).toMatch(/refused: the checkpoint of size 3: note has no signature by key meetplane\.example\/audit-2\+/);
  });

  it('refuses an announcement served at another position than it says, and a checkpoint of another size than served', async () => {
    const log = await threeKeyLog();
    const shifted = Object.assign(Object.create(log) as MemoryLog, { rotations: async () => [{ index: 3, entry: toB64(log.entryBytes[2]!) }] });
    const e = await refusal(() => followRotations(shifted, keys[0]!.vkey));
    expect(e).toMatchObject({ firstBadIndex: 3, message: 'key rotation: entry at position 3 says it is entry 2' });
    // Signed and co-signed by the right keys, listed as size 3, but its body says 4.
    const four = signNote(formatCheckpoint({ origin: ORIGIN, size: 4, rootHash: log.store.root(4) }), keys[0]!, keys[1]!);
    const mislabelled = Object.assign(Object.create(log) as MemoryLog, {
      checkpoints: async (after: number | undefined) => (after === 2 ? [{ size: 3, note: four }] : log.checkpoints(after)),
    });
    expect((await refusal(() => followRotations(mislabelled, keys[0]!.vkey))).message).toMatch(/refused: the checkpoint served for size 3 is of size 4$/);
  });
});
