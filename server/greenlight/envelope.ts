// ActiveSupport::MessageEncryptor as Greenlight v3's migration API uses it:
// `MessageEncryptor.new(secret_key_base[0..31], cipher: 'aes-256-gcm',
// serializer: Marshal)` and `decrypt_and_verify` (Rails 7.2). The message is
// "base64(ciphertext)--base64(iv)--base64(auth_tag)", strict base64, a 12-byte
// IV, a 16-byte tag and empty associated data.
//
// What is encrypted is the metadata envelope Greenlight v2's migration task
// produces with `encrypt_and_sign(params, expires_in: 10.seconds)`: the JSON
// `{"_rails":{"message":base64(Marshal(params)),"exp":iso8601(3),"pur":null}}`.
// Rails 7.2 still reads this "dual serialized" envelope (it recognises it by that
// exact prefix), and so does ActiveSupport 6.1; the newer envelope (Marshal of
// {"_rails"=>{"data"=>...}}) is read by 7.x only, so it is decrypted here (a peer
// may send it) but never produced.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { marshalDump, marshalLoad, RubyHash, type RubyValue } from './marshal.js';

/** The expiry Greenlight v2's migration task sets on every message. */
export const MIGRATION_EXPIRY_SECONDS = 10;

const SEPARATOR = '--';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const LEGACY_PREFIX = '{"_rails":{"message":';

/** ActiveSupport::MessageEncryptor::InvalidMessage: wrong key, tampered or malformed message. */
export class InvalidMessage extends Error {
  override name = 'InvalidMessage';
}

/** The AES key Greenlight derives: the first 32 characters of SECRET_KEY_BASE, taken as bytes. */
export function migrationKey(secretKeyBase: string): Buffer {
  const chars = [...secretKeyBase].slice(0, 32).join('');
  const key = Buffer.from(chars, 'utf8');
  // Ruby slices characters, OpenSSL wants 32 bytes: a shorter or non-ASCII start makes Greenlight fail with a 500.
  if ([...secretKeyBase].length < 32 || key.length !== 32) throw new RangeError('SECRET_KEY_BASE must start with at least 32 ASCII characters');
  return key;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64.strict_decode64: padding required, no whitespace or other characters. */
function strictDecode(text: string): Buffer {
  if (!STRICT_BASE64.test(text)) throw new InvalidMessage('invalid base64');
  return Buffer.from(text, 'base64');
}

export interface EncryptOptions {
  /** The time at the target when the message is made (local time corrected for the target's clock skew). */
  now?: Date;
  expiresInSeconds?: number;
}

/** `encrypt_and_sign(value, expires_in: 10.seconds)` as Greenlight v2's migration task calls it. */
export function encryptAndSign(value: RubyValue, secretKeyBase: string, options: EncryptOptions = {}): string {
  const now = options.now ?? new Date();
  const expires = new Date(now.getTime() + 1000 * (options.expiresInSeconds ?? MIGRATION_EXPIRY_SECONDS));
  // Key order matters: Rails recognises this envelope by its first characters.
  const envelope = JSON.stringify({ _rails: { message: Buffer.from(marshalDump(value)).toString('base64'), exp: expires.toISOString(), pur: null } });
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', migrationKey(secretKeyBase), iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.alloc(0));
  const data = Buffer.concat([cipher.update(envelope, 'utf8'), cipher.final()]);
  return [data, iv, cipher.getAuthTag()].map((part) => part.toString('base64')).join(SEPARATOR);
}

const encodedLength = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** MessageEncryptor#extract_parts: the tag and IV have fixed encoded lengths, counted from the end. */
function extractParts(message: string): [Buffer, Buffer, Buffer] {
  let end = message.length;
  const part = (length: number): string => {
    const start = end - length;
    if (start < SEPARATOR.length || message.slice(start - SEPARATOR.length, start) !== SEPARATOR) throw new InvalidMessage('missing separator');
    const text = message.slice(start, end);
    end = start - SEPARATOR.length;
    return text;
  };
  const tag = part(encodedLength(TAG_LENGTH));
  const iv = part(encodedLength(IV_LENGTH));
  return [strictDecode(message.slice(0, end)), strictDecode(iv), strictDecode(tag)];
}

export interface DecryptOptions {
  /** The receiver's clock. */
  now?: Date;
}

/**
 * `decrypt_and_verify` of Rails 7.2: the value, or null when the envelope has
 * expired or names a purpose (Rails ignores such content and answers nil);
 * InvalidMessage for a wrong key, a tampered or malformed message.
 */
export function decryptAndVerify(message: string, secretKeyBase: string, options: DecryptOptions = {}): RubyValue | null {
  const now = options.now ?? new Date();
  const [data, iv, tag] = extractParts(message);
  if (iv.length !== IV_LENGTH || tag.length !== TAG_LENGTH) throw new InvalidMessage('truncated iv or auth_tag');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', migrationKey(secretKeyBase), iv, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(tag);
    decipher.setAAD(Buffer.alloc(0));
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new InvalidMessage('the message cannot be decrypted with this key');
  }
  const load = (bytes: Uint8Array): RubyValue => {
    try {
      return marshalLoad(bytes);
    } catch (err) {
      throw new InvalidMessage(`the message does not hold Marshal data: ${(err as Error).message}`);
    }
  };
  // Metadata#extract_from_metadata_envelope: expired at or after "exp"; "pur" must be empty (no purpose asked).
  const fresh = (exp: unknown, pur: unknown): boolean => {
    if (exp !== null && exp !== undefined) {
      const at = typeof exp === 'string' ? Date.parse(exp) : NaN;
      if (Number.isNaN(at)) throw new InvalidMessage('unreadable expiry');
      if (now.getTime() >= at) return false;
    }
    return pur === null || pur === undefined || pur === '';
  };
  if (plain.subarray(0, LEGACY_PREFIX.length).toString('latin1') === LEGACY_PREFIX) {
    let envelope: { _rails?: { message?: unknown; exp?: unknown; pur?: unknown } };
    try {
      envelope = JSON.parse(plain.toString('utf8')) as typeof envelope;
    } catch {
      throw new InvalidMessage('unreadable metadata envelope');
    }
    const meta = envelope._rails ?? {};
    if (!fresh(meta.exp, meta.pur)) return null;
    if (typeof meta.message !== 'string') throw new InvalidMessage('envelope without a message');
    return load(strictDecode(meta.message));
  }
  const value = load(plain);
  if (value instanceof RubyHash && value.entries.some(([k]) => k === '_rails')) {
    const meta = value.get('_rails');
    if (!(meta instanceof RubyHash)) throw new InvalidMessage('bad metadata envelope');
    if (!fresh(meta.get('exp'), meta.get('pur'))) return null;
    return meta.get('data') ?? null;
  }
  return value;
}
