// Recordings on a local (or locally mounted) disk: file:///var/bigbluebutton/published.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, opendir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { joinPath, parentOf, safePath, tempSibling } from './paths.js';
import {
  StorageNotFoundError,
  UnsafePathError,
  type ByteSource,
  type ReadOptions,
  type RecordingStorage,
  type StorageEntry,
  type StorageStat,
  type WriteOptions,
} from './types.js';

export interface FileStorageOptions {
  /**
   * fsync each written file before reporting it stored (default true): a copy
   * recorded as done must survive a power cut, not only a process crash.
   */
  fsync?: boolean;
}

export class FileStorage implements RecordingStorage {
  readonly url: string;
  readonly root: string;
  private readonly fsync: boolean;
  // Directories known to exist: saves a mkdir per file when copying thousands.
  private readonly madeDirs = new Set<string>();

  constructor(root: string, options: FileStorageOptions = {}) {
    if (!path.isAbsolute(root)) throw new UnsafePathError(root, 'a file storage root must be an absolute directory');
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
    this.fsync = options.fsync ?? true;
  }

  private abs(clean: string): string {
    // safePath already refused '..'; this is the belt to its braces.
    const full = path.join(this.root, clean);
    if (full !== this.root && !full.startsWith(this.root + path.sep)) throw new UnsafePathError(clean, 'leaves the storage root');
    return full;
  }

  async *list(prefix = ''): AsyncIterable<StorageEntry> {
    const start = safePath(prefix, { allowRoot: true });
    const st = await this.stat(start);
    if (!st?.isDirectory) return;
    yield* this.walk(start);
  }

  // Depth first, names sorted, so listings are stable across runs and backends.
  // Symbolic links are not followed: they could point out of the root.
  private async *walk(dir: string): AsyncIterable<StorageEntry> {
    const entries: { name: string; dir: boolean }[] = [];
    for await (const d of await opendir(this.abs(dir))) {
      if (d.isDirectory()) entries.push({ name: d.name, dir: true });
      else if (d.isFile()) entries.push({ name: d.name, dir: false });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = joinPath(dir, e.name);
      if (e.dir) yield* this.walk(rel);
      else yield { path: rel, size: (await lstat(this.abs(rel))).size };
    }
  }

  async stat(p: string): Promise<StorageStat | null> {
    const clean = safePath(p, { allowRoot: true });
    try {
      const s = await stat(this.abs(clean));
      return { size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory(), mtime: s.mtime };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async exists(p: string): Promise<boolean> {
    return (await this.stat(p)) !== null;
  }

  async createReadStream(p: string, options: ReadOptions = {}): Promise<Readable> {
    const clean = safePath(p);
    const full = this.abs(clean);
    // Open first so a missing file is a rejected promise, not a stream error later.
    const handle = await open(full, 'r').catch((err) => {
      throw isNotFound(err) ? new StorageNotFoundError(this.url, clean) : err;
    });
    return createReadStream(full, { fd: handle, start: options.start ?? 0, highWaterMark: 256 * 1024 });
  }

  private async mkdirp(dir: string, force = false): Promise<void> {
    if (!force && this.madeDirs.has(dir)) return;
    await mkdir(this.abs(dir), { recursive: true });
    this.madeDirs.add(dir);
  }

  // Runs `op` in directory `dir`, made first; if someone removed it behind our
  // back (ENOENT), makes it again once.
  private async inDir<T>(dir: string, op: () => Promise<T>): Promise<T> {
    await this.mkdirp(dir);
    try {
      return await op();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.mkdirp(dir, true);
      return op();
    }
  }

  async createWriteStream(p: string, options: { append?: boolean } = {}): Promise<Writable> {
    const clean = safePath(p);
    const full = this.abs(clean);
    const handle = await this.inDir(parentOf(clean), () => open(full, options.append ? 'a' : 'w'));
    return createWriteStream(full, { fd: handle, flush: this.fsync, highWaterMark: 256 * 1024 });
  }

  async writeFile(p: string, data: ByteSource, options: WriteOptions = {}): Promise<number> {
    const out = await this.createWriteStream(p, options);
    const source = data instanceof Readable ? data : Readable.from(data as Iterable<Uint8Array>, { objectMode: false });
    await pipeline(source, out, { signal: options.signal });
    return (out as unknown as { bytesWritten: number }).bytesWritten;
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.abs(safePath(from));
    const cleanTo = safePath(to);
    await this.inDir(parentOf(cleanTo), () => rename(src, this.abs(cleanTo))).catch((err) => {
      throw isNotFound(err) ? new StorageNotFoundError(this.url, from) : err;
    });
  }

  async remove(p: string, options: { recursive?: boolean } = {}): Promise<void> {
    const clean = safePath(p);
    await rm(this.abs(clean), { recursive: options.recursive ?? false, force: true });
    for (const d of this.madeDirs) if (d === clean || d.startsWith(clean + '/')) this.madeDirs.delete(d);
  }

  async readText(p: string): Promise<string> {
    const clean = safePath(p);
    return readFile(this.abs(clean), 'utf8').catch((err) => {
      throw isNotFound(err) ? new StorageNotFoundError(this.url, clean) : err;
    });
  }

  async writeText(p: string, text: string): Promise<void> {
    const clean = safePath(p);
    const tmp = tempSibling(clean);
    try {
      await this.writeFile(tmp, [Buffer.from(text, 'utf8')]);
      await this.rename(tmp, clean);
    } catch (err) {
      await this.remove(tmp).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {}
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT' || (err as NodeJS.ErrnoException)?.code === 'ENOTDIR';
}
