// The SFTP backend against a real OpenSSH server on a loopback port.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorage, openStorage, SftpStorage, UnsafePathError, type RecordingStorage } from '../../server/storage/index.js';
import { copyFiles, MemoryCopyState, sha256Of, verifyFiles } from '../../server/transfers/copy.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { CountingStorage, makeRecordingTree, sha256File } from '../support/storage.js';

describe('SftpStorage', () => {
  let sshd: Sshd;
  let work: string;
  let root: string;
  let sftp: RecordingStorage;

  beforeAll(async () => {
    sshd = await startSshd();
    work = mkdtempSync(path.join(tmpdir(), 'mp-sftp-'));
    root = path.join(work, 'published');
    sftp = openStorage(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${root}`, { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 });
  });
  afterAll(async () => {
    await sftp?.close();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('round-trips files: write, append, list, stat, ranged read, rename over, remove', async () => {
    expect(sftp).toBeInstanceOf(SftpStorage);
    expect(sftp.url).toBe(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${root}`);
    await sftp.writeText('presentation/m1/metadata.xml', '<recording id="m1"/>');
    expect(await sftp.readText('presentation/m1/metadata.xml')).toBe('<recording id="m1"/>');
    expect(readFileSync(path.join(root, 'presentation/m1/metadata.xml'), 'utf8')).toBe('<recording id="m1"/>');
    expect(statSync(path.join(root, 'presentation/m1/metadata.xml')).mode & 0o777).toBe(0o644);

    const video = randomBytes(3 * 1024 * 1024 + 5);
    expect(await sftp.writeFile('presentation/m1/video/webcams.webm.partial', Readable.from([video.subarray(0, 1_000_000)]))).toBe(1_000_000);
    expect(await sftp.writeFile('presentation/m1/video/webcams.webm.partial', [video.subarray(1_000_000)], { append: true })).toBe(video.length - 1_000_000);
    await sftp.writeText('presentation/m1/video/webcams.webm', 'an older file to replace');
    await sftp.rename('presentation/m1/video/webcams.webm.partial', 'presentation/m1/video/webcams.webm');
    expect(readFileSync(path.join(root, 'presentation/m1/video/webcams.webm')).equals(video)).toBe(true);

    const tail: Buffer[] = [];
    for await (const c of await sftp.createReadStream('presentation/m1/video/webcams.webm', { start: video.length - 10 })) tail.push(c as Buffer);
    expect(Buffer.concat(tail).equals(video.subarray(video.length - 10))).toBe(true);

    const listed = [];
    for await (const e of sftp.list()) listed.push(e);
    expect(listed).toEqual([
      { path: 'presentation/m1/metadata.xml', size: 20 },
      { path: 'presentation/m1/video/webcams.webm', size: video.length },
    ]);
    expect(await sftp.stat('presentation/m1')).toMatchObject({ isDirectory: true, isFile: false });
    expect(await sftp.stat('presentation/none')).toBeNull();
    expect(await sftp.exists('presentation/m1/video/webcams.webm')).toBe(true);

    await expect(sftp.remove('presentation')).rejects.toThrow(/is a directory/);
    await sftp.remove('presentation', { recursive: true });
    expect(await sftp.exists('presentation')).toBe(false);
    await sftp.remove('presentation', { recursive: true });
  });

  it('refuses path traversal', async () => {
    for (const p of ['../escape.txt', '/etc/passwd', 'a/../../b']) {
      await expect(sftp.writeText(p, 'x'), p).rejects.toBeInstanceOf(UnsafePathError);
      await expect(sftp.stat(p), p).rejects.toBeInstanceOf(UnsafePathError);
    }
  });

  it('copies a recordings tree from file storage to SFTP with checksums, and resumes an aborted copy', async () => {
    const srcDir = path.join(work, 'src');
    const tree = makeRecordingTree(srcDir, { recordings: 4, bigBytes: 2 * 1024 * 1024, smallFiles: 6 });
    const from = new FileStorage(srcDir);
    const files = [];
    for await (const f of from.list()) files.push(f);
    const state = new MemoryCopyState();

    const abort = new AbortController();
    // Abort in the middle of the second recording's deskshare video (~700 kB).
    const target = tree.filter((f) => f.path.endsWith('deskshare.webm'))[1]!;
    const before = tree.slice(0, tree.indexOf(target)).reduce((s, f) => s + f.size, 0);
    const first = new CountingStorage(from, { onRead: (n) => n > before + 400_000 && abort.abort() });
    await expect(copyFiles({ from: first, to: sftp, files, state, signal: abort.signal, concurrency: 1 })).rejects.toMatchObject({ name: 'AbortError' });
    const doneBefore = [...state.records.values()];
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(tree.length);
    const partials = [];
    for await (const e of sftp.list()) if (e.path.endsWith('.partial')) partials.push(e);
    expect(partials).toHaveLength(1);
    expect(partials[0]!.size).toBeGreaterThan(0);

    const second = new CountingStorage(from);
    const result = await copyFiles({ from: second, to: sftp, files, state });
    const total = tree.reduce((s, f) => s + f.size, 0);
    const doneBytes = doneBefore.reduce((s, r) => s + r.size, 0);
    expect(result).toMatchObject({ skippedFiles: doneBefore.length, resumedFiles: 1, copiedFiles: tree.length - doneBefore.length });
    expect(second.bytesRead).toBe(total - doneBytes - partials[0]!.size); // neither done files nor the partial prefix again
    expect(result.manifest.map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(tree);
    for (const f of tree) expect(sha256File(path.join(root, f.path)), f.path).toBe(f.sha256);
    expect(await verifyFiles(sftp, result.manifest)).toEqual([]);
    const listed = [];
    for await (const e of sftp.list()) listed.push(e.path);
    expect(listed).toEqual(tree.map((f) => f.path)); // no .partial left behind

    // A file changed behind the copy's back is found on the SFTP side.
    const victim = tree.find((f) => f.size > 0)!;
    await sftp.writeFile(victim.path, [Buffer.alloc(victim.size)]);
    expect((await verifyFiles(sftp, result.manifest)).map((m) => [m.path, m.reason])).toEqual([[victim.path, 'sha256']]);
  });

  it('refuses a server whose host key is not the pinned one, without sending credentials', async () => {
    const wrong = new SftpStorage({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      root,
      password: 'hunter2-do-not-print',
      hostKeySha256: 'SHA256:' + 'A'.repeat(43),
    });
    const err = await wrong.stat('x').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/host key SHA256:\S+ is not the pinned SHA256:A{43}/);
    expect((err as Error).message).not.toContain('hunter2');
    await wrong.close();
  });

  it('reports a refused login without the password in the error', async () => {
    const bad = openStorage(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${root}`, { password: 'hunter2-do-not-print', hostKeySha256: sshd.hostKeySha256 });
    const err = await bad.exists('x').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^cannot open sftp:\/\/.*authentication/i);
    expect((err as Error).message).not.toContain('hunter2');
    await bad.close();

    const garbled = openStorage(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${root}`, { privateKey: 'not-a-key hunter2', hostKeySha256: sshd.hostKeySha256 });
    const keyErr = await garbled.exists('x').catch((e: Error) => e);
    expect((keyErr as Error).message).toMatch(/^cannot open sftp:\/\//);
    expect((keyErr as Error).message).not.toContain('hunter2');
    await garbled.close();
  });

  it('survives being closed right after a read: closing the read handle late is not an error', async () => {
    // The reader has all its bytes when the storage is closed, while the read
    // handle's close is still on the wire; ssh2 then fails that close with
    // "No response from server". Unhandled, it crashed the process (vitest
    // reports it as an unhandled error and fails the run).
    writeFileSync(path.join(work, 'late.bin'), Buffer.alloc(700_000, 1));
    for (let i = 0; i < 20; i++) {
      const s = openStorage(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${work}`, { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 });
      expect(await sha256Of(s, 'late.bin')).toBe(createHash('sha256').update(Buffer.alloc(700_000, 1)).digest('hex'));
      await s.close();
    }
  });
});
