// A write through this process's API retires the caches before its answer
// leaves: the writer's very next call (a gateway call right after the PATCH
// that moved or froze a tenancy) must see it, not wait for the database's
// notice, which arrives on another connection a moment later (under load, later
// than the next request). Other processes learn of it from that notice.
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../db/index.js';
import { changeFeed } from './change-feed.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * POSTs that change nothing a cache holds. The gateway's own calls (create by POST) change
 * meetings, not the cached targets. The sign-on's token endpoints write only the provider's
 * own records (oidc_models, which no cache reads): were they to retire every cache, a burst of
 * token requests would retire the clients' metadata and claims they read, and everyone's facts.
 */
const changesNothingCached = (path: string) => path.includes('/bigbluebutton/api/') || /^\/oidc\/token(\/introspection|\/revocation)?$/.test(path);

export function retireCachesAfterWrites(db: Db): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!READS.has(c.req.method) && !changesNothingCached(c.req.path)) changeFeed(db).bump();
  };
}
