/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and tlog checkpoints
 * (c2sp.org/tlog-checkpoint) as their body. Parsing is strict: anything not exactly in the
 * format is rejected with a NoteError saying what is wrong.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

export type NoteErrorCode = 'malformed-key' | 'malformed-note' | 'malformed-checkpoint' | 'unverified' | 'bad-signature';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions: string[];
}

export interface NoteVerifier {
  name: string;
  keyId: number;
  publicKey: Uint8Array;
}

export interface NoteKey {
  name: string;
  /** base64 of the PKCS#8 DER encoding: what gets stored. */
  privateKey: string;
  /** raw 32-byte Ed25519 public key (RFC 8032). */
  publicKey: Uint8Array;
  vkey: string;
}

const ED25519_TYPE = 0x01;
const EM_DASH_PREFIX = '\u2014 ';
/** The spec requires accepting at least 16; the Go implementation stops at 100. */
const MAX_SIGNATURES = 100;
const HASH_SIZE = 32;

const utf8 = new TextEncoder();

function fail(code: NoteErrorCode, message: string): never {
  throw new NoteError(code, message);
}

// ---------------------------------------------------------------------------------------------
// Encodings

/** Standard base64 (RFC 4648 §4), canonical only: padding and unused bits must be exact. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined;
}

const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const hex32 = (n: number): string => n.toString(16).padStart(8, '0');

/** Key names: non-empty, no Unicode spaces, no '+', and (being on one line) no control characters. */
export function isValidKeyName(name: string): boolean {
  return /^[^\s+\p{Cc}]+$/u.test(name);
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) fail('malformed-key', `invalid key name ${JSON.stringify(name)}`);
}

/** Only newline may appear below U+0020 in a note. */
const hasForbiddenControl = (text: string): boolean => /[\x00-\x09\x0b-\x1f]/.test(text);

// ---------------------------------------------------------------------------------------------
// Keys

/** key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian uint32. */
export function keyId(name: string, publicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name).update(Uint8Array.of(0x0a, ED25519_TYPE)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(x ?? '', 'base64url'));
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

function privateKeyObject(key: KeyObject | string): KeyObject {
  const object =
    typeof key === 'string' ? createPrivateKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'pkcs8' }) : key;
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519') {
    fail('malformed-key', 'note keys must be Ed25519 private keys');
  }
  return object;
}

export function verifierKey(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  if (publicKey.length !== 32) fail('malformed-key', 'an Ed25519 public key is 32 bytes');
  return `${name}+${hex32(keyId(name, publicKey))}+${encodeBase64(Uint8Array.of(ED25519_TYPE, ...publicKey))}`;
}

/** `name+hexkeyid+base64(0x01 || key)`; the key ID must match the name and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const match = /^([^+]*)\+([0-9a-f]{8})\+(.*)$/s.exec(vkey);
  if (!match) fail('malformed-key', 'a vkey is name+8 lowercase hex digits+base64 key');
  const [, name = '', idHex = '', material = ''] = match;
  assertKeyName(name);
  const bytes = decodeBase64(material);
  if (!bytes || bytes.length !== 33 || bytes[0] !== ED25519_TYPE) {
    fail('malformed-key', 'vkey material must be base64 of 0x01 || 32-byte Ed25519 public key');
  }
  const publicKey = bytes.subarray(1);
  const id = Number.parseInt(idHex, 16);
  if (id !== keyId(name, publicKey)) fail('malformed-key', `vkey key ID ${idHex} does not match its name and key`);
  return { name, keyId: id, publicKey };
}

/** Loads a stored key (base64 PKCS#8 or a KeyObject) and derives its public parts. */
export function noteKeyFromPrivate(name: string, privateKey: KeyObject | string): NoteKey {
  const key = privateKeyObject(privateKey);
  const publicKey = rawPublicKey(key);
  return {
    name,
    privateKey: key.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey,
    vkey: verifierKey(name, publicKey),
  };
}

export function generateNoteKey(name: string): NoteKey {
  return noteKeyFromPrivate(name, generateKeyPairSync('ed25519').privateKey);
}

// ---------------------------------------------------------------------------------------------
// Notes

function assertNoteText(text: string): void {
  if (!text.endsWith('\n')) fail('malformed-note', 'note text must end with a newline');
  if (hasForbiddenControl(text)) fail('malformed-note', 'note text contains a control character');
}

type NoteSigner = { name: string; privateKey: KeyObject | string };

/**
 * body + blank line + one "— name base64(keyid || signature)\n" line per signer, in order
 * (a note may carry several signatures: a key rotation's last checkpoint is co-signed).
 */
export function signNote(body: string, signer: NoteSigner, ...cosigners: NoteSigner[]): string {
  assertNoteText(body);
  const lines = [signer, ...cosigners].map((s) => {
    assertKeyName(s.name);
    const key = privateKeyObject(s.privateKey);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(keyId(s.name, rawPublicKey(key)));
    const signature = sign(null, utf8.encode(body), key);
    return `${EM_DASH_PREFIX}${s.name} ${encodeBase64(Buffer.concat([id, signature]))}\n`;
  });
  return `${body}\n${lines.join('')}`;
}

export interface SignatureLine {
  name: string;
  keyId: number;
  signature: Uint8Array;
}

function parseSignatureLine(line: string): SignatureLine {
  if (!line.startsWith(EM_DASH_PREFIX)) fail('malformed-note', `signature line must start with "— ": ${line}`);
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = rest.slice(0, space);
  const bytes = decodeBase64(rest.slice(space + 1));
  if (space < 0 || !isValidKeyName(name) || !bytes || bytes.length < 5) {
    fail('malformed-note', `malformed signature line: ${line}`);
  }
  return { name, keyId: Buffer.from(bytes).readUInt32BE(0), signature: bytes.subarray(4) };
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    fail('malformed-note', 'note is not valid UTF-8');
  }
}

/** Splits at the last blank line into the signed text and its signature lines (verifying none). */
export function splitNote(note: string): { text: string; signatures: SignatureLine[] } {
  if (hasForbiddenControl(note)) fail('malformed-note', 'note contains a control character');
  const blank = note.lastIndexOf('\n\n');
  if (blank < 0) fail('malformed-note', 'note has no blank line before its signatures');
  const block = note.slice(blank + 2);
  if (!block.endsWith('\n')) fail('malformed-note', 'note must end with a newline after its signatures');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) fail('malformed-note', `note has more than ${MAX_SIGNATURES} signatures`);
  return { text: note.slice(0, blank + 1), signatures: lines.map(parseSignatureLine) };
}

/**
 * Verifies the note's signature(s) by the vkey (matched by name AND key ID; other signatures
 * are ignored as the spec requires) and returns the signed text.
 */
export function verifyNote(note: string | Uint8Array, vkey: string | NoteVerifier): string {
  const verifier = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  const { text, signatures } = splitNote(decodeNote(note));
  const ours = signatures.filter((s) => s.name === verifier.name && s.keyId === verifier.keyId);
  const keyLabel = `${verifier.name}+${hex32(verifier.keyId)}`;
  if (ours.length === 0) fail('unverified', `note has no signature by key ${keyLabel}`);
  const key = publicKeyObject(verifier.publicKey);
  for (const s of ours) {
    if (!verify(null, utf8.encode(text), key, s.signature)) {
      fail('bad-signature', `signature by key ${keyLabel} does not verify`);
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

export function formatCheckpoint(checkpoint: {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: string[];
}): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  const lines = [origin, ...extensions];
  if (lines.some((l) => l === '' || l.includes('\n') || hasForbiddenControl(l))) {
    fail('malformed-checkpoint', 'origin and extension lines must be non-empty single lines');
  }
  if (!Number.isSafeInteger(size) || size < 0) fail('malformed-checkpoint', `invalid tree size ${size}`);
  if (rootHash.length !== HASH_SIZE) fail('malformed-checkpoint', 'root hash must be 32 bytes');
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) fail('malformed-checkpoint', 'checkpoint must end with a newline');
  const [origin = '', sizeText = '', rootText = '', ...extensions] = text.slice(0, -1).split('\n');
  if ([origin, sizeText, rootText, ...extensions].some((l) => l === '')) {
    fail('malformed-checkpoint', 'checkpoint needs origin, size and root hash lines, and no empty lines');
  }
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail('malformed-checkpoint', `non-canonical tree size "${sizeText}"`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) fail('malformed-checkpoint', `tree size ${sizeText} exceeds 2^53 - 1`);
  const rootHash = decodeBase64(rootText);
  if (rootHash?.length !== HASH_SIZE) fail('malformed-checkpoint', 'root hash must be canonical base64 of 32 bytes');
  return { origin, size, rootHash, extensions };
}

/** Verifies a signed checkpoint by the vkey and parses its body. */
export function openNote(note: string | Uint8Array, vkey: string | NoteVerifier): Checkpoint {
  return parseCheckpoint(verifyNote(note, vkey));
}
