// Recordings behind SFTP (sftp://user@host:port/var/bigbluebutton/published),
// through the ssh2 package's SFTP client. One SSH connection per storage,
// opened on first use and reopened after it drops. Credentials are held in
// this object only: they are never part of `url`, an error or a log line.
// Reads and writes keep several requests in flight per file
// (sftp-pipeline.ts), and the socket sends what ssh2 writes in one tick at once.
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as SshClient, SFTPWrapper, Stats } from 'ssh2';
import { joinPath, parentOf, safePath, tempSibling } from './paths.js';
import { readPipelined, readPipelinedReusing, writePipelined } from './sftp-pipeline.js';
import {
  StorageNotFoundError,
  type ByteSource,
  type ReadOptions,
  type RecordingStorage,
  type StorageEntry,
  type StorageStat,
  type WriteOptions,
} from './types.js';

export interface SftpCredentials {
  password?: string;
  /** OpenSSH or PEM private key */
  privateKey?: string | Buffer;
  passphrase?: string;
}

export interface SftpStorageOptions extends SftpCredentials {
  host: string;
  port?: number;
  username: string;
  /** absolute directory on the server */
  root: string;
  /**
   * The server's host key as OpenSSH prints it (`ssh-keygen -lf`): "SHA256:base64".
   * Required: without it a man in the middle would receive the password.
   */
  hostKeySha256: string;
  readyTimeoutMs?: number;
}

const NO_SUCH_FILE = 2;
// Requests in flight per file: enough to keep the connection busy between
// answers. A copy runs several files at once over the one connection.
const WRITE_DEPTH = 4;
const READ_DEPTH = 4;
// Bytes per read or write request, at most (and at most what the server allows).
const MAX_REQUEST = 256 * 1024;
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** OpenSSH's fingerprint of a raw host key blob: "SHA256:" + unpadded base64. */
export function hostKeyFingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

export class SftpStorage implements RecordingStorage {
  readonly url: string;
  // writeFile (writePipelined) has copied each chunk into its write requests before it asks for the next.
  readonly consumesChunks = true;
  private readonly root: string;
  // An ES private field: JSON.stringify, util.inspect and loggers cannot see the credentials.
  readonly #options: SftpStorageOptions;
  #session: Promise<{ client: SshClient; sftp: SFTPWrapper }> | null = null;
  private readonly madeDirs = new Set<string>();
  private closed = false;

  constructor(options: SftpStorageOptions) {
    if (!options.password && !options.privateKey) throw new Error('sftp storage needs a password or a private key');
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(options.hostKeySha256 ?? ''))
      throw new Error('sftp storage needs the server host key fingerprint as "SHA256:..." (ssh-keyscan HOST | ssh-keygen -lf -)');
    if (!posix.isAbsolute(options.root)) throw new Error('sftp storage root must be an absolute path on the server');
    this.#options = { ...options };
    this.root = posix.normalize(options.root).replace(/(.)\/$/, '$1');
    const port = options.port ?? 22;
    this.url = `sftp://${encodeURIComponent(options.username)}@${options.host}${port === 22 ? '' : `:${port}`}${this.root}`;
  }

  private connect(): Promise<{ client: SshClient; sftp: SFTPWrapper }> {
    if (this.closed) return Promise.reject(new Error(`${this.url} is closed`));
    if (this.#session) return this.#session;
    const o = this.#options;
    let seenKey: string | undefined;
    const session = new Promise<{ client: SshClient; sftp: SFTPWrapper }>((resolve, reject) => {
      const client = new ssh2.Client();
      const fail = (err: Error) => {
        const why = seenKey && seenKey !== o.hostKeySha256 ? `host key ${seenKey} is not the pinned ${o.hostKeySha256}` : err.message;
        reject(new Error(`cannot open ${this.url}: ${why}`));
        client.end();
      };
      client.once('error', fail);
      client.once('close', () => fail(new Error('connection closed during the handshake')));
      client.once('ready', () => {
        // Every SFTP request waits for its answer: Nagle's algorithm would add
        // a delayed-ACK stall (~40 ms) to each one.
        client.setNoDelay(true);
        client.sftp((err, sftp) => {
          if (err) return fail(err);
          client.removeAllListeners('close');
          client.off('error', fail);
          // A dropped connection is reopened by the next call.
          client.on('error', () => {});
          client.once('close', () => {
            if (this.#session === session) this.#session = null;
          });
          resolve({ client, sftp });
        });
      });
      const sock = coalescedSocket(o.host, o.port ?? 22);
      // ssh2 throws at once on a key it cannot parse; its message names no key material.
      try {
        client.connect({
          sock,
          host: o.host,
          port: o.port ?? 22,
          username: o.username,
          password: o.password,
          privateKey: o.privateKey,
          passphrase: o.passphrase,
          readyTimeout: o.readyTimeoutMs ?? 20_000,
          keepaliveInterval: 15_000,
          hostVerifier: (key: Buffer) => {
            seenKey = hostKeyFingerprint(key);
            return seenKey === o.hostKeySha256;
          },
        });
      } catch (err) {
        // ssh2 never took the socket: close it here, or it would stay open to the server.
        sock.destroy();
        fail(err as Error);
      }
    });
    this.#session = session;
    session.catch(() => {
      if (this.#session === session) this.#session = null;
    });
    return session;
  }

  private abs(clean: string): string {
    return clean === '' ? this.root : `${this.root}/${clean}`;
  }

  // Runs one SFTP request; errors name the operation and the relative path only.
  private async call<T>(op: string, rel: string, fn: (sftp: SFTPWrapper, cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
    const { sftp } = await this.connect();
    return new Promise<T>((resolve, reject) => {
      fn(sftp, (err, v) => {
        if (!err) return resolve(v as T);
        if ((err as { code?: unknown }).code === NO_SUCH_FILE) return reject(new StorageNotFoundError(this.url, rel));
        reject(new Error(`sftp ${op} ${rel} on ${this.url}: ${err.message}`));
      });
    });
  }

  async *list(prefix = ''): AsyncIterable<StorageEntry> {
    const start = safePath(prefix, { allowRoot: true });
    const st = await this.stat(start);
    if (!st?.isDirectory) return;
    yield* this.walk(start);
  }

  private async *walk(dir: string): AsyncIterable<StorageEntry> {
    const entries = await this.call<{ filename: string; attrs: Stats }[]>('readdir', dir, (s, cb) => s.readdir(this.abs(dir), cb));
    entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
    for (const e of entries) {
      if (e.filename === '.' || e.filename === '..') continue;
      const rel = joinPath(dir, e.filename);
      // Symbolic links are not followed: they could point out of the root.
      if (e.attrs.isDirectory()) yield* this.walk(rel);
      else if (e.attrs.isFile()) yield { path: rel, size: e.attrs.size };
    }
  }

  async stat(p: string): Promise<StorageStat | null> {
    const clean = safePath(p, { allowRoot: true });
    try {
      const s = await this.call<Stats>('stat', clean, (sftp, cb) => sftp.stat(this.abs(clean), cb));
      return { size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory(), mtime: new Date(s.mtime * 1000) };
    } catch (err) {
      if (err instanceof StorageNotFoundError) return null;
      throw err;
    }
  }

  async exists(p: string): Promise<boolean> {
    return (await this.stat(p)) !== null;
  }

  async createReadStream(p: string, options: ReadOptions = {}): Promise<Readable> {
    const clean = safePath(p);
    const handle = await this.call<Buffer>('open', clean, (s, cb) => s.open(this.abs(clean), 'r', cb));
    const { sftp } = await this.connect();
    // The handle is closed once every read sent is answered. Closing can still
    // fail then ("No response from server" when the storage is closed
    // meanwhile): the reader has what it wanted, so that error is no one's.
    return readPipelined(sftp, handle, options.start ?? 0, {
      depth: READ_DEPTH,
      chunk: Math.min(limit(sftp, '_maxReadLen'), MAX_REQUEST),
      onEnd: () => sftp.close(handle, () => {}),
    });
  }

  /**
   * The file's bytes from `start` in chunks that share a few buffers: each is
   * valid until the next is asked for. For a caller that is done with a chunk
   * by then (the copy into a target with `consumesChunks`): no buffer per request.
   */
  async *readReusingBuffer(p: string, options: ReadOptions & { signal?: AbortSignal } = {}): AsyncIterable<Buffer> {
    const clean = safePath(p);
    const handle = await this.call<Buffer>('open', clean, (s, cb) => s.open(this.abs(clean), 'r', cb));
    const { sftp } = await this.connect();
    try {
      yield* readPipelinedReusing(sftp, handle, options.start ?? 0, {
        depth: READ_DEPTH,
        chunk: Math.min(limit(sftp, '_maxReadLen'), MAX_REQUEST),
        signal: options.signal,
      });
    } finally {
      // Not awaited: after an abort the server may be the one that stalled. It
      // answers the reads still out before the close (it takes them in order).
      sftp.close(handle, () => {});
    }
  }

  // Opens `clean` for writing: at its end when appending (SFTPv3 writes carry
  // explicit offsets, so 'r+' at the current size rather than 'a').
  private async openForWrite(clean: string, append: boolean): Promise<{ handle: Buffer; start: number }> {
    await this.mkdirp(parentOf(clean));
    if (append) {
      const handle = await this.call<Buffer>('open', clean, (s, cb) => s.open(this.abs(clean), 'r+', cb)).catch((err) => {
        if (err instanceof StorageNotFoundError) return undefined;
        throw err;
      });
      if (handle) return { handle, start: (await this.call<Stats>('fstat', clean, (s, cb) => s.fstat(handle, cb))).size };
    }
    return { handle: await this.call<Buffer>('open', clean, (s, cb) => s.open(this.abs(clean), 'w', { mode: FILE_MODE }, cb)), start: 0 };
  }

  async createWriteStream(p: string, options: { append?: boolean } = {}): Promise<Writable> {
    const clean = safePath(p);
    const { handle, start } = await this.openForWrite(clean, options.append ?? false);
    const { sftp } = await this.connect();
    return sftp.createWriteStream(this.abs(clean), { handle, start, highWaterMark: 256 * 1024 });
  }

  async writeFile(p: string, data: ByteSource, options: WriteOptions = {}): Promise<number> {
    const clean = safePath(p);
    const { handle, start } = await this.openForWrite(clean, options.append ?? false);
    const { sftp } = await this.connect();
    try {
      const source = data instanceof Readable ? (data as AsyncIterable<Buffer>) : asBuffers(data);
      const written = await writePipelined(sftp, handle, start, source, {
        depth: WRITE_DEPTH,
        chunk: Math.min(limit(sftp, '_maxWriteLen'), MAX_REQUEST),
        signal: options.signal,
      });
      // The handle is fsynced (when the server can) before it is closed.
      if (extensions(sftp)['fsync@openssh.com'] === '1') await this.call<void>('fsync', clean, (s, cb) => s.ext_openssh_fsync(handle, cb));
      return written;
    } finally {
      await this.call<void>('close', clean, (s, cb) => s.close(handle, cb)).catch(() => {});
    }
  }

  // mkdir -p on the server, the root included; directories made are remembered.
  private async mkdirp(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    const abs = this.abs(dir);
    const st = await this.call<Stats>('stat', dir, (s, cb) => s.stat(abs, cb)).catch((err) => {
      if (err instanceof StorageNotFoundError) return null;
      throw err;
    });
    if (!st) {
      if (dir === '') await this.mkdirAbs(posix.dirname(abs));
      else await this.mkdirp(parentOf(dir));
      await this.call<void>('mkdir', dir, (s, cb) => s.mkdir(abs, { mode: DIR_MODE }, cb)).catch(async (err) => {
        // Another writer may have made it meanwhile.
        if (!(await this.stat(dir))?.isDirectory) throw err;
      });
    } else if (!st.isDirectory()) throw new Error(`sftp mkdir ${dir || '(root)'} on ${this.url}: a file is in the way`);
    this.madeDirs.add(dir);
  }

  // The root's own ancestors, for a root that does not exist yet.
  private async mkdirAbs(abs: string): Promise<void> {
    if (abs === '/') return;
    const exists = await this.call<Stats>('stat', abs, (s, cb) => s.stat(abs, cb)).then(
      () => true,
      (err) => {
        if (err instanceof StorageNotFoundError) return false;
        throw err;
      },
    );
    if (exists) return;
    await this.mkdirAbs(posix.dirname(abs));
    await this.call<void>('mkdir', abs, (s, cb) => s.mkdir(abs, { mode: DIR_MODE }, cb));
  }

  async rename(from: string, to: string): Promise<void> {
    const src = safePath(from);
    const dst = safePath(to);
    await this.mkdirp(parentOf(dst));
    const { sftp } = await this.connect();
    // posix-rename@openssh.com replaces atomically; plain SFTPv3 rename refuses
    // an existing target, so without the extension remove it first.
    if (extensions(sftp)['posix-rename@openssh.com'] === '1') {
      await this.call<void>('rename', src, (s, cb) => s.ext_openssh_rename(this.abs(src), this.abs(dst), cb));
      return;
    }
    if (await this.exists(dst)) await this.remove(dst);
    await this.call<void>('rename', src, (s, cb) => s.rename(this.abs(src), this.abs(dst), cb));
  }

  async remove(p: string, options: { recursive?: boolean } = {}): Promise<void> {
    const clean = safePath(p);
    const st = await this.stat(clean);
    if (!st) return;
    if (st.isDirectory) {
      if (!options.recursive) throw new Error(`sftp remove ${clean} on ${this.url}: is a directory (pass recursive)`);
      const entries = await this.call<{ filename: string; attrs: Stats }[]>('readdir', clean, (s, cb) => s.readdir(this.abs(clean), cb));
      for (const e of entries) {
        if (e.filename === '.' || e.filename === '..') continue;
        const child = joinPath(clean, e.filename);
        if (e.attrs.isDirectory()) await this.remove(child, options);
        else await this.call<void>('unlink', child, (s, cb) => s.unlink(this.abs(child), cb));
      }
      await this.call<void>('rmdir', clean, (s, cb) => s.rmdir(this.abs(clean), cb));
      for (const d of this.madeDirs) if (d === clean || d.startsWith(clean + '/')) this.madeDirs.delete(d);
    } else {
      await this.call<void>('unlink', clean, (s, cb) => s.unlink(this.abs(clean), cb)).catch((err) => {
        if (!(err instanceof StorageNotFoundError)) throw err;
      });
    }
  }

  async readText(p: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.createReadStream(p)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
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

  // writeFile has fsynced each file already (deferSync is not honoured: a
  // second open per file would cost more round trips than it saves). SFTP has
  // no request that syncs a directory: the rename is as durable as the
  // server's filesystem makes it.
  async sync(_paths: readonly string[]): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    const session = this.#session;
    this.#session = null;
    if (!session) return;
    const { client } = await session.catch(() => ({ client: null }));
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.end();
    });
  }
}

// The extensions the server announced (ssh2 keeps them on a private field).
function extensions(sftp: SFTPWrapper): Record<string, string> {
  return (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
}

/**
 * The TCP connection for ssh2, opened here so that its writes can be
 * coalesced: ssh2 hands the socket each SSH packet as three pieces (length,
 * encrypted body, MAC tag), and with Nagle's algorithm off (see connect) each
 * would be a syscall and a TCP segment of its own, three per 32 KiB of data.
 * Writes made in one tick of the event loop leave together, as one writev.
 */
function coalescedSocket(host: string, port: number): Socket {
  const sock = new Socket();
  // connect() resets `write` to the prototype's: patch it afterwards.
  sock.connect({ host, port });
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  const uncork = () => sock.uncork();
  sock.write = ((...args: unknown[]) => {
    if (sock.writableCorked === 0) {
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
  return sock;
}

// The request size the server allows (ssh2 reads limits@openssh.com into these private fields).
function limit(sftp: SFTPWrapper, field: '_maxReadLen' | '_maxWriteLen'): number {
  const n = (sftp as unknown as Record<string, number | undefined>)[field];
  return n && n > 0 ? n : 32 * 1024;
}

// ssh2 takes Buffers only.
async function* asBuffers(data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterable<Buffer> {
  for await (const chunk of data) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
