// The entry announcing a rotation of the log's key: written by the server
// (rotation.ts), read by verifiers (cli/audit/rotations.ts). Pure: no database
// code, so the verifier may import it.
import { parseVerifierKey } from './note.js';

export const ROTATE_ACTION = 'audit.key.rotate';

export interface KeyAnnouncement {
  /** The entry's index; the old key's last checkpoint has size index + 1. */
  index: number;
  previousOrigin: string;
  previousVkey: string;
  origin: string;
  vkey: string;
}

/** Reads an announcement from an entry's canonical bytes; throws saying what is wrong. */
export function parseAnnouncement(bytes: Uint8Array): KeyAnnouncement {
  const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as { index?: unknown; action?: unknown; details?: Record<string, unknown> };
  if (json.action !== ROTATE_ACTION) throw new Error(`entry ${String(json.index)} is not a key rotation`);
  const d = json.details ?? {};
  const field = (k: string) => {
    if (typeof d[k] !== 'string') throw new Error(`key rotation entry ${String(json.index)} has no ${k}`);
    return d[k] as string;
  };
  const a = { index: Number(json.index), previousOrigin: field('previousOrigin'), previousVkey: field('previousVkey'), origin: field('origin'), vkey: field('vkey') };
  if (!Number.isSafeInteger(a.index) || a.index < 0) throw new Error('key rotation entry has no index');
  // Each key's name is its log's origin (the checkpoint's first line).
  if (parseVerifierKey(a.vkey).name !== a.origin || parseVerifierKey(a.previousVkey).name !== a.previousOrigin)
    throw new Error(`key rotation entry ${a.index} names keys that do not match their origins`);
  return a;
}
