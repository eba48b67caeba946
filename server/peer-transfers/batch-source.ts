// The package's files, many to a request. The copy engine asks each of its workers' files on its
// own; the files asked while a request is under way are sent as the next one (`POST .../files`,
// their paths), and the source answers their bytes one after the other, each exactly the size the
// manifest names, in the order asked. This hands each file's share to the stream its worker reads,
// so a package of thousands of small files costs tens of requests (each with its capability check,
// DPoP proof and proof record at both ends), not one each. A file asked from an offset (a resumed
// one) is read alone with a Range request. The bytes are checked by the copy as ever (SHA-256 against
// the manifest): a source that framed them wrongly gets its files refused, not stored.
import { PassThrough, type Readable } from 'node:stream';
import type { CopySource } from '../transfers/copy.js';
import type { ReadOptions } from '../storage/types.js';

/** At most this many files or bytes in one request (one large file alone may pass the bytes). */
export const PULL_BATCH = { files: 64, bytes: 64 * 1024 * 1024 };
/** Requests under way at once: a second one fills the wait between the end of one answer and the next. */
const IN_FLIGHT = 2;

interface Wanted {
  path: string;
  size: number;
  out: PassThrough;
  resolve: (stream: Readable) => void;
  reject: (err: unknown) => void;
}

export interface BatchedSourceOptions {
  /** Each file's size as the manifest names it: what the answer's bytes are cut by. */
  sizes: ReadonlyMap<string, number>;
  /** One request for these files' bytes, one after the other (the answer, unread). */
  fetchMany: (paths: string[]) => Promise<Response>;
  /** One file's bytes from `start` (a resumed file, or one the manifest does not size). */
  readFrom: (path: string, start: number) => Promise<Readable>;
  limits?: typeof PULL_BATCH;
}

export class BatchedSource implements CopySource {
  readonly #o: BatchedSourceOptions;
  readonly #limits: typeof PULL_BATCH;
  #queue: Wanted[] = [];
  #inFlight = 0;
  #scheduled = false;
  /** requests made so far (for tests and the benchmark) */
  requests = 0;

  constructor(options: BatchedSourceOptions) {
    this.#o = options;
    this.#limits = options.limits ?? PULL_BATCH;
  }

  createReadStream(path: string, options?: ReadOptions): Promise<Readable> {
    const start = options?.start ?? 0;
    const size = this.#o.sizes.get(path);
    if (start > 0 || size === undefined) {
      this.requests++;
      return this.#o.readFrom(path, start);
    }
    return new Promise((resolve, reject) => {
      const out = new PassThrough();
      // Its reader may not be listening yet when the answer breaks off: the error still reaches it.
      out.on('error', () => {});
      this.#queue.push({ path, size, out, resolve, reject });
      this.#schedule();
    });
  }

  /** Asks once the workers that asked in the same turn have all asked: they share the request. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    // With one under way, the next waits until enough files are asked to be worth a request.
    while (this.#queue.length > 0 && (this.#inFlight === 0 || (this.#inFlight < IN_FLIGHT && this.#queue.length >= this.#limits.files / 2))) {
      const batch = this.#take();
      this.#inFlight++;
      this.requests++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  #take(): Wanted[] {
    let n = 0;
    let bytes = 0;
    while (n < this.#queue.length && n < this.#limits.files && (n === 0 || bytes + this.#queue[n]!.size <= this.#limits.bytes)) bytes += this.#queue[n++]!.size;
    return this.#queue.splice(0, n);
  }

  async #run(batch: Wanted[]): Promise<void> {
    let res: Response;
    try {
      res = await this.#o.fetchMany(batch.map((w) => w.path));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => {});
      const err = new Error(`the source answered ${res.status} for ${batch.length} file(s), e.g. ${batch[0]!.path}`);
      for (const w of batch) w.reject(err);
      return;
    }
    for (const w of batch) w.resolve(w.out);
    await split(res.body, batch);
  }
}

/** What went wrong in cutting an answer apart (a failed read of the answer is worded by split). */
class SplitError extends Error {}

/** Cuts `body` into the files of `batch` by their sizes; a short, long or abandoned answer ends the rest with an error. */
async function split(body: ReadableStream<Uint8Array>, batch: Wanted[]): Promise<void> {
  const reader = body.getReader();
  let i = 0;
  let left = batch[0]!.size;
  // Empty files take no bytes: each ends as its turn comes. The last ends only with the answer, so
  // bytes beyond it reach its reader as an error.
  const nextFile = () => {
    while (i < batch.length - 1 && left === 0) {
      batch[i]!.out.end();
      left = batch[++i]!.size;
    }
  };
  try {
    nextFile();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      while (chunk.length > 0) {
        if (left === 0) throw new SplitError(`the source sent more bytes than the ${batch.length} file(s) asked for`);
        const out = batch[i]!.out;
        if (out.destroyed) throw new SplitError(`the copy of ${batch[i]!.path} stopped`);
        const part = chunk.subarray(0, left);
        chunk = chunk.subarray(part.length);
        left -= part.length;
        if (!out.write(part)) await drained(out);
        nextFile();
      }
    }
    if (left > 0) throw new SplitError(`the source's answer ended inside ${batch[i]!.path} (${batch.length - i} of ${batch.length} file(s) short)`);
    batch[i]!.out.end();
  } catch (err) {
    await reader.cancel().catch(() => {});
    // A connection cut says only "terminated": the file it cut is what the operator needs to know.
    const reason = err instanceof SplitError ? err : new Error(`the source's answer broke off inside ${batch[i]!.path} (${batch.length - i} of ${batch.length} file(s) short): ${(err as Error).message}`);
    for (const w of batch.slice(i)) w.out.destroy(reason);
  }
}

/** Until `out` wants more bytes, or is gone (its reader stopped). */
function drained(out: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
