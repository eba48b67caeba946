import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../server/storage/index.js';
import { copyFiles, CopyError, listFiles, MemoryCopyState, verifyFiles, type CopyProgress } from '../../server/transfers/copy.js';
import type { RecordingStorage } from '../../server/storage/types.js';
import { CountingStorage, makeRecordingTree, sha256File } from '../support/storage.js';

let dir: string;
let srcDir: string;
let dstDir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mp-copy-'));
  srcDir = path.join(dir, 'src');
  dstDir = path.join(dir, 'dst');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const listAll = (s: FileStorage) => listFiles(s);

/** `inner` as a copy source that awaits `beforeOpen(path)` before it opens a file: to note, or hold back, a read. */
function sourceWatching(inner: RecordingStorage, beforeOpen: (path: string) => unknown): CountingStorage {
  return new (class extends CountingStorage {
    override async createReadStream(p: string, options?: Parameters<CountingStorage['createReadStream']>[1]) {
      await beforeOpen(p);
      return super.createReadStream(p, options);
    }
  })(inner);
}

/** Writes `r/0.xml` ... `r/<n-1>.xml` (a few bytes each) at `from` and lists them for a copy. */
async function smallFiles(from: FileStorage, n: number): Promise<Array<{ path: string; size: number }>> {
  const files = [];
  for (let i = 0; i < n; i++) {
    await from.writeText(`r/${i}.xml`, `file ${i}`);
    files.push({ path: `r/${i}.xml`, size: `file ${i}`.length });
  }
  return files;
}

/** Waits until `holds()` (true) or 5 s have passed (false: the test has failed). */
async function waitUntil(holds: () => boolean): Promise<boolean> {
  const until = Date.now() + 5000;
  while (!holds() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return holds();
}

describe('copyFiles', () => {
  it('copies a tree of many files with their SHA-256 and records each one', async () => {
    const tree = makeRecordingTree(srcDir, { recordings: 12, bigBytes: 300_000, smallFiles: 10 });
    expect(tree.length).toBe(12 * 14);
    const from = new CountingStorage(new FileStorage(srcDir));
    const to = new FileStorage(dstDir);
    const state = new MemoryCopyState();
    const progress: CopyProgress[] = [];
    const files = await listAll(from.inner as FileStorage);
    const result = await copyFiles({ from, to, files, state, onProgress: (p) => progress.push(p), progressIntervalMs: 0 });

    const total = tree.reduce((s, f) => s + f.size, 0);
    expect(result).toMatchObject({ copiedFiles: tree.length, skippedFiles: 0, resumedFiles: 0, bytesRead: total });
    expect(result.manifest.map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(tree);
    for (const f of tree) expect(sha256File(path.join(dstDir, f.path)), f.path).toBe(f.sha256);
    expect((await listAll(to)).map((e) => e.path)).toEqual(tree.map((f) => f.path)); // no .partial left behind
    expect(state.records.size).toBe(tree.length);
    expect(await verifyFiles(to, result.manifest)).toEqual([]);

    const last = progress.at(-1)!;
    expect(last).toMatchObject({ filesDone: tree.length, filesTotal: tree.length, bytesDone: total, bytesTotal: total, etaSeconds: 0 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytesDone).toBeGreaterThanOrEqual(progress[i - 1]!.bytesDone);
    expect(last.bytesPerSecond).toBeGreaterThan(0);

    // A second run finds everything done: nothing is read from the source.
    from.bytesRead = 0;
    const again = await copyFiles({ from, to, files, state });
    expect(again).toMatchObject({ copiedFiles: 0, skippedFiles: tree.length, bytesRead: 0 });
    expect(again.manifest).toEqual(result.manifest);
  });

  it('resumes a large file after an abort in its middle, without starting over', async () => {
    const size = 24 * 1024 * 1024 + 12345;
    const data = randomBytes(size);
    const src = new FileStorage(srcDir);
    await src.writeFile('rec/video/webcams.webm', [data]);
    await src.writeText('rec/metadata.xml', '<recording/>');
    const files = await listAll(src);
    const state = new MemoryCopyState();
    const to = new FileStorage(dstDir);

    const abort = new AbortController();
    const first = new CountingStorage(src, { onRead: (n) => n > 10 * 1024 * 1024 && abort.abort() });
    await expect(copyFiles({ from: first, to, files, state, signal: abort.signal, concurrency: 1 })).rejects.toMatchObject({ name: 'AbortError' });
    const partialSize = statSync(path.join(dstDir, 'rec/video/webcams.webm.partial')).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThan(size);
    expect(partialSize).toBeLessThanOrEqual(first.bytesRead);
    expect(state.records.has('rec/video/webcams.webm')).toBe(false);

    const second = new CountingStorage(src);
    const result = await copyFiles({ from: second, to, files, state });
    const done = result.manifest.find((r) => r.path === 'rec/video/webcams.webm')!;
    expect(done.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readFileSync(path.join(dstDir, 'rec/video/webcams.webm')).equals(data)).toBe(true);
    expect(result).toMatchObject({ resumedFiles: 1, skippedFiles: 1, copiedFiles: 1 }); // metadata.xml was done before the abort
    // Only the missing tail of the video was read from the source.
    expect(second.bytesRead).toBe(size - partialSize);
    expect(await verifyFiles(to, result.manifest)).toEqual([]);
  });

  it('streams: the target grows while the source is still being read', async () => {
    const size = 32 * 1024 * 1024;
    const src = new FileStorage(srcDir);
    await src.writeFile('r/webcams.webm', [randomBytes(size)]);
    const partial = path.join(dstDir, 'r/webcams.webm.partial');
    let targetWhenThreeQuartersRead = -1;
    const from = new CountingStorage(src, {
      onRead: (n) => {
        if (targetWhenThreeQuartersRead < 0 && n >= (size * 3) / 4) targetWhenThreeQuartersRead = statSync(partial).size;
      },
    });
    await copyFiles({ from, to: new FileStorage(dstDir), files: [{ path: 'r/webcams.webm', size }], state: new MemoryCopyState() });
    // A copy that buffered the whole file would not have written anything yet.
    expect(targetWhenThreeQuartersRead).toBeGreaterThan(size / 2);
  });

  it('records a file done only once the target has made it durable, many files to one barrier', async () => {
    const tree = makeRecordingTree(srcDir, { recordings: 4, bigBytes: 200_000, smallFiles: 6 });
    const synced = new Set<string>();
    const barriers: number[] = [];
    const to = new (class extends FileStorage {
      override async sync(paths: readonly string[]) {
        await super.sync(paths);
        paths.forEach((p) => synced.add(p));
        barriers.push(paths.length);
      }
    })(dstDir);
    const notDurable: string[] = [];
    const state = new (class extends MemoryCopyState {
      override async markDone(r: Parameters<MemoryCopyState['markDone']>[0]) {
        if (!synced.has(r.path)) notDurable.push(r.path);
        await super.markDone(r);
      }
    })();
    const result = await copyFiles({ from: new FileStorage(srcDir), to, files: await listAll(new FileStorage(srcDir)), state, batch: { files: 10 } });
    expect(result.copiedFiles).toBe(tree.length);
    expect(notDurable).toEqual([]);
    expect(state.records.size).toBe(tree.length);
    // Batches of ten files: far fewer barriers than files, and every file in one.
    expect(barriers.reduce((a, b) => a + b, 0)).toBe(tree.length);
    expect(barriers.length).toBeLessThanOrEqual(Math.ceil(tree.length / 10) + 1);
    expect(barriers.length).toBeGreaterThan(1);
  });

  it('records nothing of a batch whose barrier failed, and fails the copy', async () => {
    makeRecordingTree(srcDir, { recordings: 2, bigBytes: 50_000, smallFiles: 2 });
    // The first barrier fails, any later one would succeed: nothing is recorded all the same.
    let barriers = 0;
    const to = new (class extends FileStorage {
      override async sync(paths: readonly string[]): Promise<void> {
        if (barriers++ === 0) throw new Error('EIO: the disk lost the batch');
        await super.sync(paths);
      }
    })(dstDir);
    const state = new MemoryCopyState();
    await expect(copyFiles({ from: new FileStorage(srcDir), to, files: await listAll(new FileStorage(srcDir)), state, concurrency: 1, batch: { files: 1 } })).rejects.toThrow(/EIO/);
    expect(state.records.size).toBe(0);
  });

  it('makes files durable by fsync where syncfs is not wanted, and copies the same bytes', async () => {
    const tree = makeRecordingTree(srcDir, { recordings: 2, bigBytes: 100_000, smallFiles: 3 });
    const state = new MemoryCopyState();
    const result = await copyFiles({ from: new FileStorage(srcDir), to: new FileStorage(dstDir, { syncMethod: 'fsync' }), files: await listAll(new FileStorage(srcDir)), state });
    expect(result.copiedFiles).toBe(tree.length);
    for (const f of tree) expect(sha256File(path.join(dstDir, f.path)), f.path).toBe(f.sha256);
  });

  it('refuses to start when already aborted, and stops between files', async () => {
    makeRecordingTree(srcDir, { recordings: 3, bigBytes: 1000, smallFiles: 2 });
    const from = new FileStorage(srcDir);
    const files = await listAll(from);
    const to = new FileStorage(dstDir);
    const state = new MemoryCopyState();
    await expect(copyFiles({ from, to, files, state, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(state.records.size).toBe(0);

    const abort = new AbortController();
    await expect(
      // Batches of one file: each is recorded on its own, so the abort falls between two of them.
      copyFiles({ from, to, files, state, signal: abort.signal, concurrency: 1, batch: { files: 1 }, progressIntervalMs: 0, onProgress: (p) => p.filesDone === 2 && abort.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    // The two recorded, and at most the one file already in place when the abort came: no file started after it.
    expect(state.records.size).toBeGreaterThanOrEqual(2);
    expect(state.records.size).toBeLessThanOrEqual(3);
  });

  it('finds a corrupted, truncated or deleted target file with verifyFiles', async () => {
    const tree = makeRecordingTree(srcDir, { recordings: 2, bigBytes: 50_000, smallFiles: 2 });
    const from = new FileStorage(srcDir);
    const to = new FileStorage(dstDir);
    const { manifest } = await copyFiles({ from, to, files: await listAll(from), state: new MemoryCopyState() });
    expect(await verifyFiles(to, manifest)).toEqual([]);
    expect(await verifyFiles(from, manifest)).toEqual([]); // the source still matches what was copied

    const nonEmpty = tree.filter((f) => f.size > 0);
    const [flipped, truncated, deleted] = [nonEmpty[0]!, nonEmpty[1]!, nonEmpty[2]!];
    const buf = readFileSync(path.join(dstDir, flipped.path));
    buf[Math.floor(buf.length / 2)]! ^= 0x01;
    writeFileSync(path.join(dstDir, flipped.path), buf);
    truncateSync(path.join(dstDir, truncated.path), truncated.size - 1);
    rmSync(path.join(dstDir, deleted.path));

    const mismatches = await verifyFiles(to, manifest);
    expect(mismatches).toEqual([
      { path: flipped.path, reason: 'sha256', expected: { size: flipped.size, sha256: flipped.sha256 }, actual: { size: flipped.size, sha256: sha256File(path.join(dstDir, flipped.path)) } },
      { path: truncated.path, reason: 'size', expected: { size: truncated.size, sha256: truncated.sha256 }, actual: { size: truncated.size - 1 } },
      { path: deleted.path, reason: 'missing', expected: { size: deleted.size, sha256: deleted.sha256 }, actual: null },
    ]);
  });

  it('copies again a done file whose target went missing, or differs when asked to verify', async () => {
    const tree = makeRecordingTree(srcDir, { recordings: 1, bigBytes: 10_000, smallFiles: 1 });
    const from = new CountingStorage(new FileStorage(srcDir));
    const to = new FileStorage(dstDir);
    const state = new MemoryCopyState();
    const files = await listAll(from.inner as FileStorage);
    await copyFiles({ from, to, files, state });
    const [a, b] = tree.filter((f) => f.size > 0) as [typeof tree[0], typeof tree[0]];
    rmSync(path.join(dstDir, a.path));
    const buf = readFileSync(path.join(dstDir, b.path));
    buf[0]! ^= 0xff;
    writeFileSync(path.join(dstDir, b.path), buf);

    from.bytesRead = 0;
    const plain = await copyFiles({ from, to, files, state });
    expect(plain.copiedFiles).toBe(1); // the missing one; same-size corruption needs verifyDone
    expect(from.bytesRead).toBe(a.size);

    const checked = await copyFiles({ from, to, files, state, verifyDone: true });
    expect(checked.copiedFiles).toBe(1);
    expect(sha256File(path.join(dstDir, b.path))).toBe(b.sha256);
    expect(await verifyFiles(to, checked.manifest)).toEqual([]);
  });

  it('fails a file whose source size differs from the listing, and refuses bad file lists', async () => {
    const from = new FileStorage(srcDir);
    await from.writeText('r/a.xml', 'twelve bytes');
    const to = new FileStorage(dstDir);
    const state = new MemoryCopyState();
    await expect(copyFiles({ from, to, files: [{ path: 'r/a.xml', size: 10 }], state })).rejects.toThrow(CopyError);
    await expect(copyFiles({ from, to, files: [{ path: 'r/a.xml', size: 20 }], state })).rejects.toThrow(/has 12 bytes, expected 20/);
    expect(state.records.size).toBe(0);
    expect(await to.exists('r/a.xml')).toBe(false);
    await expect(copyFiles({ from, to, files: [{ path: '../a.xml', size: 1 }], state })).rejects.toThrow(/refused storage path/);
    await expect(copyFiles({ from, to, files: [{ path: 'r/a.xml', size: 12 }, { path: 'r/a.xml', size: 12 }], state })).rejects.toThrow(/listed twice/);
  });
});

describe('copyFiles: what a killed copy left, batches and progress', () => {
  const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));

  it('starts a file over when its partial file is longer than the file (the leftover of another file)', async () => {
    const data = bytes(50_000, 1);
    const from = new CountingStorage(new FileStorage(srcDir));
    await (from.inner as FileStorage).writeFile('r/webcams.webm', [data]);
    const to = new FileStorage(dstDir);
    await to.writeFile('r/webcams.webm.partial', [bytes(60_000, 7)]);
    const result = await copyFiles({ from, to, files: [{ path: 'r/webcams.webm', size: data.length }], state: new MemoryCopyState() });
    expect(result).toMatchObject({ copiedFiles: 1, resumedFiles: 0, bytesRead: data.length });
    expect(readFileSync(path.join(dstDir, 'r/webcams.webm')).equals(data)).toBe(true);
    expect(result.manifest[0]!.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await to.exists('r/webcams.webm.partial')).toBe(false);
  });

  it('renames a partial file that holds every byte without reading the source again; an empty one is no resumption', async () => {
    const data = bytes(40_000, 2);
    const small = bytes(300, 3);
    const opened: string[] = [];
    const from = sourceWatching(new FileStorage(srcDir), (p) => opened.push(p));
    await (from.inner as FileStorage).writeFile('r/a.webm', [data]);
    await (from.inner as FileStorage).writeFile('r/b.xml', [small]);
    const to = new FileStorage(dstDir);
    // Killed after the last byte of a.webm was written, before its rename; b.xml had just been opened.
    await to.writeFile('r/a.webm.partial', [data]);
    await to.writeFile('r/b.xml.partial', []);
    const progress: CopyProgress[] = [];
    const files = [{ path: 'r/a.webm', size: data.length }, { path: 'r/b.xml', size: small.length }];
    const result = await copyFiles({ from, to, files, state: new MemoryCopyState(), concurrency: 1, progressIntervalMs: 0, onProgress: (p) => progress.push({ ...p }) });
    // The bytes found at the target count as done, not as moved: no rate yet, so no ETA.
    expect(progress[0]).toMatchObject({ bytesDone: data.length, bytesPerSecond: 0, etaSeconds: null });
    expect(result).toMatchObject({ copiedFiles: 2, resumedFiles: 1, bytesRead: small.length });
    expect(from.bytesRead).toBe(small.length);
    expect(opened).toEqual(['r/b.xml']); // a.webm needed nothing more from the source
    expect(readFileSync(path.join(dstDir, 'r/a.webm')).equals(data)).toBe(true);
    expect(readFileSync(path.join(dstDir, 'r/b.xml')).equals(small)).toBe(true);
    expect(result.manifest.map((r) => r.sha256)).toEqual([data, small].map((d) => createHash('sha256').update(d).digest('hex')));
  });

  it('records the files already in place when a later file fails, so the next run does not copy them again', async () => {
    const from = new FileStorage(srcDir);
    await from.writeText('r/1.xml', 'first');
    await from.writeText('r/2.xml', 'second');
    await from.writeText('r/3.xml', 'third, longer than listed');
    const state = new MemoryCopyState();
    const files = [{ path: 'r/1.xml', size: 5 }, { path: 'r/2.xml', size: 6 }, { path: 'r/3.xml', size: 5 }];
    // Default batches (a barrier per thousand files or 5 s): the failure comes long before either.
    await expect(copyFiles({ from, to: new FileStorage(dstDir), files, state, concurrency: 1 })).rejects.toThrow(/r\/3\.xml: source is larger/);
    expect([...state.records.keys()].sort()).toEqual(['r/1.xml', 'r/2.xml']);
  });

  it('records a file done within the batch wait while a slow file is still being copied', async () => {
    const from = new FileStorage(srcDir);
    await from.writeText('r/a.xml', 'quick');
    await from.writeFile('r/b.webm', [bytes(2000, 4)]);
    const state = new MemoryCopyState();
    let recordedDuringB = false;
    // b.webm's bytes arrive only once a.xml is recorded (or after 5 s, when the test has failed).
    const slow = sourceWatching(from, async (p) => {
      if (p === 'r/b.webm') recordedDuringB = await waitUntil(() => state.records.has('r/a.xml'));
    });
    const files = [{ path: 'r/a.xml', size: 5 }, { path: 'r/b.webm', size: 2000 }];
    await copyFiles({ from: slow, to: new FileStorage(dstDir), files, state, concurrency: 1, batch: { files: 1000, bytes: 1 << 30, waitMs: 50 } });
    expect(recordedDuringB).toBe(true);
    expect(state.records.size).toBe(2);
  });

  it('makes a batch durable once its bytes reach the limit, before the file limit', async () => {
    const from = new FileStorage(srcDir);
    const files = [];
    for (let i = 0; i < 6; i++) {
      await from.writeFile(`r/${i}.webm`, [bytes(10_000, i)]);
      files.push({ path: `r/${i}.webm`, size: 10_000 });
    }
    const barriers: number[] = [];
    const to = new (class extends FileStorage {
      override async sync(paths: readonly string[]) {
        barriers.push(paths.length);
        await super.sync(paths);
      }
    })(dstDir);
    await copyFiles({ from, to, files, state: new MemoryCopyState(), concurrency: 1, batch: { files: 1000, bytes: 20_000, waitMs: 60_000 } });
    expect(barriers.reduce((a, b) => a + b, 0)).toBe(6);
    // Two files reach the limit; the next two wait behind the running barrier and go in the next.
    expect(Math.max(...barriers)).toBe(2);
  });

  it('reports the rate of the bytes moved, an ETA that agrees with it, and no rate for a run that only found files done', async () => {
    makeRecordingTree(srcDir, { recordings: 3, bigBytes: 2_000_000, smallFiles: 2 });
    // Source chunks of 64-128 KiB, 60 ms each: a copy of about 3 s, never under half a second.
    const from = new CountingStorage(new FileStorage(srcDir), { delayMsPerChunk: 60 });
    const to = new FileStorage(dstDir);
    const files = await listAll(from.inner as FileStorage);
    const total = files.reduce((n, f) => n + f.size, 0);
    const state = new MemoryCopyState();
    const progress: CopyProgress[] = [];
    const started = performance.now();
    await copyFiles({ from, to, files, state, concurrency: 1, progressIntervalMs: 0, onProgress: (p) => progress.push({ ...p }) });
    const seconds = (performance.now() - started) / 1000;
    const last = progress.at(-1)!;
    expect(last.bytesPerSecond).toBeGreaterThanOrEqual((0.9 * total) / seconds);
    expect(last.bytesPerSecond).toBeLessThanOrEqual(total / 0.5);
    const middle = progress.filter((p) => p.bytesDone < p.bytesTotal && p.bytesPerSecond > 0);
    expect(middle.filter((p) => (p.bytesTotal - p.bytesDone) / p.bytesPerSecond > 2).length).toBeGreaterThan(5);
    for (const p of middle) {
      expect(p.etaSeconds).not.toBeNull();
      expect(Math.abs(p.etaSeconds! - (p.bytesTotal - p.bytesDone) / p.bytesPerSecond)).toBeLessThanOrEqual(1);
    }
    // Before any byte moved there is no rate, and so no ETA.
    for (const p of progress.filter((q) => q.bytesPerSecond === 0 && q.bytesDone < q.bytesTotal)) expect(p.etaSeconds).toBeNull();

    const again: CopyProgress[] = [];
    await copyFiles({ from, to, files, state, progressIntervalMs: 0, onProgress: (p) => again.push({ ...p }) });
    expect(again.at(-1)).toMatchObject({ filesDone: files.length, bytesDone: again.at(-1)!.bytesTotal, bytesPerSecond: 0, etaSeconds: 0 });
    expect(again.every((p) => p.bytesPerSecond === 0)).toBe(true);
  });

  it('reports progress during a long copy, about once a second by default', async () => {
    makeRecordingTree(srcDir, { recordings: 2, bigBytes: 1_000_000, smallFiles: 2 });
    // About 32 chunks of 64 KiB, 80 ms each: a copy of 2-3 s.
    const from = new CountingStorage(new FileStorage(srcDir), { delayMsPerChunk: 80 });
    const files = await listAll(from.inner as FileStorage);
    const progress: CopyProgress[] = [];
    const started = performance.now();
    await copyFiles({ from, to: new FileStorage(dstDir), files, state: new MemoryCopyState(), concurrency: 1, onProgress: (p) => progress.push({ ...p }) });
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(1.5);
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(progress.some((p) => p.bytesDone > 0 && p.bytesDone < p.bytesTotal)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ filesDone: files.length, filesTotal: files.length });
  });
  it('resumes a partial file from disk to disk, reading only the bytes still missing', async () => {
    const data = bytes(3_000_000, 5);
    const from = new FileStorage(srcDir);
    await from.writeFile('r/webcams.webm', [data]);
    const to = new FileStorage(dstDir);
    await to.writeFile('r/webcams.webm.partial', [data.subarray(0, 1_234_567)]);
    const result = await copyFiles({ from, to, files: [{ path: 'r/webcams.webm', size: data.length }], state: new MemoryCopyState() });
    expect(result).toMatchObject({ copiedFiles: 1, resumedFiles: 1, bytesRead: data.length - 1_234_567 });
    expect(readFileSync(path.join(dstDir, 'r/webcams.webm')).equals(data)).toBe(true);
  });

  it('gives a target that keeps the chunks it is handed a buffer of its own for each', async () => {
    const data = bytes(5_000_000, 6);
    const from = new FileStorage(srcDir);
    await from.writeFile('r/webcams.webm', [data]);
    // Collects every chunk before writing any (as a store that sends a file in one request would).
    const to = new (class extends CountingStorage {
      override async writeFile(p: string, source: Parameters<CountingStorage['writeFile']>[1], options?: Parameters<CountingStorage['writeFile']>[2]) {
        const chunks: Uint8Array[] = [];
        for await (const c of source as AsyncIterable<Uint8Array>) chunks.push(c);
        return super.writeFile(p, chunks, options);
      }
    })(new FileStorage(dstDir));
    const result = await copyFiles({ from, to, files: [{ path: 'r/webcams.webm', size: data.length }], state: new MemoryCopyState() });
    expect(readFileSync(path.join(dstDir, 'r/webcams.webm')).equals(data)).toBe(true);
    expect(result.manifest[0]!.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  // A done record counts only while the target holds a file of its size and the listing still gives that size.
  for (const [what, change, listed, expected] of [
    ['the target holds it shorter than recorded', () => truncateSync(path.join(dstDir, 'r/metadata.xml'), 5), 12, '<recording/>'],
    // Rewritten at the source between two runs (a recording re-processed): the old copy must not count.
    ['the listing now gives it another size', () => writeFileSync(path.join(srcDir, 'r/metadata.xml'), '<recording id="1"/>'), 19, '<recording id="1"/>'],
  ] as const) {
    it(`copies a done file again when ${what}`, async () => {
      const from = new FileStorage(srcDir);
      const to = new FileStorage(dstDir);
      const state = new MemoryCopyState();
      await from.writeText('r/metadata.xml', '<recording/>');
      await copyFiles({ from, to, files: [{ path: 'r/metadata.xml', size: 12 }], state });
      change();
      const again = await copyFiles({ from, to, files: [{ path: 'r/metadata.xml', size: listed }], state });
      expect(again).toMatchObject({ copiedFiles: 1, skippedFiles: 0 });
      expect(readFileSync(path.join(dstDir, 'r/metadata.xml'), 'utf8')).toBe(expected);
    });
  }

  it('records a batch at once in a store that records batches', async () => {
    makeRecordingTree(srcDir, { recordings: 2, bigBytes: 10_000, smallFiles: 3 });
    const from = new FileStorage(srcDir);
    const files = await listAll(from);
    const batches: number[] = [];
    const state = new (class extends MemoryCopyState {
      async markAllDone(records: Parameters<MemoryCopyState['markDone']>[0][]) {
        batches.push(records.length);
        for (const r of records) this.records.set(r.path, { ...r });
      }
      override async markDone(): Promise<void> {
        throw new Error('one file at a time: this store records batches');
      }
    })();
    await copyFiles({ from, to: new FileStorage(dstDir), files, state });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(files.length);
    expect(state.records.size).toBe(files.length);
  });

  it('fails the copy when its last barrier fails, with nothing of that batch recorded', async () => {
    makeRecordingTree(srcDir, { recordings: 2, bigBytes: 10_000, smallFiles: 3 });
    const to = new (class extends FileStorage {
      override async sync(): Promise<void> {
        throw new Error('EIO: the disk lost the batch');
      }
    })(dstDir);
    const state = new MemoryCopyState();
    // Default batches: one barrier, at the end.
    await expect(copyFiles({ from: new FileStorage(srcDir), to, files: await listAll(new FileStorage(srcDir)), state })).rejects.toThrow(/EIO/);
    expect(state.records.size).toBe(0);
  });

  it('takes no new file after a barrier failed', async () => {
    const from = new FileStorage(srcDir);
    const files = await smallFiles(from, 10);
    const to = new (class extends FileStorage {
      override async sync(): Promise<void> {
        throw new Error('EIO: the disk lost the batch');
      }
    })(dstDir);
    await expect(copyFiles({ from, to, files, state: new MemoryCopyState(), concurrency: 1, batch: { files: 1 } })).rejects.toThrow(/EIO/);
    expect((await listAll(to)).length).toBeLessThanOrEqual(2);
  });

  it('keeps the files in place but not yet recorded to a batch while a slow barrier runs', async () => {
    const from = new FileStorage(srcDir);
    const files = [];
    for (let i = 0; i < 12; i++) {
      await from.writeText(`r/${String(i).padStart(2, '0')}.xml`, `file ${i}`);
      files.push({ path: `r/${String(i).padStart(2, '0')}.xml`, size: `file ${i}`.length });
    }
    const barriers: number[] = [];
    const to = new (class extends FileStorage {
      override async sync(paths: readonly string[]) {
        barriers.push(paths.length);
        await new Promise((r) => setTimeout(r, 100));
        await super.sync(paths);
      }
    })(dstDir);
    const state = new MemoryCopyState();
    await copyFiles({ from, to, files, state, concurrency: 1, batch: { files: 2, bytes: 1 << 30, waitMs: 60_000 } });
    expect(barriers.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...barriers)).toBe(2);
    expect(state.records.size).toBe(12);
  });

  it('refuses a list with a path not in normal form, an impossible size, or a file beside its own partial name', async () => {
    const from = new FileStorage(srcDir);
    await from.writeText('r/a.xml', 'twelve bytes');
    const to = new FileStorage(dstDir);
    const state = new MemoryCopyState();
    for (const p of ['r/./a.xml', 'r//a.xml']) await expect(copyFiles({ from, to, files: [{ path: p, size: 12 }], state }), p).rejects.toThrow(/give paths in normal form \(r\/a\.xml\)/);
    for (const size of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) await expect(copyFiles({ from, to, files: [{ path: 'r/a.xml', size }], state }), String(size)).rejects.toThrow(`r/a.xml: invalid size ${size}`);
    const clash = copyFiles({ from, to, files: [{ path: 'r/a.xml', size: 12 }, { path: 'r/a.xml.partial', size: 1 }], state });
    await expect(clash).rejects.toThrow('r/a.xml.partial: clashes with the partial file of its namesake');
    await expect(clash).rejects.toMatchObject({ name: 'CopyError', path: 'r/a.xml.partial' });
    // A name that merely ends like a partial file, with no namesake, is a file like any other.
    await from.writeText('r/b.partial', 'p');
    expect((await copyFiles({ from, to, files: [{ path: 'r/b.partial', size: 1 }], state })).copiedFiles).toBe(1);
    expect(await to.exists('r/a.xml')).toBe(false);
  });

  it('starts no file after an abort that came while the previous one was being put in place', async () => {
    const from = new FileStorage(srcDir);
    const files = await smallFiles(from, 3);
    const opened: string[] = [];
    const source = sourceWatching(from, (p) => opened.push(p));
    const abort = new AbortController();
    const to = new (class extends FileStorage {
      override async rename(a: string, b: string) {
        await super.rename(a, b);
        abort.abort(); // the operator's Ctrl-C, as the first file lands
      }
    })(dstDir);
    await expect(copyFiles({ from: source, to, files, state: new MemoryCopyState(), signal: abort.signal, concurrency: 1 })).rejects.toMatchObject({ name: 'AbortError' });
    expect(opened).toEqual(['r/0.xml']);
    expect((await listAll(to)).map((f) => f.path)).toEqual(['r/0.xml']);
  });
  it('records a file that landed during a barrier within the batch wait after that barrier', async () => {
    const from = new FileStorage(srcDir);
    for (const [p, text] of [['r/a.xml', 'first'], ['r/b.xml', 'second'], ['r/c.webm', 'third']]) await from.writeText(p!, text!);
    const state = new MemoryCopyState();
    let recordedDuringC = false;
    // a.xml's barrier is slow, b.xml lands while it runs; c.webm's bytes come only once b.xml is recorded (or after 5 s).
    const source = sourceWatching(from, async (p) => {
      if (p === 'r/b.xml') await new Promise((r) => setTimeout(r, 100)); // lands once a.xml's barrier is under way
      if (p === 'r/c.webm') recordedDuringC = await waitUntil(() => state.records.has('r/b.xml'));
    });
    let barriers = 0;
    const to = new (class extends FileStorage {
      override async sync(paths: readonly string[]) {
        if (barriers++ === 0) await new Promise((r) => setTimeout(r, 300));
        await super.sync(paths);
      }
    })(dstDir);
    const files = [{ path: 'r/a.xml', size: 5 }, { path: 'r/b.xml', size: 6 }, { path: 'r/c.webm', size: 5 }];
    await copyFiles({ from: source, to, files, state, concurrency: 1, batch: { files: 1000, bytes: 1 << 30, waitMs: 20 } });
    expect(recordedDuringC).toBe(true);
    expect(state.records.size).toBe(3);
  });
});
