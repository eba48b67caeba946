// Recordings on a local (or locally mounted) disk: file:///var/bigbluebutton/published.
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, opendir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, Readable, type Writable } from 'node:stream';
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
  /**
   * How `sync` makes a batch durable. 'syncfs' (the default on Linux): one
   * `sync -f` per filesystem the batch is on, which writes back everything
   * dirty there at once, the way `cp -r` followed by `sync` does; per-file
   * fsync pays one journal commit per file. 'fsync': each file, then each
   * directory from the file's up to the root.
   */
  syncMethod?: 'syncfs' | 'fsync';
}

// Files and directories fsynced at once by the 'fsync' method.
const FSYNC_CONCURRENCY = 8;
// Chunks of readReusingBuffer: larger ones mean fewer trips through the thread pool and the event loop per file.
const CHUNK = 1024 * 1024;
// Chunks of streams, a fresh buffer each.
const STREAM_CHUNK = 256 * 1024;


export class FileStorage implements RecordingStorage {
  readonly url: string;
  readonly root: string;
  // writeFile has written each chunk before it asks for the next.
  readonly consumesChunks = true;
  private readonly fsync: boolean;
  private syncMethod: 'syncfs' | 'fsync';
  // Directories known to exist: saves a mkdir per file when copying thousands.
  private readonly madeDirs = new Set<string>();

  constructor(root: string, options: FileStorageOptions = {}) {
    if (!path.isAbsolute(root)) throw new UnsafePathError(root, 'a file storage root must be an absolute directory');
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
    this.fsync = options.fsync ?? true;
    this.syncMethod = options.syncMethod ?? (process.platform === 'linux' ? 'syncfs' : 'fsync');
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
    return createReadStream(full, { fd: handle, start: options.start ?? 0, highWaterMark: STREAM_CHUNK });
  }

  /**
   * The file's bytes from `start` as views into one buffer that is reused:
   * each chunk is valid only until the next is asked for. For a consumer that
   * is done with a chunk before it asks for the next (FileStorage.writeFile
   * is), it saves a fresh buffer per chunk and the garbage it makes.
   */
  async *readReusingBuffer(p: string, options: ReadOptions = {}): AsyncIterable<Buffer> {
    const clean = safePath(p);
    const handle = await open(this.abs(clean), 'r').catch((err) => {
      throw isNotFound(err) ? new StorageNotFoundError(this.url, clean) : err;
    });
    try {
      let pos = options.start ?? 0;
      const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, (await handle.stat()).size - pos)));
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
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

  async createWriteStream(p: string, options: { append?: boolean; deferSync?: boolean } = {}): Promise<Writable> {
    const clean = safePath(p);
    const full = this.abs(clean);
    const handle = await this.inDir(parentOf(clean), () => open(full, options.append ? 'a' : 'w'));
    return createWriteStream(full, { fd: handle, flush: this.fsync && !options.deferSync, highWaterMark: STREAM_CHUNK });
  }

  // A plain write loop rather than a stream pipeline: per chunk it costs one
  // trip through the thread pool and nothing else.
  async writeFile(p: string, data: ByteSource, options: WriteOptions = {}): Promise<number> {
    const clean = safePath(p);
    const full = this.abs(clean);
    const { signal } = options;
    signal?.throwIfAborted();
    if (signal && data instanceof Readable) addAbortSignal(signal, data);
    const handle = await this.inDir(parentOf(clean), () => open(full, options.append ? 'a' : 'w'));
    let written = 0;
    try {
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        for (let off = 0; off < bytes.byteLength; ) off += (await handle.write(bytes, off, bytes.byteLength - off)).bytesWritten;
        written += bytes.byteLength;
      }
      if (this.fsync && !options.deferSync) await handle.sync();
    } finally {
      await handle.close();
    }
    return written;
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

  async sync(paths: readonly string[]): Promise<void> {
    if (!this.fsync || paths.length === 0) return;
    const files = paths.map((p) => this.abs(safePath(p)));
    const dirs = [...new Set(files.map((f) => path.dirname(f)))];
    if (this.syncMethod === 'syncfs') {
      // One directory per filesystem: a tree may have another disk mounted inside it.
      const byDevice = new Map<number, string>();
      for (const d of dirs) {
        const dev = (await stat(d)).dev;
        if (!byDevice.has(dev)) byDevice.set(dev, d);
      }
      try {
        await Promise.all([...byDevice.values()].map(syncfs));
        return;
      } catch (err) {
        // No `sync` that takes -f (not coreutils): fsync one by one from now on.
        if (!(err instanceof SyncfsMissing)) throw err;
        this.syncMethod = 'fsync';
      }
    }
    const ancestors = new Set<string>();
    for (let d of dirs) {
      for (; d !== this.root && d.startsWith(this.root + path.sep); d = path.dirname(d)) ancestors.add(d);
      ancestors.add(this.root);
    }
    // The files first, then the directories that name them: a name made durable before its bytes would be worse than none.
    await eachLimited(files, FSYNC_CONCURRENCY, fsyncPath);
    await eachLimited([...ancestors], FSYNC_CONCURRENCY, fsyncPath);
  }

  async close(): Promise<void> {}
}

class SyncfsMissing extends Error {}

// syncfs(2) on the filesystem holding `dir`, through coreutils' `sync -f`; a failure (EIO) is an error.
function syncfs(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', dir], (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || /invalid option|unrecognized option/.test(stderr)) return reject(new SyncfsMissing());
      reject(new Error(`sync -f ${dir} failed: ${stderr.trim() || err.message}`));
    });
  });
}

async function fsyncPath(full: string): Promise<void> {
  const handle = await open(full, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT' || (err as NodeJS.ErrnoException)?.code === 'ENOTDIR';
}
