// The pipelined SFTP reader and writer against a fake SFTP session that
// answers late, out of order and with short reads: what a server may do,
// beyond what OpenSSH's does on a local disk.
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import type { SFTPWrapper } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { readPipelined, readPipelinedReusing, writePipelined } from '../../server/storage/sftp-pipeline.js';

type Callback = (err: Error | null | undefined, n?: number) => void;

/** A file held in memory behind an SFTP-like read/write API; every answer waits until `answer()` picks it. */
function fakeSftp(file: Buffer, options: { shortReads?: boolean; failWriteAt?: number } = {}) {
  const pending: (() => void)[] = [];
  const stats = { inFlight: 0, maxInFlight: 0, writes: [] as { position: number; length: number }[], closed: false };
  let data = Buffer.from(file);
  const queue = (fn: () => void) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    pending.push(() => {
      stats.inFlight--;
      fn();
    });
  };
  const sftp = {
    read(_h: Buffer, buf: Buffer, off: number, len: number, position: number, cb: Callback) {
      queue(() => {
        let n = Math.max(0, Math.min(len, data.length - position));
        // A server may answer with less than asked before the end of the file.
        if (options.shortReads && n > 1) n = 1 + Math.floor(Math.random() * n);
        if (n > 0) data.copy(buf, off, position, position + n);
        cb(undefined, n);
      });
    },
    write(_h: Buffer, buf: Buffer, off: number, len: number, position: number, cb: Callback) {
      const bytes = Buffer.from(buf.subarray(off, off + len)); // as ssh2 does: copied into the packet at once
      stats.writes.push({ position, length: len });
      queue(() => {
        if (options.failWriteAt !== undefined && position >= options.failWriteAt) return cb(new Error('Failure'));
        if (data.length < position + len) data = Buffer.concat([data, Buffer.alloc(position + len - data.length)]);
        bytes.copy(data, position);
        cb(undefined);
      });
    },
  } as unknown as SFTPWrapper;
  // Answers the waiting requests in a random order, on later ticks, until none is left.
  const run = async () => {
    for (let idle = 0; idle < 5; ) {
      await new Promise((r) => setImmediate(r));
      if (!pending.length) {
        idle++;
        continue;
      }
      idle = 0;
      const i = Math.floor(Math.random() * pending.length);
      pending.splice(i, 1)[0]!();
    }
  };
  return { sftp, stats, run, contents: () => data };
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('pipelined SFTP reads', () => {
  for (const size of [0, 1, 4096, 4096 * 3, 4096 * 3 + 1, 100_000]) {
    it(`reads ${size} bytes in order from answers that come out of order and short`, async () => {
      const file = randomBytes(size);
      const fake = fakeSftp(file, { shortReads: true });
      let ended = 0;
      const stream = readPipelined(fake.sftp, Buffer.from('h'), 0, { depth: 4, chunk: 4096, onEnd: () => ended++ });
      const [got] = await Promise.all([readAll(stream), fake.run()]);
      expect(got.equals(file)).toBe(true);
      expect(fake.stats.maxInFlight).toBeGreaterThan(1);
      expect(fake.stats.maxInFlight).toBeLessThanOrEqual(5); // depth, and a retry of a short read
      expect(ended).toBe(1);
    });
  }

  it('starts at an offset', async () => {
    const file = randomBytes(50_000);
    const fake = fakeSftp(file);
    const stream = readPipelined(fake.sftp, Buffer.from('h'), 12_345, { depth: 3, chunk: 4096, onEnd: () => {} });
    const [got] = await Promise.all([readAll(stream), fake.run()]);
    expect(got.equals(file.subarray(12_345))).toBe(true);
  });

  it('hands over the handle only once every request sent is answered, when the reader stops early', async () => {
    const fake = fakeSftp(randomBytes(100_000));
    let endedWith = -1;
    const stream = readPipelined(fake.sftp, Buffer.from('h'), 0, { depth: 4, chunk: 4096, onEnd: () => (endedWith = fake.stats.inFlight) });
    const running = fake.run();
    for await (const _ of stream) break; // destroys the stream with requests out
    await running;
    expect(endedWith).toBe(0);
  });

  it('fails the stream with the error of a read', async () => {
    const fake = fakeSftp(randomBytes(10_000));
    const sftp = { read: (_h: Buffer, _b: Buffer, _o: number, _l: number, _p: number, cb: Callback) => setImmediate(() => cb(new Error('Permission denied'))) } as unknown as SFTPWrapper;
    let ended = 0;
    await expect(readAll(readPipelined(sftp, Buffer.from('h'), 0, { depth: 2, chunk: 4096, onEnd: () => ended++ }))).rejects.toThrow('Permission denied');
    await fake.run();
    await new Promise((r) => setTimeout(r, 10));
    expect(ended).toBe(1);
  });
});

describe('pipelined SFTP reads into reused buffers', () => {
  // Copies each chunk before asking for the next, as a caller may rely on.
  async function readCopies(chunks: AsyncIterable<Buffer>, seen?: Set<ArrayBufferLike>): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const c of chunks) {
      seen?.add(c.buffer);
      out.push(Buffer.from(c));
    }
    return Buffer.concat(out);
  }

  for (const size of [0, 1, 4096 * 3, 4096 * 3 + 1, 200_000]) {
    it(`reads ${size} bytes in order, out-of-order and short answers, through a few buffers`, async () => {
      const file = randomBytes(size);
      const fake = fakeSftp(file, { shortReads: true });
      const buffers = new Set<ArrayBufferLike>();
      const [got] = await Promise.all([readCopies(readPipelinedReusing(fake.sftp, Buffer.from('h'), 0, { depth: 4, chunk: 4096 }), buffers), fake.run()]);
      expect(got.equals(file)).toBe(true);
      expect(buffers.size).toBeLessThanOrEqual(6); // depth, one being read, one for the rest of a short read
    });
  }

  it('starts at an offset', async () => {
    const file = randomBytes(50_000);
    const fake = fakeSftp(file);
    const abort = new AbortController();
    const [got] = await Promise.all([readCopies(readPipelinedReusing(fake.sftp, Buffer.from('h'), 12_345, { depth: 3, chunk: 4096, signal: abort.signal })), fake.run()]);
    expect(got.equals(file.subarray(12_345))).toBe(true);
    // One listener per file read would pile up on a job's signal over thousands of files.
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });

  it('stops at an abort while waiting for an answer that does not come', async () => {
    const sftp = { read: () => {} } as unknown as SFTPWrapper; // a server that stalled
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20);
    await expect(readCopies(readPipelinedReusing(sftp, Buffer.from('h'), 0, { depth: 2, chunk: 4096, signal: abort.signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails with the error of a read', async () => {
    const sftp = { read: (_h: Buffer, _b: Buffer, _o: number, _l: number, _p: number, cb: Callback) => setImmediate(() => cb(new Error('Permission denied'))) } as unknown as SFTPWrapper;
    await expect(readCopies(readPipelinedReusing(sftp, Buffer.from('h'), 0, { depth: 2, chunk: 4096 }))).rejects.toThrow('Permission denied');
  });
});

describe('pipelined SFTP writes', () => {
  it('writes every byte at its offset with up to `depth` requests out, in pieces of equal size no larger than `chunk`', async () => {
    const file = randomBytes(100_000);
    const fake = fakeSftp(Buffer.alloc(0));
    const chunks = [file.subarray(0, 10_000), file.subarray(10_000, 10_001), file.subarray(10_001)];
    const [n] = await Promise.all([writePipelined(fake.sftp, Buffer.from('h'), 0, chunks, { depth: 4, chunk: 4096 }), fake.run()]);
    expect(n).toBe(file.length);
    expect(fake.contents().equals(file)).toBe(true);
    expect(fake.stats.maxInFlight).toBe(4);
    expect(Math.max(...fake.stats.writes.map((w) => w.length))).toBeLessThanOrEqual(4096);
    // 10,000 bytes go as three pieces of 3,334 or 3,333, not 4,096 + 4,096 + 1,808.
    expect(fake.stats.writes.slice(0, 3).map((w) => w.length)).toEqual([3334, 3334, 3332]);
  });

  it('appends after `start`', async () => {
    const head = randomBytes(5000);
    const tail = randomBytes(20_000);
    const fake = fakeSftp(head);
    await Promise.all([writePipelined(fake.sftp, Buffer.from('h'), head.length, [tail], { depth: 2, chunk: 4096 }), fake.run()]);
    expect(fake.contents().equals(Buffer.concat([head, tail]))).toBe(true);
  });

  it('takes a buffer refilled for every chunk: each is copied before the next is asked for', async () => {
    const file = randomBytes(64 * 1024);
    const reused = Buffer.alloc(8192);
    async function* refilled() {
      for (let off = 0; off < file.length; off += reused.length) {
        file.copy(reused, 0, off, off + reused.length);
        yield reused;
      }
    }
    const fake = fakeSftp(Buffer.alloc(0));
    await Promise.all([writePipelined(fake.sftp, Buffer.from('h'), 0, refilled(), { depth: 4, chunk: 4096 }), fake.run()]);
    expect(fake.contents().equals(file)).toBe(true);
  });

  it('rejects with a failed write only once every request sent is answered, and takes no more data', async () => {
    const fake = fakeSftp(Buffer.alloc(0), { failWriteAt: 20_000 });
    let pulled = 0;
    function* chunks() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield randomBytes(4096);
      }
    }
    const writing = writePipelined(fake.sftp, Buffer.from('h'), 0, chunks(), { depth: 4, chunk: 4096 });
    const [result] = await Promise.all([writing.then(() => null, (e: Error) => e), fake.run()]);
    expect(result?.message).toBe('Failure');
    expect(fake.stats.inFlight).toBe(0);
    expect(pulled).toBeLessThan(20);
  });

  it('stops at an abort', async () => {
    const fake = fakeSftp(Buffer.alloc(0));
    const abort = new AbortController();
    async function* chunks() {
      for (let i = 0; i < 100; i++) {
        if (i === 5) abort.abort();
        yield randomBytes(4096);
      }
    }
    const writing = writePipelined(fake.sftp, Buffer.from('h'), 0, chunks(), { depth: 4, chunk: 4096, signal: abort.signal });
    const [result] = await Promise.all([writing.then(() => null, (e: Error) => e), fake.run()]);
    expect(result?.name).toBe('AbortError');
    expect(fake.stats.inFlight).toBe(0);
    expect(fake.contents().length).toBe(5 * 4096);
  });
});
