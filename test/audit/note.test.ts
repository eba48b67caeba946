import { describe, it, expect } from 'vitest';
import {
  NoteError,
  formatCheckpoint,
  generateNoteKey,
  keyId,
  noteKeyFromPrivate,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
  type NoteErrorCode,
} from '../../server/audit/note.js';

const ORIGIN = 'meetplane.example/audit';
const ROOT = new Uint8Array(32).map((_, i) => i * 7);
const ROOT_B64 = Buffer.from(ROOT).toString('base64');

function expectNoteError(run: () => unknown, code: NoteErrorCode): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NoteError);
    expect((error as NoteError).code).toBe(code);
    return;
  }
  expect.fail(`expected a NoteError ${code}`);
}

/** A signed note around an arbitrary body, to reach the checkpoint parser through openNote. */
const key = generateNoteKey(ORIGIN);
const signed = (body: string): string => signNote(body, key);

describe('signed-note spec examples (c2sp.org/signed-note)', () => {
  const vkey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const note =
    'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

  it('computes the example key ID from the name and public key', () => {
    const verifier = parseVerifierKey(vkey);
    expect(verifier.name).toBe('example.com/foo');
    expect(verifier.keyId).toBe(0x530d903a);
    expect(keyId('example.com/foo', verifier.publicKey)).toBe(0x530d903a);
    expect(verifierKey(verifier.name, verifier.publicKey)).toBe(vkey);
  });

  it('verifies the example note', () => {
    expect(verifyNote(note, vkey)).toBe('This is an example message.\n');
    expect(verifyNote(new TextEncoder().encode(note), vkey)).toBe('This is an example message.\n');
  });

  it('rejects the example note once its text changes', () => {
    expectNoteError(() => verifyNote(note.replace('example', 'sample'), vkey), 'bad-signature');
  });

  it('is not a checkpoint', () => {
    expectNoteError(() => openNote(note, vkey), 'malformed-checkpoint');
  });

  it('parses the tlog-checkpoint example body', () => {
    const body = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
    const checkpoint = parseCheckpoint(body);
    expect(checkpoint).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, extensions: [] });
    expect(formatCheckpoint(checkpoint)).toBe(body);
  });
});

describe('checkpoints signed with our keys', () => {
  const body = formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: ROOT });

  it('formats the body and the signature line exactly', () => {
    expect(body).toBe(`${ORIGIN}\n8\n${ROOT_B64}\n`);
    expect(signed(body)).toMatch(/^meetplane\.example\/audit\n8\n\S+\n\n\u2014 meetplane\.example\/audit [A-Za-z0-9+/]{91}=\n$/);
    expect(key.vkey).toMatch(/^meetplane\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
  });

  it('round trips, with extensions too', () => {
    expect(openNote(signed(body), key.vkey)).toEqual({ origin: ORIGIN, size: 8, rootHash: ROOT, extensions: [] });
    const withExt = formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: ROOT, extensions: ['ext one'] });
    expect(openNote(signed(withExt), key.vkey).extensions).toEqual(['ext one']);
  });

  it('reloads a stored private key to the same vkey', () => {
    const reloaded = noteKeyFromPrivate(ORIGIN, key.privateKey);
    expect(reloaded.vkey).toBe(key.vkey);
    expect(openNote(signNote(body, reloaded), key.vkey).size).toBe(8);
  });

  it('ignores signatures by other keys', () => {
    const witness = generateNoteKey('witness.example/w1');
    const cosigned = `${signed(body)}${signNote(body, witness).split('\n\n')[1]}`;
    expect(openNote(cosigned, key.vkey).size).toBe(8);
    expect(openNote(cosigned, witness.vkey).size).toBe(8);
  });

  it('signs with several keys at once, each signature verifying on its own', () => {
    const next = generateNoteKey('next.example/audit');
    const both = signNote(body, key, next);
    expect(both.split('\n').filter((l) => l.startsWith('\u2014 '))).toHaveLength(2);
    expect(both.startsWith(signed(body))).toBe(true);
    expect(openNote(both, key.vkey).size).toBe(8);
    expect(verifyNote(both, next.vkey)).toBe(body);
  });

  it('rejects a tampered body', () => {
    expectNoteError(() => openNote(signed(body).replace('\n8\n', '\n9\n'), key.vkey), 'bad-signature');
  });

  it('rejects a tampered signature', () => {
    const note = signed(body);
    const sig = note.slice(note.lastIndexOf(' ') + 1, -1);
    const bytes = Buffer.from(sig, 'base64');
    bytes[10]! ^= 1; // inside the Ed25519 signature
    expectNoteError(() => openNote(note.replace(sig, bytes.toString('base64')), key.vkey), 'bad-signature');
    bytes[0]! ^= 1; // inside the key ID: no longer our key's signature
    expectNoteError(() => openNote(note.replace(sig, bytes.toString('base64')), key.vkey), 'unverified');
  });

  it('rejects a note signed by another key with the same name', () => {
    const other = generateNoteKey(ORIGIN);
    expectNoteError(() => openNote(signNote(body, other), key.vkey), 'unverified');
    // Same name and key ID but another public key: the signature is checked and fails.
    const impostor = { ...parseVerifierKey(key.vkey), publicKey: other.publicKey };
    expectNoteError(() => openNote(signed(body), impostor), 'bad-signature');
  });

  it('rejects a vkey with another key name', () => {
    expectNoteError(() => openNote(signed(body), verifierKey('other.example/audit', key.publicKey)), 'unverified');
  });
});

describe('strict parsing', () => {
  it.each([
    ['no trailing newline', (n: string) => n.slice(0, -1)],
    ['no blank line', (n: string) => n.replace('\n\n', '\n')],
    ['hyphen instead of em dash', (n: string) => n.replace('\u2014', '-')],
    ['signature line without base64', (n: string) => n.replace(/ \S+\n$/, '\n')],
    ['bad base64 in signature', (n: string) => n.replace(/ (\S+)\n$/, ' $1!\n')],
    ['too short signature', (n: string) => n.replace(/ (\S+)\n$/, ' AAAAAA==\n')],
    ['control character', (n: string) => n.replace(ORIGIN, `${ORIGIN}\t`)],
    ['carriage returns', (n: string) => n.replaceAll('\n', '\r\n')],
  ])('rejects a note with %s', (_name, mangle) => {
    const note = signed(formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: ROOT }));
    expectNoteError(() => openNote(mangle(note), key.vkey), 'malformed-note');
  });

  it('rejects invalid UTF-8', () => {
    expectNoteError(() => verifyNote(Uint8Array.of(0xff, 0x0a, 0x0a), key.vkey), 'malformed-note');
  });

  it.each([
    ['leading zero size', `${ORIGIN}\n08\n${ROOT_B64}\n`],
    ['signed size', `${ORIGIN}\n+8\n${ROOT_B64}\n`],
    ['decimal size', `${ORIGIN}\n8.0\n${ROOT_B64}\n`],
    ['size beyond 2^53', `${ORIGIN}\n18446744073709551615\n${ROOT_B64}\n`],
    ['short root', `${ORIGIN}\n8\n${Buffer.from(ROOT.subarray(1)).toString('base64')}\n`],
    ['unpadded root', `${ORIGIN}\n8\n${ROOT_B64.replace(/=+$/, '')}\n`],
    ['non-canonical base64 bits', `${ORIGIN}\n8\n${ROOT_B64.replace(/.=$/, 'B=')}\n`],
    ['missing root line', `${ORIGIN}\n8\n`],
    ['empty extension line', `${ORIGIN}\n8\n${ROOT_B64}\n\next\n`],
    ['empty origin', `\n8\n${ROOT_B64}\n`],
  ])('rejects a checkpoint with %s', (_name, body) => {
    expectNoteError(() => openNote(signed(body), key.vkey), 'malformed-checkpoint');
  });

  it.each([
    ['wrong key ID', key.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')],
    // The spec's example key: its ID has letters (a random key's may be all digits, which upper case leaves alone).
    ['uppercase key ID', 'example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['missing key ID', key.vkey.replace(/\+[0-9a-f]{8}/, '')],
    // Built from its parts: the key's base64 may itself end in '+' (one random key in 64), which a replace of the last part misses.
    ['wrong signature type', `${/^[^+]+\+[0-9a-f]{8}\+/.exec(key.vkey)![0]}${Buffer.from([0x02, ...key.publicKey]).toString('base64')}`],
    ['space in name', `a b${key.vkey.slice(ORIGIN.length)}`],
  ])('rejects a vkey with %s', (_name, vkey) => {
    expectNoteError(() => parseVerifierKey(vkey), 'malformed-key');
  });

  it('refuses to sign bodies or names that would not parse', () => {
    expectNoteError(() => signNote('no newline', key), 'malformed-note');
    expectNoteError(() => signNote('body\n', { ...key, name: 'a+b' }), 'malformed-key');
    expectNoteError(() => formatCheckpoint({ origin: ORIGIN, size: -1, rootHash: ROOT }), 'malformed-checkpoint');
    expectNoteError(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: ROOT }), 'malformed-checkpoint');
    expectNoteError(() => formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT.subarray(1) }), 'malformed-checkpoint');
  });
});
