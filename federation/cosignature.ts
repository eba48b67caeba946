// C2SP tlog-cosignature, the Ed25519 type (cosignature/v1): a witness's timestamped signature
// over a checkpoint it found consistent with everything it saw of that log before. A cosignature
// is a signed-note signature line, so it is appended to the log's own checkpoint note.
// Pure: the witness signs with it, and `meetplane audit verify --witnesses` checks with it offline.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isValidKeyName, NoteError, splitNote } from '../server/audit/note.js';

/** The vkey signature type of Ed25519 cosignatures (tlog-cosignature §Format). */
export const COSIGNATURE_V1_TYPE = 0x04;
const HEADER = 'cosignature/v1\n';
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export interface Cosigner {
  name: string;
  keyId: number;
  /** raw 32-byte Ed25519 public key */
  publicKey: Uint8Array;
}

export interface Cosignature {
  name: string;
  keyId: number;
  /** POSIX seconds at which the witness signed */
  time: number;
}

const fail = (message: string, code: 'malformed-key' | 'malformed-note' | 'bad-signature' = 'malformed-key'): never => {
  throw new NoteError(code, message);
};
const hex32 = (n: number) => n.toString(16).padStart(8, '0');

/** SHA-256(name || "\n" || 0x04 || public key)[:4], big-endian. */
export function cosignerKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256').update(name).update(Uint8Array.of(0x0a, COSIGNATURE_V1_TYPE)).update(publicKey).digest().readUInt32BE(0);
}

export function cosignerVkey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) fail(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== 32) fail('an Ed25519 public key is 32 bytes');
  return `${name}+${hex32(cosignerKeyId(name, publicKey))}+${Buffer.from(Uint8Array.of(COSIGNATURE_V1_TYPE, ...publicKey)).toString('base64')}`;
}

/** `name+hexkeyid+base64(0x04 || key)`: a witness's cosignature/v1 verifier key. */
export function parseCosignerVkey(vkey: string): Cosigner {
  const match = /^([^+]*)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(vkey);
  if (!match || !isValidKeyName(match[1]!)) fail('a witness vkey is name+8 lowercase hex digits+base64 key');
  const [, name, idHex, material] = match as unknown as [string, string, string, string];
  const bytes = Buffer.from(material, 'base64');
  if (bytes.toString('base64') !== material || bytes.length !== 33 || bytes[0] !== COSIGNATURE_V1_TYPE) {
    fail('witness vkey material must be base64 of 0x04 || 32-byte Ed25519 public key (cosignature/v1)');
  }
  const publicKey = new Uint8Array(bytes.subarray(1));
  const keyId = Number.parseInt(idHex, 16);
  if (keyId !== cosignerKeyId(name, publicKey)) fail(`witness vkey key ID ${idHex} does not match its name and key`);
  return { name, keyId, publicKey };
}

/** "cosignature/v1\ntime <t>\n" followed by the checkpoint body (with its final newline). */
export function cosignedMessage(body: string, time: number): Uint8Array {
  if (!Number.isSafeInteger(time) || time < 0) fail(`invalid cosignature time ${time}`, 'malformed-note');
  return new TextEncoder().encode(`${HEADER}time ${time}\n${body}`);
}

/** The signature line "— name base64(key ID || u64 time || signature)\n" over a checkpoint body. */
export function signCosignature(body: string, key: { name: string; privateKey: KeyObject | string }, time: number): string {
  const privateKey = typeof key.privateKey === 'string' ? createPrivateKey({ key: Buffer.from(key.privateKey, 'base64'), format: 'der', type: 'pkcs8' }) : key.privateKey;
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(x ?? '', 'base64url'));
  const head = Buffer.alloc(12);
  head.writeUInt32BE(cosignerKeyId(key.name, publicKey), 0);
  head.writeBigUInt64BE(BigInt(time), 4);
  const signature = sign(null, cosignedMessage(body, time), privateKey);
  return `\u2014 ${key.name} ${Buffer.concat([head, signature]).toString('base64')}\n`;
}

/**
 * The valid cosignatures on a note by the given cosigners (matched by name AND key ID; other
 * signature lines, the log's own included, are ignored). A line that matches a cosigner but
 * does not verify makes the note malformed, as signed-note says: that throws.
 */
export function verifyCosignatures(note: string, cosigners: readonly Cosigner[]): Cosignature[] {
  const { text, signatures } = splitNote(note);
  const found: Cosignature[] = [];
  for (const c of cosigners) {
    for (const s of signatures.filter((l) => l.name === c.name && l.keyId === c.keyId)) {
      const label = `${c.name}+${hex32(c.keyId)}`;
      if (s.signature.length !== 8 + 64) fail(`cosignature by ${label} is not a timestamp and an Ed25519 signature`, 'bad-signature');
      const stamp = Buffer.from(s.signature).readBigUInt64BE(0);
      if (stamp > MAX_TIMESTAMP || stamp > BigInt(Number.MAX_SAFE_INTEGER)) fail(`cosignature by ${label} has an impossible time`, 'bad-signature');
      const time = Number(stamp);
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(c.publicKey).toString('base64url') }, format: 'jwk' });
      if (!verify(null, cosignedMessage(text, time), key, s.signature.subarray(8))) fail(`cosignature by ${label} does not verify`, 'bad-signature');
      found.push({ name: c.name, keyId: c.keyId, time });
    }
  }
  return found;
}
