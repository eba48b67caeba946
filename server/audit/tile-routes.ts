// GET /api/v1/audit/tile/<L>/<N>[.p/<W>] and /api/v1/audit/tile/entries/<N>[.p/<W>]:
// the log as C2SP tlog-tiles (server/audit/tiles.ts), beside /api/v1/audit/checkpoint,
// so a standard tlog client pointed at the prefix /api/v1/audit can verify and
// mirror it. Auditors only, like every read of the log. The paths' nested index
// groups do not fit an OpenAPI path template, so these routes are plain hono
// routes; the description is in README (Audit log).
import type { Context } from 'hono';
import { router, type Deps } from '../http/env.js';
import { problems } from '../http/problem.js';
import { PLATFORM } from '../authz/guard.js';
import { entryRange, leafHashRange, nodeRange, treeSize } from './store.js';
import { encodeEntryBundle, parseTilePath, TILE_HEIGHT, TILE_WIDTH, tileWidthAt, TilePathError } from './tiles.js';

const PREFIX = '/audit/tile/';

export function tileRoutes({ db, guard }: Deps) {
  const app = router();
  app.get(`${PREFIX}*`, async (c: Context) => {
    await guard.allow(c.get('principal'), 'audit.read', PLATFORM, 'audit log');
    const rest = c.req.path.slice(c.req.path.indexOf(PREFIX) + PREFIX.length);
    let tile;
    try {
      tile = parseTilePath(rest);
    } catch (e) {
      if (e instanceof TilePathError) throw problems.badRequest(e.message);
      throw e;
    }
    const size = await treeSize(db);
    if (tileWidthAt(size, tile.level, tile.index) < tile.width) throw problems.notFound('tile');
    const from = tile.index * TILE_WIDTH;
    const to = from + tile.width;
    const items =
      tile.level === 'entries' ? await entryRange(db, from, to) : tile.level === 0 ? await leafHashRange(db, from, to) : await nodeRange(db, tile.level * TILE_HEIGHT, from, to);
    if (items.length !== tile.width) throw new Error(`audit ${rest}: ${items.length} of ${tile.width} stored rows found`);
    const body = tile.level === 'entries' ? encodeEntryBundle(items) : Buffer.concat(items);
    // A tile's content never changes once it exists (a partial tile of width W is a fixed prefix).
    return c.body(new Uint8Array(body), 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'private, max-age=31536000, immutable' });
  });
  return app;
}
