// What SftpStorage puts on the wire to a real OpenSSH server: several read and
// write requests in flight per file (one at a time costs a round trip per
// chunk), and the pieces of each SSH packet in one socket write (ssh2 hands
// over length, body and MAC tag apart; written one by one they are three
// syscalls and three TCP segments per 32 KiB). Counts, not timings.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileStorage } from '../../server/storage/file.js';
import { SftpStorage } from '../../server/storage/sftp.js';
import { copyFiles, listFiles, MemoryCopyState } from '../../server/transfers/copy.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// ssh2's SFTP client class, to count its requests (the same module instance `ssh2` uses).
const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as {
  SFTP: { prototype: Record<'read' | 'write', (...args: unknown[]) => void> };
};

type Method = 'read' | 'write';

/** Counts requests of `method` in flight at once until `restore` is called. */
function countInFlight(method: Method) {
  const original = SFTP.prototype[method]!;
  const seen = { now: 0, max: 0, total: 0 };
  SFTP.prototype[method] = function (this: unknown, ...args: unknown[]) {
    const cb = args[5] as (...r: unknown[]) => void;
    seen.now++;
    seen.total++;
    seen.max = Math.max(seen.max, seen.now);
    return original.call(this, ...args.slice(0, 5), (...r: unknown[]) => {
      seen.now--;
      cb(...r);
    });
  };
  return { seen, restore: () => (SFTP.prototype[method] = original) };
}

describe('SftpStorage on the wire', () => {
  let sshd: Sshd;
  let work: string;
  let storage: SftpStorage;
  const restores: (() => void)[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    work = mkdtempSync(path.join(tmpdir(), 'mp-sftp-wire-'));
    storage = new SftpStorage({ host: '127.0.0.1', port: sshd.port, username: sshd.user, root: work, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 });
    await storage.exists('.'); // connected before anything is counted
  });
  afterEach(() => restores.splice(0).forEach((r) => r()));
  afterAll(async () => {
    await storage?.close();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps several write requests in flight while writing a file, and several reads while reading it', async () => {
    const bytes = randomBytes(4 * 1024 * 1024 + 7);
    const writes = countInFlight('write');
    restores.push(writes.restore);
    expect(await storage.writeFile('video/webcams.webm', [bytes.subarray(0, 1_000_000), bytes.subarray(1_000_000)])).toBe(bytes.length);
    writes.restore();
    expect(readFileSync(path.join(work, 'video/webcams.webm')).equals(bytes)).toBe(true);
    expect(writes.seen.max).toBeGreaterThan(1);

    const reads = countInFlight('read');
    restores.push(reads.restore);
    const chunks: Buffer[] = [];
    for await (const c of await storage.createReadStream('video/webcams.webm', { start: 3 })) chunks.push(c as Buffer);
    reads.restore();
    expect(Buffer.concat(chunks).equals(bytes.subarray(3))).toBe(true);
    expect(reads.seen.max).toBeGreaterThan(1);
  });

  it('writes the SSH packets of a file in fewer socket writes than there are packets', async () => {
    const bytes = randomBytes(4 * 1024 * 1024);
    const packets = bytes.length / (32 * 1024); // OpenSSH's largest channel packet is 32 KiB
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const calls = { n: 0 };
    for (const m of ['_write', '_writev'] as const) {
      const original = proto[m]!;
      proto[m] = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === sshd.port) calls.n++;
        return original.apply(this, args);
      };
      restores.push(() => (proto[m] = original));
    }
    await storage.writeFile('video/deskshare.webm', [bytes]);
    restores.splice(0).forEach((r) => r());
    expect(readFileSync(path.join(work, 'video/deskshare.webm')).equals(bytes)).toBe(true);
    expect(calls.n).toBeGreaterThan(0);
    expect(calls.n).toBeLessThan(packets);
  });

  it('leaves no connection open when ssh2 refuses the key before it takes the socket', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const garbled = new SftpStorage({ host: '127.0.0.1', port: sshd.port, username: sshd.user, root: work, privateKey: 'not-a-key', hostKeySha256: sshd.hostKeySha256 });
    await expect(garbled.exists('x')).rejects.toThrow(/^cannot open sftp:/);
    await new Promise((r) => setTimeout(r, 200));
    expect(sockets()).toBe(before);
    await garbled.close();
  });

  it('copies from a local disk into SFTP through one reused buffer per file, not a fresh buffer per chunk', async () => {
    const srcDir = mkdtempSync(path.join(tmpdir(), 'mp-sftp-wire-src-'));
    try {
      const files = [randomBytes(3 * 1024 * 1024 + 1), randomBytes(10_000)];
      mkdirSync(path.join(srcDir, 'r1'));
      files.forEach((b, i) => writeFileSync(path.join(srcDir, `r1/f${i}`), b));
      const from = new FileStorage(srcDir);
      const streams = vi.spyOn(FileStorage.prototype, 'createReadStream');
      restores.push(() => streams.mockRestore());
      const result = await copyFiles({ from, to: storage, files: await listFiles(from), state: new MemoryCopyState() });
      expect(streams).not.toHaveBeenCalled();
      expect(result.copiedFiles).toBe(2);
      files.forEach((b, i) => expect(readFileSync(path.join(work, `r1/f${i}`)).equals(b)).toBe(true));
    } finally {
      rmSync(srcDir, { recursive: true, force: true });
    }
  });

  it('copies from SFTP to a local disk through a few reused buffers per file, not a fresh buffer per request', async () => {
    const dstDir = mkdtempSync(path.join(tmpdir(), 'mp-sftp-wire-dst-'));
    try {
      const files = [randomBytes(3 * 1024 * 1024 + 1), randomBytes(10_000)];
      mkdirSync(path.join(work, 'back'));
      files.forEach((b, i) => writeFileSync(path.join(work, `back/f${i}`), b));
      const streams = vi.spyOn(SftpStorage.prototype, 'createReadStream');
      restores.push(() => streams.mockRestore());
      const result = await copyFiles({ from: storage, to: new FileStorage(dstDir), files: await listFiles(storage, 'back'), state: new MemoryCopyState() });
      expect(streams).not.toHaveBeenCalled();
      expect(result.copiedFiles).toBe(2);
      files.forEach((b, i) => expect(readFileSync(path.join(dstDir, `back/f${i}`)).equals(b)).toBe(true));
    } finally {
      rmSync(dstDir, { recursive: true, force: true });
    }
  });
});
