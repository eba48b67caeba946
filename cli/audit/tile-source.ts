// Reading the log's entries from its C2SP tlog-tiles (server/audit/tiles.ts):
// 256 entries per request, several requests in flight, every tile immutable.
// The verifier hashes each entry's bytes itself; a bad entry shows up as a
// root that no longer matches a signed checkpoint.
import { decodeEntryBundle, tilePath, TILE_WIDTH } from '../../server/audit/tiles.js';
import { VerificationError, type LogSource, type SourceEntry } from './verifier.js';

/** Fetches one tile by its path below the log's prefix (e.g. `tile/entries/000.p/15`). */
export type TileFetcher = (path: string) => Promise<Uint8Array>;

export function tileEntries(fetchTile: TileFetcher, concurrency = 8): LogSource['entries'] {
  return async (from, to) => {
    const first = Math.floor(from / TILE_WIDTH);
    const last = Math.floor((to - 1) / TILE_WIDTH);
    const tiles: number[] = [];
    for (let n = first; n <= last; n++) tiles.push(n);
    const bundles = await mapLimited(tiles, concurrency, async (n) => {
      // Only as wide as the range needs: the last tile of a tree is partial.
      const width = Math.min(TILE_WIDTH, to - n * TILE_WIDTH);
      const path = tilePath({ level: 'entries', index: n, width });
      const entries = decodeEntryBundle(await fetchTile(path));
      if (entries.length !== width) throw new VerificationError(`${path} holds ${entries.length} entries, not ${width}`, n * TILE_WIDTH + Math.min(entries.length, width));
      return entries;
    });
    const out: SourceEntry[] = [];
    bundles.forEach((entries, i) => {
      const base = tiles[i]! * TILE_WIDTH;
      entries.forEach((e, j) => {
        const index = base + j;
        // No stated leaf hash: the verifier hashes the bytes itself, once.
        if (index >= from && index < to) out.push({ index, entry: e });
      });
    });
    return out;
  };
}

async function mapLimited<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Tiles over HTTP below `prefix` (e.g. https://meet.example.org/api/v1/audit), with the auditor's bearer token. */
export function httpTileFetcher(prefix: string, bearer: () => Promise<string | undefined>): TileFetcher {
  return async (path) => {
    const token = await bearer();
    const res = await fetch(`${prefix}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) throw new VerificationError(`the server did not serve ${path} (${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  };
}
