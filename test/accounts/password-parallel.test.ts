// "At most two hashes run at once so a burst of logins cannot exhaust memory"
// (server/accounts/passwords.ts): scrypt is replaced by a stand-in that
// records how many derivations are under way, so the bound is observed
// directly instead of through memory or timing.
import { describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ active: 0, most: 0, calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const scrypt = (_pw: string, _salt: Buffer, len: number, _opts: object, done: (err: Error | null, key: Buffer) => void) => {
    seen.calls++;
    seen.most = Math.max(seen.most, ++seen.active);
    setTimeout(() => {
      seen.active--;
      done(null, Buffer.alloc(len, 7));
    }, 5);
  };
  return { ...real, default: { ...real, scrypt }, scrypt };
});

const { hashPassword, verifyPassword } = await import('../../server/accounts/passwords.js');

describe('a burst of password hashes', () => {
  it('runs at most two derivations at a time, and every one of them completes', async () => {
    const stored = await Promise.all(Array.from({ length: 7 }, (_, i) => hashPassword(`password number ${i}`, { ln: 10, r: 8, p: 1 })));
    expect(stored).toHaveLength(7);
    const verified = await Promise.all(stored.map((s) => verifyPassword('any password at all', s)));
    expect(verified.every((v) => v === true)).toBe(true); // the stand-in derives the same key for every password
    expect(seen.calls).toBe(14);
    expect(seen.most).toBe(2);
  });
});
