// The target's reader of a package many files to a request: the copy engine's workers ask for their
// files one by one; those asked together go in one request, and the answer (their bytes one after the
// other) is cut back into each file by the manifest's sizes. A short, long or failed answer reaches
// every file it had not finished as an error, never as a file's bytes; a resumed file is read alone.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BatchedSource } from '../../server/peer-transfers/batch-source.js';
import { copyFiles, MemoryCopyState } from '../../server/transfers/copy.js';
import { FileStorage } from '../../server/storage/file.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const read = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

/** A source over `files`: answers each request with the asked files' bytes, in chunks of `chunk` bytes. */
function sourceOf(files: Record<string, Buffer>, opts: { chunk?: number; alter?: (body: Buffer, paths: string[]) => Buffer; status?: number; latencyMs?: number } = {}) {
  const asked: string[][] = [];
  const ranged: Array<[string, number]> = [];
  const source = new BatchedSource({
    sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
    async fetchMany(paths) {
      asked.push(paths);
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      let body: Buffer = Buffer.concat(paths.map((p) => files[p]!));
      if (opts.alter) body = opts.alter(body, paths);
      const size = opts.chunk ?? 7;
      const chunks = Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size));
      return new Response(Readable.toWeb(Readable.from(chunks)) as ReadableStream, { status: opts.status ?? 200 });
    },
    async readFrom(path, start) {
      ranged.push([path, start]);
      return Readable.from([files[path]!.subarray(start)]);
    },
  });
  return { source, asked, ranged };
}

const many = (n: number, size: (i: number) => number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r/${i}.bin`, randomBytes(size(i))]));

/**
 * A source whose answer is the asked files' bytes handed out `chunk` bytes at a time, only as its
 * reader asks: `sent()` says how far it got, `cancelled()` whether the reader gave up.
 */
function pulledSource(files: Record<string, Buffer>, chunk: number) {
  let at = 0;
  let cancelled = false;
  const source = new BatchedSource({
    sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
    fetchMany: async (paths) => {
      const body = Buffer.concat(paths.map((p) => files[p]!));
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(ctl) {
            if (at >= body.length) return ctl.close();
            ctl.enqueue(body.subarray(at, (at += chunk)));
          },
          cancel() {
            cancelled = true;
          },
        }),
      );
    },
    readFrom: async () => Readable.from([]),
  });
  return { source, sent: () => at, cancelled: () => cancelled };
}

describe('files read many to a request', () => {
  it('cuts each file out of the shared answer, chunks crossing files and empty files included', async () => {
    const files = many(12, (i) => (i % 4 === 0 ? 0 : 3 + i * 5));
    const { source, asked } = sourceOf(files, { chunk: 7 });
    const streams = await Promise.all(Object.keys(files).map((p) => source.createReadStream(p)));
    const got = await Promise.all(streams.map(read));
    Object.values(files).forEach((bytes, i) => expect(sha(got[i]!), `file ${i}`).toBe(sha(bytes)));
    // Asked in one turn: one request for all twelve, in the order asked.
    expect(asked).toEqual([Object.keys(files)]);
    expect(source.requests).toBe(1);
  });

  it('takes at most the limit of files or bytes in one request (one large file alone may pass it)', async () => {
    const files = { ...many(5, () => 10), 'r/large.bin': randomBytes(100), ...Object.fromEntries(Object.entries(many(3, () => 10)).map(([p, b]) => [`s/${p}`, b])) };
    const asked: string[][] = [];
    const capped = new BatchedSource({
      sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
      limits: { files: 4, bytes: 50 },
      fetchMany: async (paths) => {
        asked.push(paths);
        return new Response(Buffer.concat(paths.map((p) => files[p as keyof typeof files]!)));
      },
      readFrom: async () => Readable.from([]),
    });
    const got = await Promise.all(Object.keys(files).map(async (p) => read(await capped.createReadStream(p))));
    Object.values(files).forEach((bytes, i) => expect(got[i]!.equals(bytes)).toBe(true));
    for (const paths of asked) {
      expect(paths.length).toBeLessThanOrEqual(4);
      const bytes = paths.reduce((n, p) => n + files[p as keyof typeof files]!.length, 0);
      if (paths.length > 1) expect(bytes).toBeLessThanOrEqual(50);
    }
    expect(asked.flat()).toEqual(Object.keys(files));
    expect(asked.find((p) => p.includes('r/large.bin'))).toEqual(['r/large.bin']);
  });

  it('reads a file from an offset alone, with a ranged read', async () => {
    const files = many(3, () => 40);
    const { source, asked, ranged } = sourceOf(files);
    const resumed = await read(await source.createReadStream('r/1.bin', { start: 15 }));
    expect(resumed.equals(files['r/1.bin']!.subarray(15))).toBe(true);
    expect(ranged).toEqual([['r/1.bin', 15]]);
    expect(asked).toEqual([]);
    expect(source.requests).toBe(1);
  });

  it('asks again while an answer is under way once half a request of files waits, and never has three under way', async () => {
    const files = many(6, () => 10);
    const keys = Object.keys(files);
    const asked: string[][] = [];
    const answer: Array<() => void> = [];
    const source = new BatchedSource({
      sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
      limits: { files: 4, bytes: 1_000 },
      fetchMany: async (paths) => {
        asked.push(paths);
        await new Promise<void>((r) => answer.push(r));
        return new Response(Buffer.concat(paths.map((p) => files[p]!)));
      },
      readFrom: async () => Readable.from([]),
    });
    const turns = async () => {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    };
    const streams = [source.createReadStream(keys[0]!)];
    await turns();
    expect(asked).toEqual([[keys[0]]]); // nothing under way: asked at once
    streams.push(source.createReadStream(keys[1]!));
    await turns();
    expect(asked).toHaveLength(1); // one file waiting, less than half of 4: it waits for more
    streams.push(source.createReadStream(keys[2]!));
    await turns();
    expect(asked).toEqual([[keys[0]], [keys[1], keys[2]]]); // two waiting: a second request
    streams.push(source.createReadStream(keys[3]!), source.createReadStream(keys[4]!), source.createReadStream(keys[5]!));
    await turns();
    expect(asked).toHaveLength(2); // two under way: the rest wait
    answer.shift()!();
    expect((await read(await streams[0]!)).equals(files[keys[0]!]!)).toBe(true);
    await turns();
    expect(asked[2]).toEqual([keys[3], keys[4], keys[5]]);
    answer.splice(0).forEach((r) => r());
    const got = await Promise.all(streams.slice(1).map(async (s) => read(await s)));
    keys.slice(1).forEach((k, i) => expect(got[i]!.equals(files[k]!), k).toBe(true));
  });

  it('puts files up to exactly the byte limit in one request', async () => {
    const files = many(3, () => 10);
    const asked: string[][] = [];
    const source = new BatchedSource({
      sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
      limits: { files: 10, bytes: 30 },
      fetchMany: async (paths) => (asked.push(paths), new Response(Buffer.concat(paths.map((p) => files[p]!)))),
      readFrom: async () => Readable.from([]),
    });
    await Promise.all(Object.keys(files).map(async (p) => read(await source.createReadStream(p))));
    expect(asked).toEqual([Object.keys(files)]);
  });

  it('reads the answer only as fast as each file is written: a slow reader holds the rest back', async () => {
    const files = { 'r/big.bin': randomBytes(2 * 1024 * 1024), 'r/next.bin': randomBytes(1000) };
    const { source, sent } = pulledSource(files, 64 * 1024);
    const [big, next] = await Promise.all(Object.keys(files).map((p) => source.createReadStream(p)));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // Nothing read from `big` yet: the answer is not drained into memory behind its back.
    expect(sent()).toBeLessThan(512 * 1024);
    const got = await Promise.all([read(big!), read(next!)]);
    expect(got[0]!.equals(files['r/big.bin'])).toBe(true);
    expect(got[1]!.equals(files['r/next.bin'])).toBe(true);
  });

  it('reaches a file whose reader has not started yet with the error, and names the file a broken connection cut', async () => {
    const files = many(3, () => 100);
    const source = new BatchedSource({
      sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])),
      fetchMany: async () => {
        let sent = false;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(ctl) {
              if (sent) return ctl.error(new Error('other side closed'));
              sent = true;
              ctl.enqueue(Buffer.concat([files['r/0.bin']!, files['r/1.bin']!.subarray(0, 40)]));
            },
          }),
        );
      },
      readFrom: async () => Readable.from([]),
    });
    const streams = await Promise.all(Object.keys(files).map((p) => source.createReadStream(p)));
    expect((await read(streams[0]!)).equals(files['r/0.bin']!)).toBe(true);
    // The third's reader starts only after the answer broke off.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await expect(read(streams[1]!)).rejects.toThrow(/answer broke off inside r\/1\.bin \(2 of 3 file\(s\) short\): other side closed/);
    await expect(read(streams[2]!)).rejects.toThrow(/broke off inside r\/1\.bin/);
  });

  it('ends every unfinished file with an error when the answer stops short, and the finished ones stay whole', async () => {
    const files = many(4, () => 30);
    const { source } = sourceOf(files, { alter: (body) => body.subarray(0, 30 + 30 + 12) });
    const results = await Promise.allSettled(Object.keys(files).map(async (p) => read(await source.createReadStream(p))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason.message).toMatch(/ended inside r\/2\.bin \(2 of 4 file\(s\) short\)/);
    expect((results[0] as PromiseFulfilledResult<Buffer>).value.equals(files['r/0.bin']!)).toBe(true);
  });

  it('refuses bytes beyond the files asked for', async () => {
    const files = many(2, () => 20);
    const { source } = sourceOf(files, { alter: (body) => Buffer.concat([Buffer.from('x'), body]) });
    const results = await Promise.allSettled(Object.keys(files).map(async (p) => read(await source.createReadStream(p))));
    // Shifted by one byte, the first file's bytes are wrong (the copy's SHA-256 refuses them); the surplus reaches the last as an error.
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/more bytes than the 2 file\(s\) asked for/);
  });

  it('passes a refusal to every file of the request', async () => {
    const files = many(3, () => 20);
    const { source } = sourceOf(files, { status: 404 });
    const results = await Promise.allSettled(Object.keys(files).map((p) => source.createReadStream(p)));
    expect(results.every((r) => r.status === 'rejected' && /answered 404 for 3 file/.test(String(r.reason)))).toBe(true);
    // No answer at all (the connection refused): every file of the request gets that error.
    const unreachable = new BatchedSource({ sizes: new Map(Object.entries(files).map(([p, b]) => [p, b.length])), fetchMany: () => Promise.reject(new Error('connect ECONNREFUSED')), readFrom: async () => Readable.from([]) });
    const failed = await Promise.allSettled(Object.keys(files).map((p) => unreachable.createReadStream(p)));
    expect(failed.map((r) => r.status === 'rejected' && String(r.reason))).toEqual(Object.keys(files).map(() => 'Error: connect ECONNREFUSED'));
  });

  it('stops reading the answer when a file\'s reader gives up part of the way through a large file', async () => {
    const files = { 'r/big.bin': randomBytes(1024 * 1024), 'r/next.bin': randomBytes(1000) };
    const { source, sent, cancelled } = pulledSource(files, 64 * 1024);
    const [big, next] = await Promise.all(Object.keys(files).map((p) => source.createReadStream(p)));
    for await (const _chunk of big!) break; // one chunk, then the copy of this file stops (the stream is destroyed)
    await expect(read(next!)).rejects.toThrow(/the copy of r\/big\.bin stopped/);
    expect(cancelled()).toBe(true);
    expect(sent()).toBeLessThan(files['r/big.bin'].length);
  });

  it('stops reading the answer when a file\'s reader gives up', async () => {
    const files = many(3, () => 64 * 1024);
    const { source, cancelled } = pulledSource(files, 1024);
    const [first, ...rest] = await Promise.all(Object.keys(files).map((p) => source.createReadStream(p)));
    first!.destroy();
    const results = await Promise.allSettled(rest.map(read));
    expect(cancelled()).toBe(true);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('feeds the copy engine: many workers, each file stored with its SHA-256, in a few requests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'batch-src-'));
    try {
      const files = many(200, (i) => (i * 37) % 3000);
      // A round trip's wait, as over a network: the workers that ask meanwhile share the next request.
      const { source, asked } = sourceOf(files, { chunk: 1000, latencyMs: 20 });
      const to = new FileStorage(dir);
      const { manifest } = await copyFiles({ from: source, to, files: Object.entries(files).map(([path, b]) => ({ path, size: b.length })), state: new MemoryCopyState(), concurrency: 64 });
      for (const r of manifest) {
        expect(r.sha256).toBe(sha(files[r.path]!));
        expect(sha(await readFile(join(dir, r.path)))).toBe(r.sha256);
      }
      expect(asked.flat().sort()).toEqual(Object.keys(files).sort());
      expect(asked.length, asked.map((p) => p.length).join(' ')).toBeLessThanOrEqual(200 / 8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
