// The master key encrypts every secret at rest. From MASTER_KEY (base64 or hex,
// 32 bytes) or, when unset, from DATA_DIR/master.key, generated on first start.
// Losing it makes every stored secret unreadable, hence the loud warning.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { ConfigError } from '../config.js';

export function decodeMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new ConfigError('MASTER_KEY must be 32 bytes, base64 or hex encoded');
  return key;
}

export function loadMasterKey(opts: { masterKey: string | undefined; dataDir: string }, log: Logger): Buffer {
  if (opts.masterKey) return decodeMasterKey(opts.masterKey);
  const file = path.join(opts.dataDir, 'master.key');
  // Left by a rotation that did not finish (server/master-key/key-file.ts): which key opens the data is unknown here.
  if (existsSync(`${file}.new`))
    throw new ConfigError(`an interrupted \`meetplane master-key rotate\` left ${file}.new; run \`meetplane master-key rotate\` again to finish it`);
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8'));
  mkdirSync(opts.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  log.warn(
    { file },
    'MASTER_KEY is not set: GENERATED A NEW MASTER KEY in %s. Back it up; without it no stored secret can be decrypted. Set MASTER_KEY in production.',
    file,
  );
  return key;
}
