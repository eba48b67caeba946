import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cosignerKeyId, cosignerVkey, cosignedMessage, parseCosignerVkey, signCosignature, verifyCosignatures } from '../../federation/cosignature.js';
import { checkQuorum, parseWitnessPolicy, WitnessPolicyError } from '../../federation/witness-policy.js';
import { formatCheckpoint, generateNoteKey, signNote } from '../../server/audit/note.js';

const log = generateNoteKey('example.com/log');
const body = formatCheckpoint({ origin: 'example.com/log', size: 5, rootHash: new Uint8Array(32).fill(7) });
const note = signNote(body, log);

function witness(name: string) {
  const key = generateNoteKey(name);
  return { key, vkey: cosignerVkey(name, key.publicKey), cosigner: parseCosignerVkey(cosignerVkey(name, key.publicKey)) };
}

describe('cosignature/v1', () => {
  it('signs a line whose payload is key ID, big-endian time and an Ed25519 signature over the spec message', () => {
    const w = witness('witness.example/w1');
    const line = signCosignature(body, w.key, 1679315147);
    expect(line).toMatch(/^— witness\.example\/w1 [A-Za-z0-9+/]+=*\n$/);
    const bytes = Buffer.from(line.trim().split(' ')[2]!, 'base64');
    expect(bytes.length).toBe(4 + 8 + 64);
    expect(bytes.readUInt32BE(0)).toBe(cosignerKeyId('witness.example/w1', w.key.publicKey));
    expect(bytes.readBigUInt64BE(4)).toBe(1679315147n);
    const message = `cosignature/v1\ntime 1679315147\n${body}`;
    expect(Buffer.from(cosignedMessage(body, 1679315147)).toString()).toBe(message);
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(w.key.publicKey).toString('base64url') }, format: 'jwk' });
    expect(verify(null, Buffer.from(message), pub, bytes.subarray(12))).toBe(true);
  });

  it('computes the key ID with the 0x04 type byte, unlike the log key (0x01)', () => {
    const w = witness('witness.example/w1');
    expect(w.vkey.split('+')[1]).not.toBe(w.key.vkey.split('+')[1]);
    expect(Buffer.from(w.vkey.split('+')[2]!, 'base64')[0]).toBe(0x04);
    expect(() => parseCosignerVkey(w.key.vkey)).toThrow(/0x04/);
    expect(() => parseCosignerVkey(w.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(/does not match/);
  });

  it('verifies cosignatures appended to the log note, ignoring unknown keys', () => {
    const [w1, w2, other] = [witness('w1.example/w'), witness('w2.example/w'), witness('other.example/w')];
    const cosigned = note + signCosignature(body, w1.key, 100) + signCosignature(body, other.key, 101);
    expect(verifyCosignatures(cosigned, [w1.cosigner, w2.cosigner])).toEqual([{ name: 'w1.example/w', keyId: w1.cosigner.keyId, time: 100 }]);
  });

  it('refuses a cosignature over another checkpoint, or with its time changed', () => {
    const w = witness('w1.example/w');
    const otherBody = formatCheckpoint({ origin: 'example.com/log', size: 5, rootHash: new Uint8Array(32).fill(8) });
    expect(() => verifyCosignatures(note + signCosignature(otherBody, w.key, 100), [w.cosigner])).toThrow(/does not verify/);
    const line = signCosignature(body, w.key, 100);
    const bytes = Buffer.from(line.trim().split(' ')[2]!, 'base64');
    bytes.writeBigUInt64BE(101n, 4);
    expect(() => verifyCosignatures(`${note}— w1.example/w ${bytes.toString('base64')}\n`, [w.cosigner])).toThrow(/does not verify/);
  });
});

describe('witness policy (tlog-policy)', () => {
  const [a, b, c, stranger] = [witness('a.example/w'), witness('b.example/w'), witness('c.example/w'), witness('d.example/w')];
  const policy = parseWitnessPolicy(`# two of three\nlog ${log.vkey}\nwitness A ${a.vkey}\nwitness B ${b.vkey} https://b.example/\nwitness C ${c.vkey}\ngroup peers 2 A B C\nquorum peers\n`);

  it('meets the quorum with n valid cosignatures, not with n-1 or one by an unlisted key', () => {
    const withA = note + signCosignature(body, a.key, 1);
    expect(checkQuorum(policy, withA + signCosignature(body, c.key, 2))).toEqual({ cosigned: ['A', 'C'], ok: true });
    expect(checkQuorum(policy, withA)).toEqual({ cosigned: ['A'], ok: false });
    expect(checkQuorum(policy, withA + signCosignature(body, stranger.key, 2))).toEqual({ cosigned: ['A'], ok: false });
  });

  it('understands all, any, nested groups and quorum none', () => {
    const nested = parseWitnessPolicy(`witness A ${a.vkey}\nwitness B ${b.vkey}\nwitness C ${c.vkey}\ngroup x all A B\ngroup y any C\ngroup q all x y\nquorum q\n`);
    expect(checkQuorum(nested, note + signCosignature(body, a.key, 1) + signCosignature(body, c.key, 1)).ok).toBe(false);
    expect(checkQuorum(nested, note + signCosignature(body, a.key, 1) + signCosignature(body, b.key, 1) + signCosignature(body, c.key, 1)).ok).toBe(true);
    expect(checkQuorum(parseWitnessPolicy('quorum none\n'), note).ok).toBe(true);
  });

  it('refuses malformed policies', () => {
    for (const [text, why] of [
      [`witness A ${a.vkey}\n`, /no quorum/],
      [`quorum A\n`, /defined above/],
      [`witness A ${a.vkey}\nwitness B ${a.vkey.replace('a.example', 'b.example')}\nquorum A\n`, /./],
      [`witness A ${a.vkey}\nwitness A2 ${a.vkey}\nquorum A\n`, /listed twice/],
      [`witness A ${a.vkey}\ngroup g 2 A\nquorum g\n`, /threshold/],
      [`witness A ${log.vkey}\nquorum A\n`, /0x04/],
      [`witness A ${a.vkey}\nquorum A\nquorum A\n`, /only one/],
      [`frobnicate\nquorum none\n`, /unknown line/],
    ] as const) {
      expect(() => parseWitnessPolicy(text), text).toThrow(WitnessPolicyError);
      expect(() => parseWitnessPolicy(text), text).toThrow(why);
    }
  });
});
