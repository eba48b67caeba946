// What a pinned peer's metadata may make this instance do: only its own log, under the key that
// names that log, and only a witness at its own URLs (trusting a peer is no reason to send
// checkpoints wherever it says).
import { describe, expect, it } from 'vitest';
import { witnessingOf } from '../../server/federation/peer-witnessing.js';
import { generateNoteKey } from '../../server/audit/note.js';
import { cosignerVkey } from '../../federation/cosignature.js';

const peer = 'https://peer.example.coop';
const log = generateNoteKey('peer.example.coop/audit');
const w = generateNoteKey('peer.example.coop/witness');
const witnessVkey = cosignerVkey(w.name, w.publicKey);
const meta = (audit_log: unknown, witness: unknown) => ({ meetplane: { audit_log, witness } });
const good = meta({ origin: log.name, verifier_key: log.vkey, tiles_url: `${peer}/api/v1/audit` }, { add_checkpoint_url: `${peer}/witness/add-checkpoint`, vkey: witnessVkey });

describe("a peer's witnessing metadata", () => {
  it('names its log and its witness', () => {
    expect(witnessingOf(peer, good)).toEqual({ log: { origin: log.name, vkey: log.vkey }, witness: { url: `${peer}/witness/add-checkpoint`, vkey: witnessVkey }, notes: [] });
  });

  it('refuses a witness URL outside the peer, and a log key named after another origin', () => {
    for (const url of ['https://elsewhere.example/witness/add-checkpoint', 'https://peer.example.coop.evil.example/witness/add-checkpoint', `${peer}`]) {
      const r = witnessingOf(peer, meta({ origin: log.name, verifier_key: log.vkey }, { add_checkpoint_url: url, vkey: witnessVkey }));
      expect(r.witness).toBeUndefined();
      expect(r.notes).toEqual([`its witness URL ${url} is not under its entity id`]);
    }
    const other = generateNoteKey('other.example/audit');
    const r = witnessingOf(peer, meta({ origin: log.name, verifier_key: other.vkey }, undefined));
    expect(r.log).toBeUndefined();
    expect(r.notes).toEqual([`its audit_log.verifier_key is named other.example/audit, not its origin ${log.name}`, 'its metadata names no witness']);
  });

  it('refuses a witness key of the wrong type (a log key is not a cosignature/v1 key)', () => {
    const r = witnessingOf(peer, meta({ origin: log.name, verifier_key: log.vkey }, { add_checkpoint_url: `${peer}/witness/add-checkpoint`, vkey: w.vkey }));
    expect(r.witness).toBeUndefined();
    expect(r.notes[0]).toMatch(/^its witness\.vkey: .*cosignature\/v1/);
  });

  it('reads metadata without a meetplane part as naming nothing', () => {
    expect(witnessingOf(peer, {})).toEqual({ notes: ['its metadata names no audit log', 'its metadata names no witness'] });
  });
});
