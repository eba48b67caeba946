// Pipelined SFTP reads and writes: several requests on the wire per file
// handle instead of one (ssh2's streams wait for each answer before sending
// the next request, so a file moves one round trip per chunk). Every request
// carries its own offset. OpenSSH's sftp-server answers the requests of a
// connection one at a time, in order, so a file written this way grows as a
// prefix: a writer killed midway leaves a shorter file, never one with a hole.
import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

export interface PipelineOptions {
  /** requests in flight at once for this handle */
  depth: number;
  /** bytes per request: at most the server's limit (limits@openssh.com) */
  chunk: number;
  signal?: AbortSignal;
}

/**
 * Writes every byte of `data` at `start` onwards, with up to `depth` write
 * requests in flight, and resolves with the count once the server has
 * acknowledged all of them. On a failure or an abort it waits for the requests
 * already sent to be answered (the handle may then be closed) and rejects.
 */
export async function writePipelined(sftp: SFTPWrapper, handle: Buffer, start: number, data: AsyncIterable<Buffer> | Iterable<Buffer>, options: PipelineOptions): Promise<number> {
  let position = start;
  let inFlight = 0;
  // In an object: TypeScript would narrow a plain `let` to its initial null.
  const failed: { err?: Error } = {};
  let wake: (() => void) | null = null;
  const answered = (err: Error | null | undefined) => {
    inFlight--;
    if (err) failed.err ??= err;
    const w = wake;
    wake = null;
    w?.();
  };
  // Until at most `n` requests are unanswered, or one has failed.
  const until = async (n: number) => {
    while (inFlight > n && !failed.err) await new Promise<void>((r) => (wake = r));
  };
  try {
    for await (const chunk of data) {
      options.signal?.throwIfAborted();
      // Pieces of equal size: a 256 KiB chunk over a limit of 255 KiB goes as two halves, not as 255 KiB and a 1 KiB straggler.
      const size = Math.ceil(chunk.length / Math.ceil(chunk.length / options.chunk));
      for (let off = 0; off < chunk.length; off += size) {
        await until(options.depth - 1);
        if (failed.err) throw failed.err;
        const piece = chunk.subarray(off, Math.min(chunk.length, off + size));
        inFlight++;
        // ssh2 copies `piece` into the packet at once: the source buffer is not held.
        sftp.write(handle, piece, 0, piece.length, position, answered);
        position += piece.length;
      }
    }
  } finally {
    // Even when failing: a handle closed under unanswered writes would report them to nobody.
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  }
  if (failed.err) throw failed.err;
  return position - start;
}

/**
 * A stream of the file behind `handle` from `start`, with up to `depth` read
 * requests in flight; chunks come out in file order. `onEnd` runs once, when
 * the stream ends or is destroyed, after every request sent has been answered
 * (it closes the handle).
 */
export function readPipelined(sftp: SFTPWrapper, handle: Buffer, start: number, options: Omit<PipelineOptions, 'signal'> & { onEnd: () => void }): Readable {
  interface Slot {
    position: number;
    length: number;
    result?: { err?: Error; buf?: Buffer; n?: number };
  }
  const queue: Slot[] = [];
  let next = start;
  let eof = false;
  let inFlight = 0;
  let finished = false;
  let ended = false;
  const finish = () => {
    if (finished || inFlight > 0 || !ended) return;
    finished = true;
    options.onEnd();
  };
  const send = (slot: Slot) => {
    inFlight++;
    const buf = Buffer.allocUnsafe(slot.length);
    sftp.read(handle, buf, 0, slot.length, slot.position, (err, n) => {
      inFlight--;
      slot.result = err ? { err } : { buf, n: n ?? 0 };
      if (ended) finish();
      else drain();
    });
  };
  // Keeps `depth` requests out, then hands over the answers at the head of the queue, in order.
  const fill = () => {
    while (!eof && queue.length < options.depth) {
      const slot = { position: next, length: options.chunk };
      next += options.chunk;
      queue.push(slot);
      send(slot);
    }
  };
  const drain = () => {
    while (queue[0]?.result) {
      const slot = queue.shift()!;
      const { err, buf, n } = slot.result!;
      if (err) return stream.destroy(err);
      if (n === 0) {
        // End of file: the requests behind this one read past it too.
        eof = true;
        queue.length = 0;
        stream.push(null);
        return;
      }
      // A short read before the end: ask again for the rest of this slot, ahead of the others.
      if (n! < slot.length) {
        const rest = { position: slot.position + n!, length: slot.length - n! };
        queue.unshift(rest);
        send(rest);
      }
      if (!stream.push(buf!.subarray(0, n))) return;
    }
    if (!stream.readableEnded) fill();
  };
  const stream = new Readable({
    highWaterMark: options.chunk,
    read: () => drain(),
    destroy: (err, cb) => {
      ended = true;
      finish();
      cb(err);
    },
  });
  stream.once('end', () => {
    ended = true;
    finish();
  });
  return stream;
}

/**
 * The file behind `handle` from `start`, as chunks that share a few buffers:
 * each chunk is valid until the next one is asked for (the caller has hashed
 * and written it by then), so a file costs `depth` + 1 buffers, not one per
 * request. Up to `depth` reads are in flight. An abort is seen while waiting
 * for an answer, too. Requests still out when the caller stops are left to
 * fill buffers no one reads; the caller closes the handle.
 */
export async function* readPipelinedReusing(
  sftp: SFTPWrapper,
  handle: Buffer,
  start: number,
  options: PipelineOptions,
): AsyncGenerator<Buffer, void, undefined> {
  interface Slot {
    position: number;
    length: number;
    buf: Buffer;
    answer: Promise<{ err?: Error; n: number }>;
  }
  const free: Buffer[] = [];
  const send = (position: number, length: number): Slot => {
    const buf = free.pop() ?? Buffer.allocUnsafe(options.chunk);
    const answer = new Promise<{ err?: Error; n: number }>((resolve) =>
      sftp.read(handle, buf, 0, length, position, (err, n) => resolve(err ? { err, n: 0 } : { n: n ?? 0 })),
    );
    return { position, length, buf, answer };
  };
  const signal = options.signal;
  let onAbort: (() => void) | undefined;
  const aborted = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      })
    : null;
  aborted?.catch(() => {}); // raced below; unobserved when no abort comes
  const queue: Slot[] = [];
  let next = start;
  try {
    for (;;) {
      while (queue.length < options.depth) {
        queue.push(send(next, options.chunk));
        next += options.chunk;
      }
      const slot = queue.shift()!;
      const { err, n } = await (aborted ? Promise.race([slot.answer, aborted]) : slot.answer);
      if (err) throw err;
      if (n === 0) return; // end of file; the requests behind this one read past it too
      // A short read before the end: ask again for the rest of this slot, ahead of the others.
      if (n < slot.length) queue.unshift(send(slot.position + n, slot.length - n));
      yield slot.buf.subarray(0, n);
      // Asked for the next chunk: the caller is done with this one.
      free.push(slot.buf);
    }
  } finally {
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
}
