// The one interface every recordings storage backend implements (a cluster's
// `published` tree on a local disk or behind SFTP). Paths are relative POSIX
// paths inside the storage root; see paths.ts for what is refused.
import type { Readable, Writable } from 'node:stream';

export interface StorageEntry {
  /** relative POSIX path of a regular file, from the storage root */
  path: string;
  size: number;
}

export interface StorageStat {
  size: number;
  isFile: boolean;
  isDirectory: boolean;
  mtime: Date;
}

export interface ReadOptions {
  /** first byte to read (resume); default 0 */
  start?: number;
}

export interface WriteOptions {
  /** keep the file's current bytes and write after them (resume a partial file) */
  append?: boolean;
  signal?: AbortSignal;
  /**
   * Leave making the file durable to a later `sync` of its final path, so a
   * caller writing many files pays for one durability barrier per batch
   * instead of one per file. A backend that cannot defer syncs at once.
   */
  deferSync?: boolean;
}

export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface RecordingStorage {
  /** the storage URL with no credentials in it: safe for logs and errors */
  readonly url: string;
  /**
   * True when `writeFile` is done with each chunk of its data (written, or
   * copied into a request) before it asks for the next one: a caller may then
   * refill one buffer for every chunk instead of allocating one per chunk.
   */
  readonly consumesChunks?: boolean;
  /** every regular file under `prefix` (a directory; '' for the whole root), recursively, sorted by path */
  list(prefix?: string): AsyncIterable<StorageEntry>;
  /** null when nothing is at `path` */
  stat(path: string): Promise<StorageStat | null>;
  exists(path: string): Promise<boolean>;
  createReadStream(path: string, options?: ReadOptions): Promise<Readable>;
  /**
   * Optional: the file's bytes from `start` in chunks that share one buffer
   * (or a few): each chunk is valid until the next is asked for. No buffer
   * per chunk, for a caller done with each chunk by then.
   */
  readReusingBuffer?(path: string, options?: ReadOptions & { signal?: AbortSignal }): AsyncIterable<Buffer>;
  /** a stream that writes `path` (parent directories created); resolves once the file is open */
  createWriteStream(path: string, options?: Omit<WriteOptions, 'signal'>): Promise<Writable>;
  /** writes every byte of `data` to `path` and resolves with the count once they are stored */
  writeFile(path: string, data: ByteSource, options?: WriteOptions): Promise<number>;
  /** atomic within the storage; replaces `to` if it exists; creates `to`'s parent directories */
  rename(from: string, to: string): Promise<void>;
  /** idempotent: a missing path is not an error. Directories need `recursive`. The root cannot be removed. */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  readText(path: string): Promise<string>;
  /** replaces the file atomically (written beside it, then renamed) */
  writeText(path: string, text: string): Promise<void>;
  /**
   * Makes the files at `paths` (written with `deferSync`, then renamed into
   * place) durable with their directory entries: once it resolves they
   * survive a power cut. One call for many files is the point.
   */
  sync(paths: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** A path given to a storage that would leave its root or is not a plain relative path. */
export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_STORAGE_PATH';
  constructor(path: string, reason: string) {
    super(`refused storage path ${JSON.stringify(path)}: ${reason}`);
    this.name = 'UnsafePathError';
  }
}

export class StorageNotFoundError extends Error {
  readonly code = 'STORAGE_NOT_FOUND';
  constructor(url: string, path: string) {
    super(`no such file in ${url}: ${path}`);
    this.name = 'StorageNotFoundError';
  }
}
