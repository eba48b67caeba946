// Password hashing with node:crypto scrypt. Stored form:
//   scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64url>$<hash, base64url>
// so the parameters travel with each hash and can be raised later (a login
// with an older cost rehashes). Defaults: N = 2^17, r = 8, p = 1, a 16-byte
// salt and a 32-byte key (OWASP's scrypt recommendation; 128 MiB per hash).
// At most two hashes run at once so a burst of logins cannot exhaust memory.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { concurrencyLimit } from './concurrency-limit.js';

export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 17, r: 8, p: 1 };
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;
const KEY_LEN = 32;

/** Every scrypt derivation (hash or verify) goes through this: at most two at once, so a burst of logins cannot exhaust memory. */
export const derivations = concurrencyLimit(2);

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** ln;
  return derivations(
    () =>
      new Promise((resolve, reject) =>
        scrypt(password.normalize('NFC'), salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
      ),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function parseHash(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.ln < 10 || params.ln > 22 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  return { params, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** Constant-time comparison of the derived key; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || password.length > PASSWORD_MAX) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

export function needsRehash(stored: string, params: ScryptParams): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.params.ln < params.ln || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

/** Why a new password is refused, or null when acceptable. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters long`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters long`;
  if (email && password.toLowerCase().includes(email.toLowerCase().split('@')[0]!) && password.length < 20)
    return 'must not contain your e-mail name';
  return null;
}
