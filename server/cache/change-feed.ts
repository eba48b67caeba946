// Whether anything cached from a table may have changed. The database announces
// every change to the tables caches read (a statement trigger NOTIFYs
// `meetplane_changes` with the table's name at commit, migrations 0036 and 0037), to
// every meetplane process on it and to this one; each notice bumps that table's count.
// A cache entry keeps the epoch of the tables it was read from, so a change made
// anywhere retires it without a query per use, and a change to another table leaves
// it alone. Until the LISTEN is in place the feed is not live and caches read through;
// a notice lost with a dropped connection is bounded by the caches' max age.
import type { Db } from '../db/index.js';

export const CHANGES_CHANNEL = 'meetplane_changes';

type Notice = (payload: string) => void;
/** postgres.js: listen(channel, onnotify, onlisten) calls onlisten on every (re)connect. */
interface PostgresJs {
  unsafe: unknown;
  listen(channel: string, onnotify: Notice, onlisten: () => void): Promise<unknown>;
}
/** PGlite: listen(channel, callback) delivers notices as its one connection receives them. */
interface Pglite {
  listen(channel: string, callback: Notice): Promise<unknown>;
}

export class ChangeFeed {
  /** Bumped by what may affect every table: a (re)connect, a stop, a write through this process's API. */
  #all = 0;
  readonly #tables = new Map<string, number>();
  #live = false;

  /** Changes seen so far, to any table; any change makes it differ from every earlier value. */
  get epoch(): number {
    let sum = this.#all;
    for (const n of this.#tables.values()) sum += n;
    return sum;
  }

  /** Changes seen so far that may touch these tables (counts only grow, so the sum changes with any of them). */
  epochOf(tables: readonly string[]): number {
    let sum = this.#all;
    for (const t of tables) sum += this.#tables.get(t) ?? 0;
    return sum;
  }

  /** Whether notices are being received (caches serve entries only then). */
  get live(): boolean {
    return this.#live;
  }

  /** A change to `table` (a notice names it), or to anything when no table is named. */
  bump(table?: string): void {
    if (table === undefined) this.#all++;
    else this.#tables.set(table, (this.#tables.get(table) ?? 0) + 1);
  }

  /** Called once the LISTEN is in place (after a reconnect too: notices may have been missed meanwhile). */
  listening(): void {
    this.#all++;
    this.#live = true;
  }

  /** The listener failed: caches read through from now on. */
  stopped(): void {
    this.#all++;
    this.#live = false;
  }
}

const feeds = new WeakMap<object, ChangeFeed>();

/** The feed of a database handle: one LISTEN per handle, shared by every cache on it. */
export function changeFeed(db: Db, onError: (err: unknown) => void = () => {}): ChangeFeed {
  const client = (db as unknown as { $client?: object }).$client ?? db;
  let feed = feeds.get(client);
  if (feed) return feed;
  const created = new ChangeFeed();
  feeds.set(client, created);
  const fail = (err: unknown) => {
    created.stopped();
    onError(err);
  };
  // The payload is the changed table's name; an empty one (none sends it) counts as a change to everything.
  const notice = (table: string) => created.bump(table || undefined);
  try {
    if ('unsafe' in client && typeof (client as PostgresJs).listen === 'function') {
      (client as PostgresJs).listen(CHANGES_CHANNEL, notice, () => created.listening()).catch(fail);
    } else if (typeof (client as Partial<Pglite>).listen === 'function') {
      (client as Pglite).listen(CHANGES_CHANNEL, notice).then(() => created.listening(), fail);
    }
  } catch (err) {
    fail(err);
  }
  return created;
}
