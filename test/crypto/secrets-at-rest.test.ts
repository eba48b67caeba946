// Secrets at rest: the master key and the sealed values it protects
// (server/crypto). A sealed value opens only with its key and its label.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey, loadMasterKey } from '../../server/crypto/master-key.js';
import { ConfigError } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';

const key = Buffer.alloc(32, 7);

function quietLog() {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) as never);
  return { log, lines };
}

describe('sealed secrets', () => {
  const box = new SecretBox(key);

  it('open to what was sealed, with the same label', () => {
    const sealed = box.seal('the cluster secret', 'clusters.secret:c1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('cluster secret');
    expect(box.open(sealed, 'clusters.secret:c1')).toBe('the cluster secret');
    expect(box.open(box.seal('', 'l'), 'l')).toBe('');
    expect(box.open(box.seal('naïve ☃', 'l'), 'l')).toBe('naïve ☃');
  });

  it('differ every time the same value is sealed', () => {
    expect(box.seal('same', 'l')).not.toBe(box.seal('same', 'l'));
  });

  it('do not open under another label, another key, or once changed', () => {
    const sealed = box.seal('the cluster secret', 'clusters.secret:c1');
    expect(() => box.open(sealed, 'clusters.secret:c2')).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'clusters.secret:c1')).toThrow();
    const [v, iv, tag, ct] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string) => Buffer.from(Buffer.from(s, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url');
    for (const changed of [[v, flip(iv), tag, ct], [v, iv, flip(tag), ct], [v, iv, tag, flip(ct)]])
      expect(() => box.open(changed.join('.'), 'clusters.secret:c1')).toThrow();
  });

  it('refuse an unknown format', () => {
    const [, iv, tag, ct] = box.seal('x', 'l').split('.');
    for (const bad of ['', 'v1', `v2.${iv}.${tag}.${ct}`, `v1..${tag}.${ct}`, `v1.${iv}..${ct}`, `v1.${iv}.${tag}`])
      expect(() => box.open(bad, 'l'), bad).toThrow(/unknown format/);
  });

  it('need a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(31))).toThrow(/32 bytes/);
    expect(() => new SecretBox(Buffer.alloc(33))).toThrow(/32 bytes/);
  });

  it('keep their own copy of the key', () => {
    const k = Buffer.alloc(32, 1);
    const own = new SecretBox(k);
    const sealed = own.seal('v', 'l');
    k.fill(2);
    expect(own.open(sealed, 'l')).toBe('v');
  });
});

describe('the master key', () => {
  it('is read from hex or base64, trimmed, and must be 32 bytes', () => {
    expect(decodeMasterKey(key.toString('hex'))).toEqual(key);
    expect(decodeMasterKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(decodeMasterKey(` ${key.toString('base64')}\n`)).toEqual(key);
    expect(decodeMasterKey(`  ${key.toString('hex')}\n`)).toEqual(key);
    expect(() => decodeMasterKey(`${key.toString('hex')}ab`)).toThrow(ConfigError);
    expect(() => decodeMasterKey(`ab${key.toString('hex')}`)).toThrow(ConfigError);
    // A hex key with anything after it is refused, not cut short at the first character that is not hex.
    for (const tail of ['!', '==', ' x', '-0']) expect(() => decodeMasterKey(`${key.toString('hex')}${tail}`)).toThrow(ConfigError);
    expect(() => decodeMasterKey(Buffer.alloc(16).toString('base64'))).toThrow(ConfigError);
    expect(() => decodeMasterKey(key.toString('hex').slice(2))).toThrow(/MASTER_KEY must be 32 bytes/);
    expect(() => decodeMasterKey('')).toThrow(ConfigError);
  });

  it('comes from MASTER_KEY when set, and then no file is written', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mk-'));
    const { log, lines } = quietLog();
    expect(loadMasterKey({ masterKey: key.toString('base64'), dataDir }, log)).toEqual(key);
    expect(() => statSync(path.join(dataDir, 'master.key'))).toThrow();
    expect(lines).toEqual([]);
  });

  it('is generated once into DATA_DIR/master.key (owner-only), with a warning, and read back after', () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'mk-')), 'nested', 'data');
    const { log, lines } = quietLog();
    const first = loadMasterKey({ masterKey: undefined, dataDir }, log);
    expect(first).toHaveLength(32);
    const file = path.join(dataDir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(decodeMasterKey(readFileSync(file, 'utf8'))).toEqual(first);
    // One line of base64, as MASTER_KEY takes it, to copy into a password manager or the environment.
    expect(readFileSync(file, 'utf8')).toBe(`${first.toString('base64')}\n`);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, file, msg: expect.stringContaining('GENERATED A NEW MASTER KEY') });
    expect(loadMasterKey({ masterKey: undefined, dataDir }, log)).toEqual(first);
    expect(lines).toHaveLength(1);
  });

  it('refuses a master.key file that holds no 32-byte key', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mk-'));
    writeFileSync(path.join(dataDir, 'master.key'), 'too short\n');
    expect(() => loadMasterKey({ masterKey: undefined, dataDir }, quietLog().log)).toThrow(ConfigError);
  });
});
