// Read-your-writes over HTTP: a request that appended audit entries answers only
// once they are in the log (sequenced, with their index), so whoever made a
// change and then reads the log, by the API or in the database, sees its entry.
// The sequencing run is shared by all requests waiting at that moment.
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../db/index.js';
import { sequenceAudit } from './sequencer.js';
import { trackAppends } from './wake.js';

export function sequenceAfterAppends(db: Db): MiddlewareHandler {
  return async (_c, next) => {
    const { appended } = await trackAppends(() => next());
    if (appended) await sequenceAudit(db);
  };
}
