// The limit that bounds memory-hungry work (server/accounts/concurrency-limit.ts):
// a run that fails must give its place to the next one, or a few failed
// password checks would leave every later login waiting for ever.
import { describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../../server/accounts/concurrency-limit.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a run that fails', () => {
  it('reaches its caller and frees its place for the runs waiting behind it', async () => {
    const limit = concurrencyLimit(1);
    const order: string[] = [];
    const failing = limit(async () => {
      order.push('fails');
      await tick(5);
      throw new Error('scrypt refused');
    });
    const next = limit(async () => (order.push('next'), 'done'));
    const last = limit(async () => (order.push('last'), 'also done'));
    await expect(failing).rejects.toThrow('scrypt refused');
    expect(await next).toBe('done');
    expect(await last).toBe('also done');
    expect(order).toEqual(['fails', 'next', 'last']);
  });

  it('that throws before its first await still frees its place', async () => {
    const limit = concurrencyLimit(1);
    const results = await Promise.allSettled([
      limit(() => {
        throw new Error('at once');
      }),
      limit(async () => 2),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });
});
