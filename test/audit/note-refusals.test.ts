// What the signed-note code says when it refuses (server/audit/note.ts): the
// auditor reads these words from `meetplane audit verify`, so each malformed
// note, checkpoint or key gets its own, and the edges (5-byte signatures, 100
// signatures, a byte-order mark) are where the spec puts them.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, generateNoteKey, keyId, NoteError, noteKeyFromPrivate, openNote, parseCheckpoint, parseVerifierKey, signNote, verifierKey, verifyNote, type NoteErrorCode } from '../../server/audit/note.js';

const ORIGIN = 'meetplane.example/audit';
const ROOT = new Uint8Array(32).map((_, i) => i * 7);
const ROOT_B64 = Buffer.from(ROOT).toString('base64');
const key = generateNoteKey(ORIGIN);
const keyIdHex = key.vkey.split('+')[1]!;
const body = formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: ROOT });
const note = signNote(body, key);

function refusal(run: () => unknown): { code: NoteErrorCode; message: string } {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteError);
    expect((e as NoteError).name).toBe('NoteError');
    return { code: (e as NoteError).code, message: (e as NoteError).message };
  }
  throw new Error('expected a refusal');
}

describe('malformed notes', () => {
  it.each<[string, string, string | RegExp]>([
    ['no newline after the signatures', note.slice(0, -1), 'note must end with a newline after its signatures'],
    ['no blank line', note.replace('\n\n', '\n'), 'note has no blank line before its signatures'],
    ['a hyphen for the em dash', note.replace('\u2014', '-'), /^signature line must start with "— ": - /],
    ['a signature line without a key', note.replace(/ \S+\n$/, '\n'), /^malformed signature line: — /],
    ['a tab', note.replace(ORIGIN, `${ORIGIN}\t`), 'note contains a control character'],
    ['carriage returns', note.replaceAll('\n', '\r\n'), 'note contains a control character'],
  ])('%s', (_what, text, message) => {
    const r = refusal(() => verifyNote(text, key.vkey));
    expect(r.code).toBe('malformed-note');
    if (typeof message === 'string') expect(r.message).toBe(message);
    else expect(r.message).toMatch(message);
  });

  it('refuses bytes that are not UTF-8, and keeps a byte-order mark as part of the signed text', () => {
    expect(refusal(() => verifyNote(Uint8Array.of(0x61, 0xff, 0x0a, 0x0a), key.vkey))).toEqual({ code: 'malformed-note', message: 'note is not valid UTF-8' });
    const withBom = signNote(`\ufeff${body}`, key);
    expect(verifyNote(new TextEncoder().encode(withBom), key.vkey)).toBe(`\ufeff${body}`);
  });

  it('refuses a signature line with no key name before the signature', () => {
    // Without the space the whole rest would read as a name and a signature at once.
    const r = refusal(() => verifyNote(`${body}\n\u2014 AAAAAAAAAAAA\n`, key.vkey));
    expect(r).toEqual({ code: 'malformed-note', message: 'malformed signature line: \u2014 AAAAAAAAAAAA' });
  });

  it('reads a signature of 5 bytes (key ID and one byte) but not of 4', () => {
    const id = Buffer.from(keyIdHex, 'hex');
    const line = (bytes: Buffer) => `${body}\n\u2014 ${ORIGIN} ${bytes.toString('base64')}\n`;
    expect(refusal(() => verifyNote(line(id), key.vkey))).toMatchObject({ code: 'malformed-note', message: expect.stringMatching(/^malformed signature line/) });
    expect(refusal(() => verifyNote(line(Buffer.concat([id, Buffer.of(1)])), key.vkey))).toEqual({ code: 'bad-signature', message: `signature by key ${ORIGIN}+${keyIdHex} does not verify` });
  });

  it('takes up to 100 signatures, not 101', () => {
    const others = Array.from({ length: 99 }, (_, i) => generateNoteKey(`witness-${i}`));
    const hundred = signNote(body, key, ...others);
    expect(verifyNote(hundred, key.vkey)).toBe(body);
    const more = signNote(body, key, ...others, generateNoteKey('one-too-many'));
    expect(refusal(() => verifyNote(more, key.vkey))).toEqual({ code: 'malformed-note', message: 'note has more than 100 signatures' });
  });

  it('ignores a signature carrying the pinned key ID under another name', () => {
    // The spec matches signatures by name and key ID; a line renamed after signing is no longer ours.
    const renamed = note.replace(`\u2014 ${ORIGIN} `, '\u2014 other.example/audit ');
    expect(refusal(() => verifyNote(renamed, key.vkey))).toEqual({ code: 'unverified', message: `note has no signature by key ${ORIGIN}+${keyIdHex}` });
  });

  it('signs and reads a note whose text is one empty line, as the Go implementation does', () => {
    expect(verifyNote(signNote('\n', key), key.vkey)).toBe('\n');
  });

  it('says whose signature is missing', () => {
    const other = generateNoteKey('other.example/audit');
    expect(refusal(() => verifyNote(signNote(body, other), key.vkey))).toEqual({ code: 'unverified', message: `note has no signature by key ${ORIGIN}+${keyIdHex}` });
  });

  it('checks only the signatures by the pinned key, whatever others are there', () => {
    const other = generateNoteKey('other.example/audit');
    const cosigned = signNote(body, other, key);
    expect(verifyNote(cosigned, key.vkey)).toBe(body);
    expect(verifyNote(cosigned, other.vkey)).toBe(body);
  });
});

describe('malformed checkpoints', () => {
  it.each<[string, string, string]>([
    ['no final newline', `${ORIGIN}\n8\n${ROOT_B64}`, 'checkpoint must end with a newline'],
    ['no root line', `${ORIGIN}\n8\n`, 'checkpoint needs origin, size and root hash lines, and no empty lines'],
    ['only an origin line', `${ORIGIN}\n`, 'checkpoint needs origin, size and root hash lines, and no empty lines'],
    ['an empty origin', `\n8\n${ROOT_B64}\n`, 'checkpoint needs origin, size and root hash lines, and no empty lines'],
    ['a leading zero', `${ORIGIN}\n08\n${ROOT_B64}\n`, 'non-canonical tree size "08"'],
    ['a size past 2^53 - 1', `${ORIGIN}\n9007199254740992\n${ROOT_B64}\n`, 'tree size 9007199254740992 exceeds 2^53 - 1'],
    ['a short root', `${ORIGIN}\n8\n${Buffer.from(ROOT.subarray(1)).toString('base64')}\n`, 'root hash must be canonical base64 of 32 bytes'],
  ])('%s', (_what, text, message) => {
    expect(refusal(() => parseCheckpoint(text))).toEqual({ code: 'malformed-checkpoint', message });
  });

  it('reads the largest safe size', () => {
    expect(parseCheckpoint(`${ORIGIN}\n9007199254740991\n${ROOT_B64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseCheckpoint(`${ORIGIN}\n0\n${ROOT_B64}\nextension one\n`)).toMatchObject({ size: 0, extensions: ['extension one'] });
  });

  it('are not written', () => {
    expect(refusal(() => formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT, extensions: ['fine', ''] }))).toEqual({
      code: 'malformed-checkpoint',
      message: 'origin and extension lines must be non-empty single lines',
    });
    expect(refusal(() => formatCheckpoint({ origin: `${ORIGIN}\u0001`, size: 1, rootHash: ROOT }))).toMatchObject({ code: 'malformed-checkpoint' });
    expect(refusal(() => formatCheckpoint({ origin: ORIGIN, size: 1.5, rootHash: ROOT }))).toEqual({ code: 'malformed-checkpoint', message: 'invalid tree size 1.5' });
    expect(refusal(() => formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT.subarray(2) }))).toEqual({ code: 'malformed-checkpoint', message: 'root hash must be 32 bytes' });
    expect(formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: ROOT, extensions: ['x'] })).toBe(`${ORIGIN}\n0\n${ROOT_B64}\nx\n`);
  });

  it('open only through a note that verifies', () => {
    expect(openNote(note, key.vkey)).toMatchObject({ origin: ORIGIN, size: 8 });
  });
});

describe('malformed keys', () => {
  // The material is base64, which may itself hold '+'.
  const material = key.vkey.slice(ORIGIN.length + 1 + 8 + 1);

  it.each<[string, string, string]>([
    ['no key ID', `${ORIGIN}+${material}`, 'a vkey is name+8 lowercase hex digits+base64 key'],
    ['a key ID that does not match', `${ORIGIN}+00000000+${material}`, 'vkey key ID 00000000 does not match its name and key'],
    ['a space in the name', `a b+${keyIdHex}+${material}`, 'invalid key name "a b"'],
    ['no type byte', `${ORIGIN}+${keyIdHex}+${Buffer.from(key.publicKey).toString('base64')}`, 'vkey material must be base64 of 0x01 || 32-byte Ed25519 public key'],
    ['a 33-byte key whose key ID matches it', (() => {
      const long = new Uint8Array(33).fill(9);
      return `${ORIGIN}+${keyId(ORIGIN, long).toString(16).padStart(8, '0')}+${Buffer.from([1, ...long]).toString('base64')}`;
    })(), 'vkey material must be base64 of 0x01 || 32-byte Ed25519 public key'],
    ['another type byte', `${ORIGIN}+${keyIdHex}+${Buffer.from([2, ...key.publicKey]).toString('base64')}`, 'vkey material must be base64 of 0x01 || 32-byte Ed25519 public key'],
    ['material that is not base64', `${ORIGIN}+${keyIdHex}+${material.slice(0, -4)}!!!=`, 'vkey material must be base64 of 0x01 || 32-byte Ed25519 public key'],
  ])('%s', (_what, vkey, message) => {
    expect(refusal(() => parseVerifierKey(vkey))).toEqual({ code: 'malformed-key', message });
  });

  it('are not made from a bad name, a short public key, or a key that is not an Ed25519 private key', () => {
    expect(refusal(() => verifierKey('has space', key.publicKey))).toEqual({ code: 'malformed-key', message: 'invalid key name "has space"' });
    expect(refusal(() => verifierKey(ORIGIN, key.publicKey.subarray(1)))).toEqual({ code: 'malformed-key', message: 'an Ed25519 public key is 32 bytes' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(refusal(() => noteKeyFromPrivate(ORIGIN, ec.privateKey))).toEqual({ code: 'malformed-key', message: 'note keys must be Ed25519 private keys' });
    const ed = generateKeyPairSync('ed25519');
    expect(refusal(() => noteKeyFromPrivate(ORIGIN, ed.publicKey))).toEqual({ code: 'malformed-key', message: 'note keys must be Ed25519 private keys' });
    expect(refusal(() => signNote(body, { name: 'bad name', privateKey: key.privateKey }))).toEqual({ code: 'malformed-key', message: 'invalid key name "bad name"' });
  });

  it('refuses a key name with a control character that is not a space (DEL, NEL)', () => {
    for (const name of ['log\u007f.example', 'log\u0085.example']) {
      expect(refusal(() => verifierKey(name, key.publicKey))).toEqual({ code: 'malformed-key', message: `invalid key name ${JSON.stringify(name)}` });
    }
  });

  it('writes a key ID below 0x10000000 with its leading zero, and reads it back', () => {
    // keyId('log-11.example', 32 × 0x07) is 0x0dcf490c: the vkey must still carry 8 hex digits.
    const publicKey = new Uint8Array(32).fill(7);
    const vkey = verifierKey('log-11.example', publicKey);
    expect(vkey.split('+')[1]).toBe('0dcf490c');
    expect(parseVerifierKey(vkey)).toEqual({ name: 'log-11.example', keyId: 0x0dcf490c, publicKey });
  });

  it('refuses to sign text it would not read back', () => {
    expect(refusal(() => signNote('no newline', key))).toEqual({ code: 'malformed-note', message: 'note text must end with a newline' });
    expect(refusal(() => signNote('tab\there\n', key))).toEqual({ code: 'malformed-note', message: 'note text contains a control character' });
  });
});
