/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the log's hashes and entries cut
 * into immutable tiles of 256, so any standard tlog client can verify and mirror it.
 *
 * A hash tile at tile level L and index N holds the hashes of the tree nodes at
 * height 8L with indices [256N, 256N + W): the leaf hashes for L = 0, the roots
 * of complete 256^L-leaf subtrees above. W is 256 for a full tile and 1..255 for
 * a partial one (path suffix `.p/W`). An entry bundle at index N holds entries
 * [256N, 256N + W), each as a big-endian uint16 length and its bytes.
 * Pure: the server (from the database) and the verifier (from HTTP) share it.
 */

export const TILE_WIDTH = 256;
/** Tree levels per tile level. */
export const TILE_HEIGHT = 8;
/** Entries in a bundle are length-prefixed with a uint16. */
export const MAX_ENTRY_BYTES = 0xffff;

export interface TileId {
  /** Tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** Number of hashes (or entries): 256 for a full tile. */
  width: number;
}

export class TilePathError extends Error {}

/** N as the spec writes it: groups of three digits, all but the last prefixed with x. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TilePathError(`tile index ${n} is not a non-negative integer`);
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, relative to the log's prefix. */
export function tilePath(t: TileId): string {
  const level = t.level === 'entries' ? 'entries' : String(t.level);
  const partial = t.width < TILE_WIDTH ? `.p/${t.width}` : '';
  return `tile/${level}/${encodeTileIndex(t.index)}${partial}`;
}

/** Parses the part after `tile/`; throws TilePathError for anything the spec would not produce. */
export function parseTilePath(rest: string): TileId {
  const m = /^(entries|\d{1,2})\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d{1,3}))?$/.exec(rest);
  if (!m) throw new TilePathError(`"${rest}" is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])`);
  const [, lvl, idx, w] = m;
  const level = lvl === 'entries' ? 'entries' : Number(lvl);
  if (level !== 'entries' && ((lvl!.length > 1 && lvl!.startsWith('0')) || level > 63))
    throw new TilePathError(`tile level "${lvl}" must be 0 to 63 without leading zeros`);
  const groups = idx!.split('/').map((g) => g.replace(/^x/, ''));
  // A leading group of 000 would be a second spelling of the same index.
  if (groups.length > 1 && groups[0] === '000') throw new TilePathError(`tile index "${idx}" has a leading zero group`);
  const index = groups.reduce((n, g) => n * 1000 + Number(g), 0);
  if (!Number.isSafeInteger(index)) throw new TilePathError(`tile index "${idx}" is too large`);
  const width = w === undefined ? TILE_WIDTH : Number(w);
  if (w !== undefined && (width < 1 || width >= TILE_WIDTH || String(width) !== w))
    throw new TilePathError(`partial tile width "${w}" must be 1 to 255 without leading zeros`);
  return { level, index, width };
}

/** How many nodes tree level `height` has in a tree of `size` leaves (complete subtrees only). */
export function nodesAtHeight(size: number, height: number): number {
  return Math.floor(size / 2 ** height);
}

/**
 * How many hashes (or entries) tile `index` of `level` holds in a tree of `size`:
 * 0 when it does not exist yet, 256 when full.
 */
export function tileWidthAt(size: number, level: number | 'entries', index: number): number {
  const available = nodesAtHeight(size, level === 'entries' ? 0 : level * TILE_HEIGHT) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, available));
}

export function encodeEntryBundle(entries: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let at = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES) throw new RangeError(`an entry of ${e.length} bytes does not fit a tile bundle (at most ${MAX_ENTRY_BYTES})`);
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new TilePathError(`entry bundle ends inside a length prefix at byte ${at}`);
    const len = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + len > bundle.length) throw new TilePathError(`entry bundle ends inside entry ${entries.length} (${len} bytes announced)`);
    entries.push(bundle.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return entries;
}

/** The hashes of a hash tile, 32 bytes each. */
export function decodeHashTile(tile: Uint8Array): Uint8Array[] {
  if (tile.length % 32 !== 0) throw new TilePathError(`a hash tile of ${tile.length} bytes is not a whole number of 32-byte hashes`);
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < tile.length; at += 32) hashes.push(tile.subarray(at, at + 32));
  return hashes;
}
