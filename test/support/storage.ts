// Helpers for the storage and copy tests: a storage wrapper that counts (and
// can slow down) source reads, a copy state kept in a JSON-lines file so it
// survives a killed process, and a generator of recording-like trees.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import type { ByteSource, ReadOptions, RecordingStorage, StorageEntry, StorageStat, WriteOptions } from '../../server/storage/types.js';
import type { CopyRecord, CopyStateStore } from '../../server/transfers/copy.js';

/** Delegates to `inner`, counting bytes handed out by read streams. */
export class CountingStorage implements RecordingStorage {
  bytesRead = 0;
  constructor(
    readonly inner: RecordingStorage,
    private readonly hooks: { delayMsPerChunk?: number; onRead?: (total: number) => void } = {},
  ) {}
  get url() {
    return this.inner.url;
  }
  list(prefix?: string): AsyncIterable<StorageEntry> {
    return this.inner.list(prefix);
  }
  stat(p: string): Promise<StorageStat | null> {
    return this.inner.stat(p);
  }
  exists(p: string): Promise<boolean> {
    return this.inner.exists(p);
  }
  async createReadStream(p: string, options?: ReadOptions): Promise<Readable> {
    const stream = await this.inner.createReadStream(p, options);
    const delay = this.hooks.delayMsPerChunk ?? 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.bytesRead += chunk.length;
        this.hooks.onRead?.(this.bytesRead);
        if (delay > 0) setTimeout(() => cb(null, chunk), delay);
        else cb(null, chunk);
      },
    });
    stream.on('error', (err) => counter.destroy(err));
    counter.on('close', () => stream.destroy());
    return stream.pipe(counter);
  }
  createWriteStream(p: string, options?: { append?: boolean }): Promise<Writable> {
    return this.inner.createWriteStream(p, options);
  }
  writeFile(p: string, data: ByteSource, options?: WriteOptions): Promise<number> {
    return this.inner.writeFile(p, data, options);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  remove(p: string, options?: { recursive?: boolean }): Promise<void> {
    return this.inner.remove(p, options);
  }
  readText(p: string): Promise<string> {
    return this.inner.readText(p);
  }
  writeText(p: string, text: string): Promise<void> {
    return this.inner.writeText(p, text);
  }
  sync(paths: readonly string[]): Promise<void> {
    return this.inner.sync(paths);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A copy state in a JSON-lines file: what a database row would survive, a SIGKILL survives. */
export class FileCopyState implements CopyStateStore {
  constructor(readonly file: string) {}
  async done(): Promise<CopyRecord[]> {
    if (!existsSync(this.file)) return [];
    const byPath = new Map<string, CopyRecord>();
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as CopyRecord & { doneAt: string };
      byPath.set(r.path, { ...r, doneAt: new Date(r.doneAt) });
    }
    return [...byPath.values()];
  }
  async markDone(record: CopyRecord): Promise<void> {
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

export interface TreeFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * A published-recordings-like tree under `root`: per recording one big video,
 * a few middling slides and several small xml/json files. Returns every file.
 */
export function makeRecordingTree(root: string, { recordings = 5, bigBytes = 1 << 20, smallFiles = 8 } = {}): TreeFile[] {
  const files: TreeFile[] = [];
  const put = (rel: string, size: number) => {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    const data = randomBytes(size);
    writeFileSync(full, data);
    files.push({ path: rel, size, sha256: createHash('sha256').update(data).digest('hex') });
  };
  for (let r = 0; r < recordings; r++) {
    const id = `presentation/${createHash('sha1').update(String(r)).digest('hex')}-16${r}0000000`;
    put(`${id}/video/webcams.webm`, bigBytes + r * 7919);
    put(`${id}/deskshare/deskshare.webm`, Math.floor(bigBytes / 3) + r);
    put(`${id}/metadata.xml`, 600 + r);
    for (let i = 0; i < smallFiles; i++) put(`${id}/presentation/slide-${i}.png`, 1000 + ((i * 7757 + r * 131) % 40_000));
    put(`${id}/cursor.xml`, 0); // empty files exist in real recordings
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export function sha256File(full: string): string {
  return createHash('sha256').update(readFileSync(full)).digest('hex');
}
