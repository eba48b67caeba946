// The cache of gateway targets: served while nothing changed and for at most its max
// age; a change during a read leaves that read uncached; a feed that is not (yet)
// listening caches nothing.
import { describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../server/cache/change-feed.js';
import { FreshCache } from '../../server/cache/fresh-cache.js';

function counted(feed: ChangeFeed, maxAgeMs: number) {
  let reads = 0;
  const cache = new FreshCache<string, string>(feed, maxAgeMs);
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
    feed.bump();
    expect(await c.get()).toBe('v2');
    expect(c.reads()).toBe(2);
  });

  it('reads again once the max age has passed, with no announcement (a missed notice)', async () => {
    const c = counted(live(), 50);
    await c.get();
    await new Promise((r) => setTimeout(r, 80));
    expect(await c.get()).toBe('v2');
  });

  it('does not keep a value read while a change was announced', async () => {
    const feed = live();
    const cache = new FreshCache<string, string>(feed, 60_000);
    await cache.get('k', async () => {
      feed.bump();
      return 'old';
    });
    expect(await cache.get('k', async () => 'new')).toBe('new');
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
    const cache = new FreshCache<string, string>(live(), 60_000);
    expect(await cache.get('k', async () => undefined)).toBeUndefined();
    expect(await cache.get('k', async () => 'now there')).toBe('now there');
  });
});
