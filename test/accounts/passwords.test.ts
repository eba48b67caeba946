// Password hashing and the rules for new passwords (server/accounts/passwords.ts),
// without a database. A low scrypt cost (2^10) keeps it fast; the stored form
// carries its cost, so verification is the same code at any cost.
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, parseHash, PASSWORD_MAX, PASSWORD_MIN, passwordProblem, verifyPassword } from '../../server/accounts/passwords.js';

const CHEAP = { ln: 10, r: 8, p: 1 };

describe('hashing and verifying', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const stored = await hashPassword('correct horse battery staple', CHEAP);
    expect(stored).toMatch(/^scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('Correct horse battery staple', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash: the same password twice gives two different hashes, both verifying', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here', CHEAP), hashPassword('same password here', CHEAP)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('treats composed and decomposed accents as the same password (NFC)', async () => {
    const composed = 'caf\u00e9 au lait tous les jours';
    const decomposed = 'cafe\u0301 au lait tous les jours';
    const stored = await hashPassword(composed, CHEAP);
    expect(await verifyPassword(decomposed, stored)).toBe(true);
  });

  it.each([
    { ln: 10, r: 8, p: 1 },
    { ln: 11, r: 4, p: 2 },
  ])('verifies a hash made by another scrypt implementation with the parameters it names (%j)', async ({ ln, r, p }) => {
    // Stored hashes must stay readable by any standard scrypt, and vice versa.
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('pässword from elsewhere'.normalize('NFC'), salt, 32, { N: 2 ** ln, r, p });
    const stored = `scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('pässword from elsewhere', stored)).toBe(true);
    expect(await verifyPassword('password from elsewhere', stored)).toBe(false);
  });

  it('verifies with the cost stored in the hash, not the current default', async () => {
    const stored = await hashPassword('an older cheaper hash', { ln: 11, r: 4, p: 2 });
    expect(stored.startsWith('scrypt$ln=11,r=4,p=2$')).toBe(true);
    expect(await verifyPassword('an older cheaper hash', stored)).toBe(true);
  });

  it('says no, without throwing, for malformed or out-of-range stored hashes and overlong passwords', async () => {
    const stored = await hashPassword('a perfectly fine one', CHEAP);
    const [, params, salt, key] = stored.split('$');
    for (const bad of [
      '',
      'bcrypt$2b$10$abc',
      `scrypt$${params}$${salt}`,
      `scrypt$${params}$${salt}$${key}$extra`,
      `scrypt$ln=9,r=8,p=1$${salt}$${key}`,
      `scrypt$ln=23,r=8,p=1$${salt}$${key}`,
      `scrypt$ln=10,r=0,p=1$${salt}$${key}`,
      `scrypt$ln=10,r=33,p=1$${salt}$${key}`,
      `scrypt$ln=10,r=8,p=0$${salt}$${key}`,
      `scrypt$ln=10,r=8,p=17$${salt}$${key}`,
      `scrypt$ln=10,r=8,p=1$${salt}$${key}!`,
      ` ${stored}`,
    ]) {
      expect(parseHash(bad), bad).toBeNull();
      expect(await verifyPassword('a perfectly fine one', bad), bad).toBe(false);
    }
    // A key of another length never matches (and never throws in the comparison).
    expect(await verifyPassword('a perfectly fine one', `scrypt$${params}$${salt}$${key!.slice(0, 20)}`)).toBe(false);
    expect(await verifyPassword('x'.repeat(PASSWORD_MAX + 1), await hashPassword('x'.repeat(PASSWORD_MAX + 1), CHEAP))).toBe(false);
  });

  it('reads the parameters at the edges of the accepted range', () => {
    const salt = 'AAAAAAAAAAAAAAAAAAAAAA';
    const key = 'A'.repeat(43);
    expect(parseHash(`scrypt$ln=10,r=1,p=1$${salt}$${key}`)?.params).toEqual({ ln: 10, r: 1, p: 1 });
    expect(parseHash(`scrypt$ln=22,r=32,p=16$${salt}$${key}`)?.params).toEqual({ ln: 22, r: 32, p: 16 });
    expect(parseHash(`scrypt$ln=17,r=8,p=1$${salt}$${key}`)?.key).toHaveLength(32);
  });

  it('runs many hashes at once without failing (at most two at a time, the rest wait)', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`parallel password ${i}`, CHEAP)));
    expect(new Set(all).size).toBe(6);
    expect(await verifyPassword('parallel password 5', all[5]!)).toBe(true);
  });
});

describe('rehashing on login', () => {
  it('asks for a new hash when the stored cost is lower or its shape differs, not when it is higher', () => {
    const salt = 'AAAAAAAAAAAAAAAAAAAAAA';
    const key = 'A'.repeat(43);
    const at = (ln: number, r = 8, p = 1) => `scrypt$ln=${ln},r=${r},p=${p}$${salt}$${key}`;
    const now = { ln: 17, r: 8, p: 1 };
    expect(needsRehash(at(17), now)).toBe(false);
    expect(needsRehash(at(18), now)).toBe(false);
    expect(needsRehash(at(16), now)).toBe(true);
    expect(needsRehash(at(17, 4), now)).toBe(true);
    expect(needsRehash(at(17, 8, 2), now)).toBe(true);
    expect(needsRehash('not a hash', now)).toBe(true);
  });
});

describe('rules for a new password', () => {
  it(`wants ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, () => {
    expect(passwordProblem('x'.repeat(PASSWORD_MIN - 1))).toBe(`must be at least ${PASSWORD_MIN} characters long`);
    expect(passwordProblem('x'.repeat(PASSWORD_MIN))).toBeNull();
    expect(passwordProblem('x'.repeat(PASSWORD_MAX))).toBeNull();
    expect(passwordProblem('x'.repeat(PASSWORD_MAX + 1))).toBe(`must be at most ${PASSWORD_MAX} characters long`);
  });

  it('refuses a short password containing the e-mail name, in any case; a long one may', () => {
    expect(passwordProblem('my-MiaSchmidt-pw', 'miaschmidt@example.org')).toBe('must not contain your e-mail name');
    expect(passwordProblem('miaschmidt-and-a-long-tail', 'MiaSchmidt@example.org')).toBeNull();
    expect(passwordProblem('nineteen-chars-mia1', 'mia@example.org')).toBe('must not contain your e-mail name');
    expect(passwordProblem('twenty-chars-mia-123', 'mia@example.org')).toBeNull();
    expect(passwordProblem('nothing in common!', 'mia@example.org')).toBeNull();
    expect(passwordProblem('nothing in common!')).toBeNull();
  });
});

describe('costs and lengths at the edges', () => {
  it('hashes at a cost above scrypt\'s default memory limit (2^16: 64 MiB)', async () => {
    const stored = await hashPassword('memory hungry password', { ln: 16, r: 8, p: 1 });
    expect(await verifyPassword('memory hungry password', stored)).toBe(true);
  });

  it(`verifies a password of exactly ${PASSWORD_MAX} characters`, async () => {
    const longest = 'y'.repeat(PASSWORD_MAX);
    expect(await verifyPassword(longest, await hashPassword(longest, CHEAP))).toBe(true);
  });
});
