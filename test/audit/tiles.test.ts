// The tile format against an independent implementation: Tessera's 15-entry
// test log (../shared/testvectors/tessera-testlog). Our bundles and level-0
// tiles must be byte for byte Tessera's, and its signed checkpoints must open
// with our note code and match the root we compute from its tiles.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { leafHash, MemoryNodeStore } from '../../server/audit/merkle.js';
import { openNote } from '../../server/audit/note.js';
import {
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeTileIndex,
  parseTilePath,
  tilePath,
  tileWidthAt,
  TilePathError,
} from '../../server/audit/tiles.js';

const LOG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/testvectors/tessera-testlog/log');
const VKEY = 'example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx';
const WORDS = 'one two three four five six seven eit nain ten ileven twelf threeten fourten fivten'.split(' ');
const read = (p: string) => new Uint8Array(readFileSync(path.join(LOG, p)));

describe('tlog-tiles against Tessera', () => {
  it('has the vectors', () => expect(existsSync(LOG)).toBe(true));

  it('encodes every entry bundle and level-0 tile of sizes 1..15 exactly as Tessera wrote them', () => {
    for (let n = 1; n <= 15; n++) {
      const entries = WORDS.slice(0, n).map((w) => new TextEncoder().encode(w));
      expect(Buffer.from(encodeEntryBundle(entries)).equals(read(`tile/entries/000.p/${n}`)), `bundle ${n}`).toBe(true);
      const tile = Buffer.concat(entries.map((e) => leafHash(e)));
      expect(tile.equals(read(`tile/0/000.p/${n}`)), `tile ${n}`).toBe(true);
      expect(tilePath({ level: 0, index: 0, width: n })).toBe(`tile/0/000.p/${n}`);
    }
  });

  it("opens Tessera's checkpoints and reproduces each root from its tiles", () => {
    for (let n = 1; n <= 15; n++) {
      const cp = openNote(readFileSync(path.join(LOG, `checkpoint.${n}`), 'utf8'), VKEY);
      expect(cp.size).toBe(n);
      const entries = decodeEntryBundle(read(`tile/entries/000.p/${n}`));
      expect(entries.map((e) => new TextDecoder().decode(e))).toEqual(WORDS.slice(0, n));
      const hashes = decodeHashTile(read(`tile/0/000.p/${n}`));
      const store = new MemoryNodeStore();
      entries.forEach((e, i) => {
        expect(Buffer.from(leafHash(e)).equals(hashes[i]!)).toBe(true);
        store.append(leafHash(e));
      });
      expect(Buffer.from(store.root(n)).equals(cp.rootHash)).toBe(true);
    }
  });
});

describe('tile paths', () => {
  it('writes indices in groups of three digits, x-prefixed but the last', () => {
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath({ level: 'entries', index: 1234067, width: 256 })).toBe('tile/entries/x001/x234/067');
    expect(tilePath({ level: 2, index: 5, width: 17 })).toBe('tile/2/005.p/17');
  });

  it('reads back what it writes', () => {
    for (const t of [
      { level: 0, index: 0, width: 256 },
      { level: 3, index: 1234067, width: 1 },
      { level: 'entries' as const, index: 1000, width: 255 },
    ])
      expect(parseTilePath(tilePath(t).slice('tile/'.length))).toEqual(t);
  });

  it.each([
    ['0/1', 'index not three digits'],
    ['0/x000/001', 'a leading zero group'],
    ['0/001/002', 'a non-last group without x'],
    ['00/000', 'a level with a leading zero'],
    ['64/000', 'a level above 63'],
    ['0/000.p/0', 'width 0'],
    ['0/000.p/256', 'width 256 (a full tile has no .p)'],
    ['0/000.p/07', 'a width with a leading zero'],
    ['leaves/000', 'an unknown level name'],
    ['0/000/', 'a trailing slash'],
  ])('refuses %s (%s)', (p) => {
    expect(() => parseTilePath(p)).toThrow(TilePathError);
  });

  it('knows how wide each tile is at a tree size', () => {
    expect(tileWidthAt(0, 0, 0)).toBe(0);
    expect(tileWidthAt(15, 0, 0)).toBe(15);
    expect(tileWidthAt(15, 'entries', 0)).toBe(15);
    expect(tileWidthAt(256, 0, 0)).toBe(256);
    expect(tileWidthAt(256, 0, 1)).toBe(0);
    expect(tileWidthAt(256, 1, 0)).toBe(1); // one complete 256-leaf subtree
    expect(tileWidthAt(70_000, 0, 273)).toBe(70_000 - 273 * 256);
    expect(tileWidthAt(70_000, 1, 1)).toBe(Math.floor(70_000 / 256) - 256);
    expect(tileWidthAt(70_000, 2, 0)).toBe(1);
  });

  it('refuses a bundle cut inside an entry and an entry too long to bundle', () => {
    expect(() => decodeEntryBundle(Uint8Array.of(0, 5, 1, 2))).toThrow(/ends inside entry 0/);
    expect(() => decodeEntryBundle(Uint8Array.of(0))).toThrow(/inside a length prefix/);
    expect(() => encodeEntryBundle([new Uint8Array(0x10000)])).toThrow(RangeError);
    expect(() => decodeHashTile(new Uint8Array(33))).toThrow(/32-byte/);
  });
});
