// Following the log's key rotations from a pinned key, trusting only what that
// key signed. A rotation is an entry announcing the new origin and vkey (index
// t) and the old key's last checkpoint, of size t + 1, co-signed by the new key.
//  - forward (the pinned key is old): the checkpoint must be signed by the key
//    already trusted and co-signed by the announced one, and include the entry;
//  - backward (the pinned key is newer): the checkpoint must be co-signed by the
//    key already trusted, signed by the announced previous key, and include the
//    entry; this lets an auditor who pinned today's key check older checkpoints.
// Anything else (an unannounced key, an announcement not covered by a
// checkpoint of the trusted key) leaves the key untrusted, and opening a
// checkpoint it signed fails.
import { leafHash, verifyInclusion } from '../../server/audit/merkle.js';
import { NoteError, parseVerifierKey, verifyNote, type Checkpoint } from '../../server/audit/note.js';
import { parseAnnouncement, type KeyAnnouncement } from '../../server/audit/announcement.js';
import { fromB64, KeyChain, keyLabel, openCheckpoint, VerificationError, type KeyEpoch, type LogSource } from './verifier.js';

export interface FollowedRotation {
  /** Index of the announcing entry. */
  index: number;
  /** Size of the transition checkpoint (index + 1). */
  size: number;
  from: { origin: string; vkey: string };
  to: { origin: string; vkey: string };
  direction: 'forward' | 'backward';
}

interface Announced extends KeyAnnouncement {
  bytes: Uint8Array;
}

/** The keys `pinned` vouches for, through the rotations the log announces. */
export async function followRotations(source: LogSource, pinned: string): Promise<{ chain: KeyChain; followed: FollowedRotation[] }> {
  const announced = (await source.rotations()).map(readAnnouncement);
  const pinnedOrigin = parseVerifierKey(pinned).name;
  const followed: FollowedRotation[] = [];

  // Backward: older keys, each vouched for by the co-signature of the next.
  const before: KeyEpoch[] = [];
  let trusted = pinned;
  for (const a of [...announced].reverse()) {
    if (a.vkey !== trusted) continue;
    const size = await checkLink(source, a);
    before.unshift({ vkey: a.previousVkey, origin: a.previousOrigin, upTo: size });
    followed.unshift(link(a, size, 'backward'));
    trusted = a.previousVkey;
  }

  // Forward: newer keys, each announced in a checkpoint signed by the previous.
  const after: KeyEpoch[] = [{ vkey: pinned, origin: pinnedOrigin, upTo: null }];
  trusted = pinned;
  for (const a of announced) {
    if (a.previousVkey !== trusted) continue;
    const size = await checkLink(source, a);
    after.at(-1)!.upTo = size;
    after.push({ vkey: a.vkey, origin: a.origin, upTo: null });
    followed.push(link(a, size, 'forward'));
    trusted = a.vkey;
  }
  return { chain: KeyChain.of([...before, ...after]), followed };
}

function readAnnouncement(e: { index: number; entry: string }): Announced {
  const bytes = fromB64(e.entry);
  try {
    const a = parseAnnouncement(bytes);
    if (a.index !== e.index) throw new Error(`entry at position ${e.index} says it is entry ${a.index}`);
    return { ...a, bytes };
  } catch (err) {
    throw new VerificationError(`key rotation: ${(err as Error).message}`, e.index);
  }
}

const link = (a: Announced, size: number, direction: FollowedRotation['direction']): FollowedRotation => ({
  index: a.index,
  size,
  from: { origin: a.previousOrigin, vkey: a.previousVkey },
  to: { origin: a.origin, vkey: a.vkey },
  direction,
});

/**
 * Checks one rotation: the checkpoint of size index + 1 is the previous key's
 * (its origin, its signature), carries the next key's co-signature, and
 * includes the announcing entry. Both keys signed it, so whichever of the two
 * the verifier trusts vouches for the other. Returns that size.
 */
async function checkLink(source: LogSource, a: Announced): Promise<number> {
  const size = a.index + 1;
  const refuse = (why: string): never => {
    throw new VerificationError(`key rotation at entry ${a.index} (${keyLabel(a.previousVkey)} to ${keyLabel(a.vkey)}) refused: ${why}`, a.index);
  };
  const [found] = await source.checkpoints(a.index);
  if (found?.size !== size) refuse(`no checkpoint of size ${size} covers it`);
  let cp: Checkpoint | undefined;
  try {
    // The old key's last checkpoint (its origin, its signature), co-signed by the new key.
    cp = openCheckpoint(found!.note, a.previousVkey);
    verifyNote(found!.note, a.vkey);
  } catch (e) {
    if (e instanceof NoteError || e instanceof VerificationError) refuse(`the checkpoint of size ${size}: ${e.message}`);
    throw e;
  }
  if (cp.size !== size) refuse(`the checkpoint served for size ${size} is of size ${cp.size}`);
  const proof = (await source.inclusion(a.index, size)).map(fromB64);
  if (!verifyInclusion(leafHash(a.bytes), a.index, size, proof, cp!.rootHash))
    refuse(`the announcing entry is not included in the checkpoint of size ${size}`);
  return size;
}
