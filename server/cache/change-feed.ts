// Whether anything cached from the tenancies and clusters tables may have changed.
// The database announces every change to them, whoever makes it (a statement trigger
// NOTIFYs `meetplane_changes` at commit, migration 0036), to every meetplane process
// on it and to this one; each notice bumps this process's epoch. A cache entry keeps
// the epoch it was read under, so a change made anywhere retires it without a query
// per use. Until the LISTEN is in place the feed is not live and caches read through;
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
  #epoch = 0;
  #live = false;

  /** Changes seen so far; any change makes it differ from every earlier value. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether notices are being received (caches serve entries only then). */
  get live(): boolean {
    return this.#live;
  }

  /** A change (a notice, or a (re)connected listener that may have missed some). */
  bump(): void {
    this.#epoch++;
  }

  /** Called once the LISTEN is in place (after a reconnect too: notices may have been missed meanwhile). */
  listening(): void {
    this.#epoch++;
    this.#live = true;
  }

  /** The listener failed: caches read through from now on. */
  stopped(): void {
    this.#epoch++;
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
  const notice = () => created.bump();
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
