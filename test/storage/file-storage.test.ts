import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage, openStorage, safePath, StorageNotFoundError, UnsafePathError } from '../../server/storage/index.js';

let dir: string;
let storage: FileStorage;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mp-fs-'));
  storage = new FileStorage(path.join(dir, 'published'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function text(stream: Readable): Promise<string> {
  let s = '';
  for await (const c of stream) s += c;
  return s;
}

describe('FileStorage', () => {
  it('writes, lists (recursively, sorted, with sizes), stats and reads files', async () => {
    expect(await storage.writeFile('presentation/m1/video/webcams.webm', Readable.from([Buffer.from('hello '), Buffer.from('world')]))).toBe(11);
    await storage.writeText('presentation/m1/metadata.xml', '<recording/>');
    await storage.writeFile('presentation/a-first/empty', []);
    const listed = [];
    for await (const e of storage.list()) listed.push(e);
    expect(listed).toEqual([
      { path: 'presentation/a-first/empty', size: 0 },
      { path: 'presentation/m1/metadata.xml', size: 12 },
      { path: 'presentation/m1/video/webcams.webm', size: 11 },
    ]);
    const under = [];
    for await (const e of storage.list('presentation/m1/video')) under.push(e.path);
    expect(under).toEqual(['presentation/m1/video/webcams.webm']);
    const none = [];
    for await (const e of storage.list('nothing/here')) none.push(e);
    expect(none).toEqual([]);

    expect(readFileSync(path.join(dir, 'published/presentation/m1/video/webcams.webm'), 'utf8')).toBe('hello world');
    expect(await storage.readText('presentation/m1/metadata.xml')).toBe('<recording/>');
    expect(await text(await storage.createReadStream('presentation/m1/video/webcams.webm', { start: 6 }))).toBe('world');
    expect(await storage.stat('presentation/m1/video/webcams.webm')).toMatchObject({ size: 11, isFile: true, isDirectory: false });
    expect(await storage.stat('presentation/m1')).toMatchObject({ isFile: false, isDirectory: true });
    expect(await storage.stat('presentation/missing')).toBeNull();
    expect(await storage.exists('presentation/m1/metadata.xml')).toBe(true);
    expect(await storage.exists('presentation/m1/nope.xml')).toBe(false);
  });

  it('appends to a partial file, renames over an existing file, removes idempotently', async () => {
    await storage.writeFile('a/f.partial', [Buffer.from('abc')]);
    await storage.writeFile('a/f.partial', [Buffer.from('def')], { append: true });
    await storage.writeText('b/f', 'old');
    await storage.rename('a/f.partial', 'b/f');
    expect(await storage.readText('b/f')).toBe('abcdef');
    expect(await storage.exists('a/f.partial')).toBe(false);
    await storage.rename('b/f', 'c/d/e/f'); // creates the target's parents
    expect(await storage.readText('c/d/e/f')).toBe('abcdef');

    await expect(storage.remove('c')).rejects.toThrow(); // a directory needs recursive
    await storage.remove('c', { recursive: true });
    expect(await storage.exists('c')).toBe(false);
    await storage.remove('c', { recursive: true }); // already gone: fine
    await storage.remove('never/was');
    await expect(storage.remove('')).rejects.toBeInstanceOf(UnsafePathError); // never the root
  });

  it('writeText replaces atomically and leaves no temporary file', async () => {
    await storage.writeText('r/metadata.xml', 'one');
    await storage.writeText('r/metadata.xml', 'two');
    const names = [];
    for await (const e of storage.list('r')) names.push(e.path);
    expect(names).toEqual(['r/metadata.xml']);
    expect(await storage.readText('r/metadata.xml')).toBe('two');
  });

  it('says which file is missing', async () => {
    await expect(storage.createReadStream('gone/file.webm')).rejects.toBeInstanceOf(StorageNotFoundError);
    await expect(storage.readText('gone/metadata.xml')).rejects.toThrow(/gone\/metadata\.xml/);
    await expect(storage.rename('gone/a', 'b')).rejects.toBeInstanceOf(StorageNotFoundError);
  });

  it('does not follow symbolic links out of the root when listing', async () => {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.txt'), 'not yours');
    await storage.writeText('r/real.xml', 'x');
    symlinkSync(outside, path.join(dir, 'published/r/escape'));
    const names = [];
    for await (const e of storage.list()) names.push(e.path);
    expect(names).toEqual(['r/real.xml']);
  });

  it('writes files that group and others cannot modify', async () => {
    await storage.writeText('m.xml', 'x');
    expect(statSync(path.join(dir, 'published/m.xml')).mode & 0o022).toBe(0);
  });
});

describe('path traversal', () => {
  const bad = ['../etc/passwd', 'a/../../b', 'a/..', '..', '/etc/passwd', 'a\\..\\b', 'a\0b', ''];

  it('safePath refuses anything that could leave the root and normalises the rest', () => {
    for (const p of bad) expect(() => safePath(p), JSON.stringify(p)).toThrow(UnsafePathError);
    expect(() => safePath('../x')).toThrow('refused storage path "../x": ".." is not allowed');
    expect(() => safePath('/etc/passwd')).toThrow(/absolute paths are not allowed/);
    expect(safePath('a//b/./c/')).toBe('a/b/c');
    expect(safePath('', { allowRoot: true })).toBe('');
  });

  it('every FileStorage operation refuses a traversal before touching the disk', async () => {
    writeFileSync(path.join(dir, 'victim.txt'), 'keep me');
    const ops: Array<[string, () => Promise<unknown>]> = [
      ['stat', () => storage.stat('../victim.txt')],
      ['exists', () => storage.exists('../victim.txt')],
      ['read', () => storage.createReadStream('../victim.txt')],
      ['readText', () => storage.readText('../victim.txt')],
      ['write', () => storage.writeFile('../victim.txt', [Buffer.from('pwned')])],
      ['writeText', () => storage.writeText('x/../../victim.txt', 'pwned')],
      ['createWriteStream', () => storage.createWriteStream('/tmp/pwned')],
      ['rename from', () => storage.rename('../victim.txt', 'stolen.txt')],
      ['rename to', () => storage.rename('a', '../victim.txt')],
      ['remove', () => storage.remove('..', { recursive: true })],
      ['list', async () => { for await (const _ of storage.list('../')) void _; }],
    ];
    for (const [name, op] of ops) await expect(op(), name).rejects.toBeInstanceOf(UnsafePathError);
    expect(readFileSync(path.join(dir, 'victim.txt'), 'utf8')).toBe('keep me');
  });
});

describe('openStorage', () => {
  it('opens a file: URL as a FileStorage at that directory', async () => {
    const s = openStorage(pathToFileURL(path.join(dir, 'published')).href);
    expect(s).toBeInstanceOf(FileStorage);
    await s.writeText('x.xml', 'ok');
    expect(readFileSync(path.join(dir, 'published/x.xml'), 'utf8')).toBe('ok');
  });

  it('refuses bad URLs without repeating secrets', () => {
    expect(() => openStorage('ftp://host/dir')).toThrow(/unsupported storage URL scheme ftp:/);
    expect(() => openStorage('file://otherhost/dir')).toThrow(/local directory/);
    let message = '';
    try {
      openStorage('sftp://bbb:S3cretPassw0rd@host/var/bigbluebutton/published');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/must not contain a password/);
    expect(message).not.toContain('S3cretPassw0rd');
    expect(() => openStorage('sftp://bbb@host/var/x', { password: 'pw' })).toThrow(/host key fingerprint/);
    expect(() => openStorage('sftp://bbb@host/var/x', { hostKeySha256: 'SHA256:' + 'A'.repeat(43) })).toThrow(/password or a private key/);
  });

  it('takes the pinned host key from the URL and keeps credentials out of url', () => {
    const key = 'SHA256:' + 'ab+/'.repeat(10) + 'abc';
    const s = openStorage(`sftp://bbb@bbb.example.org:2222/var/bigbluebutton/published?hostkey=${key}`, { password: 'pw-123456' });
    expect(s.url).toBe('sftp://bbb@bbb.example.org:2222/var/bigbluebutton/published');
    expect(JSON.stringify(s)).not.toContain('pw-123456');
    expect(inspect(s, { depth: 10, showHidden: true })).not.toContain('pw-123456');
  });
});
