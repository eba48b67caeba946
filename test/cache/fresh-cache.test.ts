// The caches of gateway targets and of principals: served while none of their tables
// changed, for at most their max age and never past the value's own expiry; a change
// during a read leaves that read uncached; a feed that is not (yet) listening caches nothing.
import { describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../server/cache/change-feed.js';
import { FreshCache } from '../../server/cache/fresh-cache.js';

function counted(feed: ChangeFeed, maxAgeMs: number) {
  let reads = 0;
  const cache = new FreshCache<string, string>(feed, { tables: ['grants'], maxAgeMs });
  const get = () => cache.get('k', async () => `v${++reads}`);
  return { get, reads: () => reads };
}

const live = () => {
  const feed = new ChangeFeed();
  feed.listening();
  return feed;
};

describe('FreshCache', () => {
  it('serves a value again until a change is announced', async () => {
    const feed = live();
    const c = counted(feed, 60_000);
    expect(await c.get()).toBe('v1');
    expect(await c.get()).toBe('v1');
    feed.bump('grants');
    expect(await c.get()).toBe('v2');
    // A write through the API (no table named) retires it too.
    feed.bump();
    expect(await c.get()).toBe('v3');
    expect(c.reads()).toBe(3);
  });

  it('keeps a value when only a table it was not read from changed', async () => {
    const feed = live();
    const c = counted(feed, 60_000);
    await c.get();
    feed.bump('tenancies');
    feed.bump('clusters');
    expect(await c.get()).toBe('v1');
    expect(c.reads()).toBe(1);
  });

  it('reads again once the value itself expires (a grant running out), before its max age', async () => {
    const cache = new FreshCache<string, { until: number }>(live(), { tables: ['grants'], maxAgeMs: 60_000, expiresAt: (v) => v.until });
    let reads = 0;
    const get = () => cache.get('k', async () => ({ until: Date.now() + 60, n: ++reads }));
    await get();
    await get();
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 90));
    await get();
    expect(reads).toBe(2);
    // Already expired when read: served once, not kept.
    const gone = new FreshCache<string, { until: number }>(live(), { tables: ['grants'], maxAgeMs: 60_000, expiresAt: (v) => v.until });
    let n = 0;
    await gone.get('k', async () => ({ until: Date.now() - 1, n: ++n }));
    await gone.get('k', async () => ({ until: Date.now() - 1, n: ++n }));
    expect(n).toBe(2);
  });

  it('reads again once the max age has passed, with no announcement (a missed notice)', async () => {
    const c = counted(live(), 50);
    await c.get();
    await new Promise((r) => setTimeout(r, 80));
    expect(await c.get()).toBe('v2');
  });

  it('does not keep a value read while a change was announced', async () => {
    const feed = live();
    const cache = new FreshCache<string, string>(feed, { tables: ['grants'], maxAgeMs: 60_000 });
    await cache.get('k', async () => {
      feed.bump('grants');
      return 'old';
    });
    expect(await cache.get('k', async () => 'new')).toBe('new');
  });

  it('makes one read for callers that miss while it is under way (an entry aging out under load)', async () => {
    const feed = live();
    const cache = new FreshCache<string, string>(feed, { tables: ['grants'], maxAgeMs: 60_000 });
    let reads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async () => (await gate, `v${++reads}`);
    const all = Promise.all(Array.from({ length: 20 }, () => cache.get('k', slow)));
    release();
    expect(await all).toEqual(Array(20).fill('v1'));
    expect(reads).toBe(1);
    // A failed read fails its callers alike and is not kept: the next caller reads again.
    const failing = new FreshCache<string, string>(feed, { tables: ['grants'], maxAgeMs: 60_000 });
    const failures = await Promise.allSettled([failing.get('k', async () => Promise.reject(new Error('down'))), failing.get('k', async () => 'unused')]);
    expect(failures.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect(await failing.get('k', async () => 'up')).toBe('up');
  });

  it('does not hand a caller after a change the read begun before it', async () => {
    const feed = live();
    const cache = new FreshCache<string, string>(feed, { tables: ['grants'], maxAgeMs: 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const before = cache.get('k', async () => (await gate, 'before the change'));
    feed.bump('grants');
    const after = cache.get('k', async () => 'after the change');
    release();
    expect(await before).toBe('before the change');
    expect(await after).toBe('after the change');
    expect(await cache.get('k', async () => 'read again')).toBe('after the change');
  });

  it('lets each caller read for itself while the feed is not listening', async () => {
    const cache = new FreshCache<string, string>(new ChangeFeed(), { tables: ['grants'], maxAgeMs: 60_000 });
    let reads = 0;
    await Promise.all([cache.get('k', async () => `v${++reads}`), cache.get('k', async () => `v${++reads}`)]);
    expect(reads).toBe(2);
  });

  it('caches nothing while the feed is not listening, or after it stopped', async () => {
    const feed = new ChangeFeed();
    const c = counted(feed, 60_000);
    await c.get();
    await c.get();
    expect(c.reads()).toBe(2);
    feed.listening();
    await c.get();
    feed.stopped();
    await c.get();
    await c.get();
    expect(c.reads()).toBe(5);
  });

  it('keeps no absent value', async () => {
    const cache = new FreshCache<string, string>(live(), { tables: ['grants'], maxAgeMs: 60_000 });
    expect(await cache.get('k', async () => undefined)).toBeUndefined();
    expect(await cache.get('k', async () => 'now there')).toBe('now there');
  });
});
