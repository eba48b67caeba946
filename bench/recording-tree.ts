// The recordings-like file tree the transfer benchmarks copy: 2,000 files per
// `totalBytes`, as BBB publishes them (a few big videos, many small slides and
// xml/json), written from slices of one random block (incompressible, fast).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CopyFile } from '../server/transfers/copy.js';

const MB = 1024 * 1024;
const RECORDINGS = 40;
const SLIDES = 41; // per recording; with the xml/json files, 2,000 files in all

/** The files of the tree, sorted by path; the sizes add up to about `totalBytes`. */
export function plan(totalBytes: number): CopyFile[] {
  const files: CopyFile[] = [];
  let small = 0;
  let seed = 42;
  const rand = (lo: number, hi: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return lo + (seed % (hi - lo + 1));
  };
  const big: CopyFile[] = [];
  for (let r = 0; r < RECORDINGS; r++) {
    const id = `presentation/${r.toString(16).padStart(8, '0')}a1b2c3d4e5f60718293a4b5c6d7e8f90-16${String(r).padStart(11, '0')}`;
    const add = (rel: string, size: number) => {
      files.push({ path: `${id}/${rel}`, size });
      small += size;
    };
    add('metadata.xml', rand(800, 3000));
    add('events.xml', rand(20_000, 400_000));
    add('cursor.xml', rand(1000, 60_000));
    add('panzooms.xml', rand(500, 20_000));
    add('shapes.svg', rand(2000, 200_000));
    add('captions.json', rand(2, 2000));
    add('presentation_text.json', rand(200, 30_000));
    for (let i = 0; i < SLIDES; i++) add(`presentation/d${r}/slide-${i + 1}.png`, rand(15_000, 250_000));
    big.push({ path: `${id}/video/webcams.webm`, size: 0 }, { path: `${id}/deskshare/deskshare.webm`, size: 0 });
  }
  // The videos share what is left, unevenly (webcams ~3x deskshare).
  const left = Math.max(big.length, totalBytes - small);
  const weights = big.map((_, i) => (i % 2 === 0 ? 3 : 1) * (1 + ((i * 37) % 11) / 10));
  const sum = weights.reduce((a, b) => a + b, 0);
  big.forEach((f, i) => (f.size = Math.floor((left * weights[i]!) / sum)));
  return [...files, ...big].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Writes `files` under `root`. Run it in a child process: its buffers would count in the copy's peak RSS. */
export function generate(root: string, files: CopyFile[]): void {
  const block = randomBytes(64 * MB);
  let offset = 0;
  for (const f of files) {
    const full = path.join(root, f.path);
    mkdirSync(path.dirname(full), { recursive: true });
    const chunks: Buffer[] = [];
    for (let left = f.size; left > 0; ) {
      const n = Math.min(left, block.length - offset, 8 * MB);
      chunks.push(block.subarray(offset, offset + n));
      offset = (offset + n + 4099) % (block.length - 1);
      left -= n;
    }
    writeFileSync(full, Buffer.concat(chunks));
  }
}
