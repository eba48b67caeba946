// "At most two hashes run at once so a burst of logins cannot exhaust memory"
// (server/accounts/passwords.ts): every derivation goes through one limit of
// two. Observed without mocks: while two other runs hold the limit, a real
// password hash waits; the limit itself is checked with runs that record how
// many are under way.
import { describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../../server/accounts/concurrency-limit.js';
import { derivations, hashPassword, verifyPassword } from '../../server/accounts/passwords.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a burst of password hashes', () => {
  it('waits while two derivations are under way, and completes after', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holders = [derivations(() => held), derivations(() => held)];
    let done = false;
    const hashing = hashPassword('a long enough password', { ln: 10, r: 8, p: 1 }).then((h) => ((done = true), h));
    await tick(50);
    expect(done).toBe(false);
    release();
    await Promise.all(holders);
    const stored = await hashing;
    expect(await verifyPassword('a long enough password', stored)).toBe(true);
  });

  it('a limit of two runs at most two at once, in order, and every one completes', async () => {
    const limit = concurrencyLimit(2);
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limit(async () => {
          started.push(i);
          most = Math.max(most, ++active);
          await tick(5);
          active--;
          return i;
        }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
  });
});
