// Caches that live as long as a database handle and are shared by every module on
// it (each route module makes its own Authz, say; they must share one cache of
// principals' facts, or a write retiring one would leave the others). Each is
// retired by the change feed of its tables, and by a write through this process's
// API (after-writes.ts); its max age comes from CACHE_MAX_AGE_MS, set once at start.
import type { Db } from '../db/index.js';
import { changeFeed } from './change-feed.js';
import { FreshCache, type FreshCacheOptions } from './fresh-cache.js';

/** The configuration's default (server/config.ts): a missed notice is outlived by at most this. */
const DEFAULT_MAX_AGE_MS = 1000;

const clientOf = (db: Db): object => (db as unknown as { $client?: object }).$client ?? db;
const maxAges = new WeakMap<object, number>();
const caches = new WeakMap<object, Map<string, FreshCache<unknown, unknown>>>();

/** Called once when the app starts on a database, before any request; 0 caches nothing. */
export function setCacheMaxAge(db: Db, maxAgeMs: number): void {
  maxAges.set(clientOf(db), maxAgeMs);
  caches.delete(clientOf(db));
}

/** The database's cache called `name`, made on first use. */
export function dbCache<K, V>(db: Db, name: string, opts: Omit<FreshCacheOptions<V>, 'maxAgeMs'>): FreshCache<K, V> {
  const client = clientOf(db);
  let named = caches.get(client);
  if (!named) caches.set(client, (named = new Map()));
  let cache = named.get(name);
  if (!cache) {
    cache = new FreshCache<K, V>(changeFeed(db), { ...opts, maxAgeMs: maxAges.get(client) ?? DEFAULT_MAX_AGE_MS }) as FreshCache<unknown, unknown>;
    named.set(name, cache);
  }
  return cache as FreshCache<K, V>;
}
