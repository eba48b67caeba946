// A map of values read from the database, each served only while none of the tables
// it was read from has changed (the change feed's epoch of those tables as of before
// the read), for at most maxAgeMs (so a missed change notice cannot keep an entry for
// long) and never past the value's own expiry (a grant or token that runs out).
// Absent values are not kept: only what exists is cached.
import type { ChangeFeed } from './change-feed.js';

interface Entry<V> {
  value: V;
  epoch: number;
  /** performance.now() after which it is read again */
  until: number;
}

export interface FreshCacheOptions<V> {
  /** The tables the values are read from: a change to any of them retires every entry. */
  tables: readonly string[];
  /** Served for at most this long after the read (0: not cached). */
  maxAgeMs: number;
  maxEntries?: number;
  /** When a value stops being true by itself (epoch ms), e.g. the earliest expiry among the grants it holds. */
  expiresAt?: (value: V) => number | null;
}

/** A read under way, and the epoch its tables had when it began. */
interface Loading<V> {
  value: Promise<V | undefined>;
  epoch: number;
}

export class FreshCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  /**
   * Reads under way, shared by the callers that miss meanwhile: when an entry ages out under
   * load, every request in flight would otherwise read it again at once (and each facts object
   * read apart is a new object, so its decisions are asked of the policies again).
   */
  readonly #loading = new Map<K, Loading<V>>();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly opts: FreshCacheOptions<V>,
  ) {}

  async get(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit && hit.epoch === this.feed.epochOf(this.opts.tables) && now < hit.until) return hit.value;
    // Taken before the read: a change committed while it runs leaves the entry already stale.
    const epoch = this.feed.epochOf(this.opts.tables);
    // Join a read that began since the last change; one begun before it could return what the change
    // replaced. Without the feed no change is announced, so each caller reads for itself.
    const under = this.#loading.get(key);
    if (under && under.epoch === epoch && this.feed.live) return under.value;
    const loading = { value: this.#load(key, load, now, epoch), epoch };
    this.#loading.set(key, loading);
    try {
      return await loading.value;
    } finally {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    }
  }

  async #load(key: K, load: () => Promise<V | undefined>, now: number, epoch: number): Promise<V | undefined> {
    const keep = this.feed.live && this.opts.maxAgeMs > 0;
    const value = await load();
    // A read that ended after a newer one (begun after a change) leaves the newer entry alone: epochs only grow.
    if ((this.#entries.get(key)?.epoch ?? -1) > epoch) return value;
    if (value === undefined || !keep) {
      this.#entries.delete(key);
      return value;
    }
    let until = now + this.opts.maxAgeMs;
    const expires = this.opts.expiresAt?.(value);
    // performance.now() and the wall clock tick together; the value's expiry is on the wall clock.
    if (expires != null) until = Math.min(until, now + (expires - Date.now()));
    if (until <= now) return value;
    if (this.#entries.size >= (this.opts.maxEntries ?? 10_000)) this.#entries.clear();
    this.#entries.set(key, { value, epoch, until });
    return value;
  }
}
