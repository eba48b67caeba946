// The resumable, verified copy of a tenancy's recordings from one storage to
// another. Each file is read once and streamed (bounded memory) through
// SHA-256 into `path.partial`, then renamed into place. Files are recorded
// done in batches, each after one durability barrier (`to.sync`) covering all
// of them: a file is never recorded done before its bytes and its name would
// survive a power cut, and a disk pays one barrier per batch, not per file. A
// crash leaves at most one partial file per worker, and renamed files not yet
// recorded: the next run re-hashes the bytes of a partial file and continues
// from there, and copies an unrecorded file again.
import { createHash, type Hash } from 'node:crypto';
import { addAbortSignal } from 'node:stream';
import { safePath } from '../storage/paths.js';
import type { RecordingStorage } from '../storage/types.js';
import { failpoint } from '../failpoints.js';

export interface CopyFile {
  path: string;
  size: number;
}

export interface CopyRecord {
  path: string;
  size: number;
  /** hex SHA-256 of the bytes stored on the target */
  sha256: string;
  doneAt: Date;
}

/** Where a copy job keeps what it has finished (the transfer keeps it in a table). */
export interface CopyStateStore {
  /** every file recorded done so far by this job */
  done(): Promise<CopyRecord[]>;
  /** records one file done; called once the file is in place and durable */
  markDone(record: CopyRecord): Promise<void>;
  /** records a durable batch of files done at once, all or none (when absent, markDone is called for each) */
  markAllDone?(records: CopyRecord[]): Promise<void>;
}

export class MemoryCopyState implements CopyStateStore {
  readonly records = new Map<string, CopyRecord>();
  async done(): Promise<CopyRecord[]> {
    return [...this.records.values()].map((r) => ({ ...r }));
  }
  async markDone(record: CopyRecord): Promise<void> {
    this.records.set(record.path, { ...record });
  }
}

export interface CopyProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** bytes moved by this run per second (skipped and resumed bytes are not counted) */
  bytesPerSecond: number;
  /** null until a rate is known */
  etaSeconds: number | null;
}

/** What a copy reads from: a storage, or anything that streams a file's bytes from an offset (a peer's package over HTTP). */
export type CopySource = Pick<RecordingStorage, 'createReadStream'>;

export interface CopyOptions {
  from: CopySource;
  to: RecordingStorage;
  files: CopyFile[];
  state: CopyStateStore;
  signal?: AbortSignal;
  onProgress?: (progress: CopyProgress) => void;
  /** least time between two progress reports during a file (default 1000 ms; 0: every chunk) */
  progressIntervalMs?: number;
  /** re-hash files already recorded done and copy them again when the target differs */
  verifyDone?: boolean;
  /** files copied at once (default 8): many small files cost round trips and barriers, not bandwidth */
  concurrency?: number;
  /** when copied files are made durable and recorded done: after this many files or bytes, or this long (defaults: BATCH) */
  batch?: Partial<typeof BATCH>;
}

/**
 * Default batch of files made durable and recorded together: a barrier per
 * thousand small files or 256 MiB, and none later than 5 s after a file is in
 * place, so a crash costs at most that much copying again.
 */
export const BATCH = { files: 1000, bytes: 256 * 1024 * 1024, waitMs: 5000 };

export interface CopyResult {
  /** one record per requested file, in the order given */
  manifest: CopyRecord[];
  copiedFiles: number;
  skippedFiles: number;
  resumedFiles: number;
  /** source bytes read by this run */
  bytesRead: number;
}

export class CopyError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'CopyError';
  }
}

export const PARTIAL_SUFFIX = '.partial';

export async function copyFiles(options: CopyOptions): Promise<CopyResult> {
  const { from, to, files, state, signal } = options;
  checkFiles(files);
  signal?.throwIfAborted();

  const done = new Map((await state.done()).map((r) => [r.path, r]));
  const manifest = new Map<string, CopyRecord>();
  const result = { copiedFiles: 0, skippedFiles: 0, resumedFiles: 0, bytesRead: 0 };
  const progress = new ProgressMeter(files, options.onProgress, options.progressIntervalMs ?? 1000);

  // Renamed into place, waiting for the next durability barrier to be recorded done.
  const commits = new GroupCommit(async (batch) => {
    await to.sync(batch.map((r) => r.path));
    const doneAt = new Date();
    const records = batch.map((copied) => ({ ...copied, doneAt }));
    // One statement for the batch where the store can: a database round trip per file costs more than a small file's copy.
    if (state.markAllDone) await state.markAllDone(records);
    for (const rec of records) {
      if (!state.markAllDone) await state.markDone(rec);
      manifest.set(rec.path, rec);
      result.copiedFiles++;
      progress.fileDone(0, true);
    }
  }, { ...BATCH, ...options.batch });

  const copyOne = async (file: CopyFile): Promise<void> => {
    const record = done.get(file.path);
    if (record && record.size === file.size && (await stillThere(to, record, options.verifyDone ?? false, signal))) {
      manifest.set(file.path, record);
      result.skippedFiles++;
      progress.fileDone(file.size, false);
      return;
    }
    const partial = file.path + PARTIAL_SUFFIX;
    const existing = await to.stat(partial);
    let hash = createHash('sha256');
    let offset = 0;
    if (existing?.isFile && existing.size > 0 && existing.size <= file.size) {
      // Hash what the target holds, not what we think we wrote: a killed
      // writer may have lost its last buffered chunks.
      offset = await hashInto(hash, to, partial, signal);
      result.resumedFiles++;
      progress.add(offset, false);
    }
    if (offset < file.size || !existing || existing.size !== offset) {
      const source = sourceBytes(from, to, file, offset, hash, signal, (n) => {
        result.bytesRead += n;
        progress.add(n, true);
      });
      await to.writeFile(partial, source, { append: offset > 0, signal, deferSync: true });
    }
    const sha256 = hash.digest('hex');
    await to.rename(partial, file.path);
    // Waits when a full batch is already waiting: unrecorded work stays bounded.
    await commits.add({ path: file.path, size: file.size, sha256, doneAt: new Date() }); // doneAt set again when recorded
    // A failed barrier stops the workers taking new files.
    commits.throwIfFailed();
  };

  try {
    await runPool(files, options.concurrency ?? 8, copyOne, signal);
  } catch (err) {
    // What is already in place is still worth recording for the next run; the first failure is the one to report.
    await commits.flush().catch(() => {});
    throw err;
  }
  await commits.flush();
  signal?.throwIfAborted();
  progress.report(true);
  return { ...result, manifest: files.map((f) => manifest.get(f.path)!) };
}

/** Every file under `prefix` of a storage, ready to hand to copyFiles. */
export async function listFiles(storage: RecordingStorage, prefix = ''): Promise<CopyFile[]> {
  const files: CopyFile[] = [];
  for await (const f of storage.list(prefix)) files.push(f);
  return files;
}

export interface Mismatch {
  path: string;
  reason: 'missing' | 'size' | 'sha256';
  expected: { size: number; sha256: string };
  actual: { size: number; sha256?: string } | null;
}

/** Re-reads every file of `manifest` on `storage` and returns those that differ (none: verified). */
export async function verifyFiles(
  storage: RecordingStorage,
  manifest: ReadonlyArray<Pick<CopyRecord, 'path' | 'size' | 'sha256'>>,
  options: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  await runPool(
    manifest,
    options.concurrency ?? 2,
    async (m) => {
      const expected = { size: m.size, sha256: m.sha256 };
      const st = await storage.stat(m.path);
      if (!st?.isFile) return void mismatches.push({ path: m.path, reason: 'missing', expected, actual: null });
      if (st.size !== m.size) return void mismatches.push({ path: m.path, reason: 'size', expected, actual: { size: st.size } });
      const sha256 = await sha256Of(storage, m.path, options.signal);
      if (sha256 !== m.sha256) mismatches.push({ path: m.path, reason: 'sha256', expected, actual: { size: st.size, sha256 } });
    },
    options.signal,
  );
  const order = new Map(manifest.map((m, i) => [m.path, i]));
  return mismatches.sort((a, b) => order.get(a.path)! - order.get(b.path)!);
}

export async function sha256Of(storage: RecordingStorage, path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, storage, path, signal);
  return hash.digest('hex');
}

// Feeds a whole stored file into `hash`; returns its length.
async function hashInto(hash: Hash, storage: RecordingStorage, path: string, signal?: AbortSignal): Promise<number> {
  let n = 0;
  const stream = await storage.createReadStream(path);
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted();
      hash.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
  } finally {
    stream.destroy();
  }
  return n;
}

// The source bytes from `offset`, hashed and counted on their way to the target.
async function* sourceBytes(
  from: CopySource,
  to: RecordingStorage,
  file: CopyFile,
  offset: number,
  hash: Hash,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): AsyncIterable<Buffer> {
  let pos = offset;
  // From a source that refills a buffer (disk, SFTP) into a target done with
  // each chunk before it asks for the next (disk, SFTP): no buffer per chunk,
  // less garbage for the collector, a smaller peak RSS.
  const reusing = to.consumesChunks === true ? (from as Pick<RecordingStorage, 'readReusingBuffer'>).readReusingBuffer?.bind(from) : undefined;
  const stream = reusing ? null : await from.createReadStream(file.path, { start: offset });
  // An abort ends a read that is waiting on a stalled source, too.
  if (signal && stream) addAbortSignal(signal, stream);
  try {
    for await (const chunk of stream ?? reusing!(file.path, { start: offset, signal })) {
      signal?.throwIfAborted();
      pos += chunk.length;
      if (pos > file.size) throw new CopyError(file.path, `source is larger than the expected ${file.size} bytes (changed during the copy?)`);
      hash.update(chunk);
      onBytes(chunk.length);
      yield chunk;
      failpoint('copy.chunk');
    }
  } finally {
    stream?.destroy();
  }
  if (pos !== file.size) throw new CopyError(file.path, `source has ${pos} bytes, expected ${file.size} (changed during the copy?)`);
}

// A done record is trusted when the target still holds a file of its size, and,
// when asked, of its hash.
async function stillThere(to: RecordingStorage, record: CopyRecord, rehash: boolean, signal?: AbortSignal): Promise<boolean> {
  const st = await to.stat(record.path);
  if (!st?.isFile || st.size !== record.size) return false;
  return !rehash || (await sha256Of(to, record.path, signal)) === record.sha256;
}

function checkFiles(files: CopyFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    const clean = safePath(f.path);
    if (clean !== f.path) throw new CopyError(f.path, `give paths in normal form (${clean})`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new CopyError(f.path, `invalid size ${f.size}`);
    if (seen.has(f.path)) throw new CopyError(f.path, 'listed twice');
    seen.add(f.path);
  }
  // `a` is written through `a.partial`: both in one copy would overwrite each other.
  for (const p of seen) if (p.endsWith(PARTIAL_SUFFIX) && seen.has(p.slice(0, -PARTIAL_SUFFIX.length))) throw new CopyError(p, 'clashes with the partial file of its namesake');
}

// Runs `work` over `items` with at most `concurrency` at once; stops taking new
// items after the first failure or an abort, waits for the running ones, rethrows.
async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure ??= { err: signal.reason };
        return;
      }
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err: signal?.aborted ? signal.reason : err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}

/**
 * Group commit: records pile up until there are enough of them (files or
 * bytes) or the oldest has waited long enough, then one commit takes them
 * all. A barrier costs the disk a journal commit and stalls every writer
 * meanwhile: taken per file it would cost more than the copying. One commit
 * runs at a time; records added during it wait for the next.
 */
class GroupCommit {
  private pending: CopyRecord[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failure: { err: unknown } | null = null;

  constructor(
    private readonly commit: (batch: CopyRecord[]) => Promise<void>,
    private readonly limits: { files: number; bytes: number; waitMs: number },
  ) {}

  private flushing = false;

  /** resolves at once, or when a full batch is waiting behind a running commit, once that commit is over */
  async add(record: CopyRecord): Promise<void> {
    this.pending.push(record);
    this.pendingBytes += record.size;
    this.schedule();
    if (this.running && this.full()) await this.running;
  }

  private full(): boolean {
    return this.flushing || this.pending.length >= this.limits.files || this.pendingBytes >= this.limits.bytes;
  }

  private schedule(): void {
    if (this.running || !this.pending.length || this.failure) return;
    if (this.full()) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.limits.waitMs);
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.err;
  }

  /** commits everything added so far; rejects with the first failure */
  async flush(): Promise<void> {
    this.flushing = true;
    this.start();
    while (this.running) await this.running;
    this.throwIfFailed();
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // After a failed barrier nothing more is recorded: the copy is failing.
    if (this.running || !this.pending.length || this.failure) return;
    this.running = this.drain();
  }

  // Commits what is pending, and again while a full batch piled up meanwhile.
  private async drain(): Promise<void> {
    try {
      do {
        const batch = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        if (batch.length) await this.commit(batch);
      } while (this.full() && this.pending.length);
    } catch (err) {
      this.failure ??= { err };
    } finally {
      this.running = null;
    }
    if (!this.failure) this.schedule();
  }
}

class ProgressMeter {
  private filesDone = 0;
  private bytesDone = 0;
  private moved = 0;
  private readonly started = performance.now();
  private last = 0;
  private readonly bytesTotal: number;

  constructor(
    private readonly files: CopyFile[],
    private readonly onProgress: ((p: CopyProgress) => void) | undefined,
    private readonly intervalMs: number,
  ) {
    this.bytesTotal = files.reduce((s, f) => s + f.size, 0);
  }

  add(bytes: number, moved: boolean): void {
    this.bytesDone += bytes;
    if (moved) this.moved += bytes;
    this.report(false);
  }

  fileDone(bytes: number, moved: boolean): void {
    this.filesDone++;
    this.add(bytes, moved);
  }

  report(force: boolean): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.moved / seconds : 0;
    const left = this.bytesTotal - this.bytesDone;
    this.onProgress({
      filesDone: this.filesDone,
      filesTotal: this.files.length,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      bytesPerSecond: Math.round(rate),
      etaSeconds: left === 0 ? 0 : rate > 0 ? Math.ceil(left / rate) : null,
    });
  }
}
