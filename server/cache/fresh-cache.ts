// A map of values read from the database, each served only while nothing it was
// read from has changed (the change feed's epoch as of before the read) and for at
// most maxAgeMs (so a missed change notice cannot keep an entry for long). Absent
// values are not kept: only what exists is cached.
import type { ChangeFeed } from './change-feed.js';

interface Entry<V> {
  value: V;
  epoch: number;
  at: number;
}

export class FreshCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit && hit.epoch === this.feed.epoch && now - hit.at < this.maxAgeMs) return hit.value;
    // Taken before the read: a change committed while it runs leaves the entry already stale.
    const epoch = this.feed.epoch;
    const keep = this.feed.live && this.maxAgeMs > 0;
    const value = await load();
    if (value === undefined || !keep) {
      this.#entries.delete(key);
      return value;
    }
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(key, { value, epoch, at: now });
    return value;
  }
}
