// The auditor's side of the log: everything here checks what a server sends
// against signed checkpoints and a pinned key, trusting nothing else. It must
// not import the server's database code (test/audit/verifier-imports.test.ts
// checks that); it shares only the pure Merkle and signed-note modules.
import { leafHash, MemoryNodeStore, verifyConsistency, verifyInclusion } from '../../server/audit/merkle.js';
import { NoteError, openNote, parseVerifierKey, type Checkpoint } from '../../server/audit/note.js';

export const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
export const toB64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** What a verifier keeps between runs, per log origin. */
export interface VerifiedState {
  size: number;
  rootHash: string; // base64
  /** Every signed checkpoint seen so far: they locate damage later. */
  checkpoints?: Array<{ size: number; rootHash: string }>;
}

/** An entry as a source serves it: base64 (entries API) or bytes (tiles), with the leaf hash the source states, if any. */
export interface SourceEntry {
  index: number;
  entry: string | Uint8Array;
  leafHash?: string;
}

/** The little a verifier needs from a server; the CLI implements it over REST and tiles. */
export interface LogSource {
  checkpoint(): Promise<string>;
  checkpoints(after: number | undefined): Promise<Array<{ size: number; note: string }>>;
  consistency(from: number, to: number): Promise<string[]>;
  entries(from: number, to: number): Promise<SourceEntry[]>;
  /** Entries announcing a key rotation (action audit.key.rotate), in log order. */
  rotations(): Promise<Array<{ index: number; entry: string }>>;
  inclusion(index: number, treeSize: number): Promise<string[]>;
}

export class VerificationError extends Error {
  constructor(
    message: string,
    /** The first index found bad, when one can be named. */
    readonly firstBadIndex?: number,
  ) {
    super(message);
  }
}

/** Opens a checkpoint note with the pinned key and checks its origin is the key's. */
export function openCheckpoint(note: string, vkey: string): Checkpoint {
  const verifier = parseVerifierKey(vkey);
  const cp = openNote(note, verifier);
  if (cp.origin !== verifier.name) throw new VerificationError(`checkpoint origin "${cp.origin}" is not the pinned key's log "${verifier.name}"`);
  return cp;
}

/** A key a verifier trusts, for checkpoint sizes up to `upTo` (its rotation's checkpoint), or onwards when null. */
export interface KeyEpoch {
  vkey: string;
  origin: string;
  upTo: number | null;
}

/**
 * The keys a verifier trusts, each for a range of checkpoint sizes, oldest
 * first: one pinned key, or the chain followed through announced rotations
 * (cli/audit/rotations.ts). A checkpoint is opened only with the key trusted
 * for its size, so a retired key cannot sign the log's future.
 */
export class KeyChain {
  private constructor(readonly epochs: KeyEpoch[]) {}

  static single(vkey: string): KeyChain {
    return new KeyChain([{ vkey, origin: parseVerifierKey(vkey).name, upTo: null }]);
  }

  static of(epochs: KeyEpoch[]): KeyChain {
    if (epochs.length === 0 || epochs.at(-1)!.upTo !== null) throw new Error('a key chain ends with the key that signs now');
    return new KeyChain(epochs);
  }

  /** The key that signs from now on. */
  get current(): KeyEpoch {
    return this.epochs.at(-1)!;
  }

  keyFor(size: number): KeyEpoch {
    return this.epochs.find((e) => e.upTo === null || size <= e.upTo)!;
  }

  /** Opens a checkpoint with the key trusted for its size (read from the note, then verified). */
  open(note: string): Checkpoint {
    const claimed = Number(note.split('\n', 2)[1]);
    const epoch = Number.isSafeInteger(claimed) ? this.keyFor(claimed) : this.current;
    try {
      return openCheckpoint(note, epoch.vkey);
    } catch (e) {
      if (e instanceof NoteError && e.code === 'unverified')
        throw new VerificationError(
          `the checkpoint of size ${claimed} is not signed by the key trusted for it (${keyLabel(epoch.vkey)}); ` +
            'a key change that was not announced in a checkpoint signed by the key you trust is refused',
        );
      throw e;
    }
  }
}

/** origin+keyid: how a key is named to a person. */
export const keyLabel = (vkey: string) => vkey.split('+').slice(0, 2).join('+');

/** Checks a new checkpoint extends what was verified before (no rewrite, no fork, no rollback). */
export async function checkAgainstState(source: LogSource, cp: Checkpoint, state: VerifiedState | undefined): Promise<void> {
  if (!state || state.size === 0) return;
  const oldRoot = fromB64(state.rootHash);
  if (cp.size < state.size)
    throw new VerificationError(`the log shrank: it was verified at size ${state.size}, the server now signs size ${cp.size}`);
  if (cp.size === state.size) {
    if (!same(cp.rootHash, oldRoot)) throw new VerificationError(`fork: the server signed two different trees of size ${cp.size}`);
    return;
  }
  const proof = (await source.consistency(state.size, cp.size)).map(fromB64);
  if (!verifyConsistency(state.size, cp.size, proof, oldRoot, cp.rootHash))
    throw new VerificationError(
      `history rewritten: the tree of size ${cp.size} is not consistent with the tree of size ${state.size} verified before`,
    );
}

/**
 * Recomputes the root from every entry and compares it with the checkpoint.
 * On a mismatch, names the first bad index: a gap, a duplicate, an entry whose
 * embedded index or stored leaf hash disagrees with its bytes, or else the
 * first signed checkpoint the entries no longer reproduce.
 */
export async function verifyFull(
  source: LogSource,
  cp: Checkpoint,
  keys: KeyChain | string,
  opts: { known?: Array<{ size: number; rootHash: string }>; onProgress?: (done: number, total: number) => void; pageSize?: number } = {},
): Promise<void> {
  const pageSize = opts.pageSize ?? 1000;
  const store = new MemoryNodeStore();
  for (let from = 0; from < cp.size; from += pageSize) {
    const to = Math.min(cp.size, from + pageSize);
    const page = await source.entries(from, to);
    for (const e of page) {
      const expected = store.size;
      if (e.index !== expected)
        throw new VerificationError(
          e.index > expected ? `entry ${expected} is missing (the next one served is ${e.index})` : `entry ${e.index} is served twice`,
          Math.min(e.index, expected),
        );
      const bytes = typeof e.entry === 'string' ? fromB64(e.entry) : e.entry;
      let embedded: unknown;
      try {
        embedded = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { index?: unknown }).index;
      } catch {
        throw new VerificationError(`entry ${expected} is not valid JSON`, expected);
      }
      if (embedded !== expected) throw new VerificationError(`entry at position ${expected} says it is entry ${String(embedded)}`, expected);
      const leaf = leafHash(bytes);
      if (e.leafHash !== undefined && !same(leaf, fromB64(e.leafHash))) throw new VerificationError(`entry ${expected} does not match its recorded leaf hash`, expected);
      store.append(leaf);
    }
    if (store.size < to) throw new VerificationError(`entry ${store.size} is missing`, store.size);
    opts.onProgress?.(store.size, cp.size);
  }
  // Every signed root this verifier kept must still be reproduced (a rewrite
  // re-signed by the server passes the latest root but fails these), then the
  // latest; on a mismatch, the server's own stored checkpoints narrow it down.
  const kept = new Map<number, Uint8Array>((opts.known ?? []).map((k) => [k.size, fromB64(k.rootHash)]));
  locate(store, kept, cp.size);
  if (same(store.root(cp.size), cp.rootHash)) return;
  for await (const old of serverCheckpoints(source, keys)) kept.set(old.size, old.rootHash);
  kept.set(cp.size, cp.rootHash);
  locate(store, kept, cp.size);
}

/** Throws naming the first entries that no longer reproduce a signed root. */
function locate(store: MemoryNodeStore, signed: Map<number, Uint8Array>, upTo: number): void {
  let previous = 0;
  for (const size of [...signed.keys()].sort((a, b) => a - b)) {
    if (size === 0 || size > upTo) continue;
    if (!same(store.root(size), signed.get(size)!)) {
      const where = size - previous === 1 ? `entry ${previous} no longer matches` : `entries ${previous} to ${size - 1} no longer match`;
      throw new VerificationError(`${where} the checkpoint signed at size ${size}`, previous);
    }
    previous = size;
  }
}

/** The server's stored checkpoints, each opened with the key trusted for its size. */
export async function* serverCheckpoints(source: LogSource, keys: KeyChain | string): AsyncGenerator<Checkpoint> {
  const chain = typeof keys === 'string' ? KeyChain.single(keys) : keys;
  let after: number | undefined;
  for (;;) {
    const page = await source.checkpoints(after);
    if (page.length === 0) return;
    for (const { note } of page) yield chain.open(note);
    after = page[page.length - 1]!.size;
  }
}

export interface Bundle {
  format: string;
  vkey: string;
  index: number;
  entry: string;
  leafHash: string;
  checkpoint: string;
  proof: { index: number; treeSize: number; hashes: string[] };
}

/** Verifies an offline bundle with a pinned key (or a followed chain): entry → leaf → proof → signed root. */
export function verifyBundle(bundle: Bundle, keys: KeyChain | string): Checkpoint {
  if (bundle.format !== 'meetplane-audit-bundle/1') throw new VerificationError('not a meetplane audit bundle');
  const cp = (typeof keys === 'string' ? KeyChain.single(keys) : keys).open(bundle.checkpoint);
  if (bundle.proof.treeSize !== cp.size) throw new VerificationError('the proof is for another tree size than the checkpoint');
  const leaf = leafHash(fromB64(bundle.entry));
  if (!verifyInclusion(leaf, bundle.index, cp.size, bundle.proof.hashes.map(fromB64), cp.rootHash))
    throw new VerificationError(`entry ${bundle.index} is not included in the signed tree of size ${cp.size}`, bundle.index);
  return cp;
}
