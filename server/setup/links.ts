// The one-time setup link of an instance without a platform admin: on start
// the server makes a random token, valid for SETUP_LINK_TTL_MS, and prints a
// link with it; the first person to open it from this machine (loopback)
// creates the first platform admin. It is also written, owner-only, to
// DATA_DIR/setup.json, so `meetplane admin bootstrap` on this machine can use
// it while the server holds the embedded database. Used once, it is gone.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;
export const SETUP_FILE = 'setup.json';

/** What DATA_DIR/setup.json holds: where the running server listens and the link's token. */
export interface SetupFile {
  url: string;
  token: string;
  expiresAt: string;
  pid: number;
}

export class SetupLinks {
  #token: Buffer | undefined;
  #expiresAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A new link token (replacing any earlier one). */
  issue(ttlMs = SETUP_LINK_TTL_MS): { token: string; expiresAt: Date } {
    const token = randomBytes(32).toString('base64url');
    this.#token = Buffer.from(token);
    this.#expiresAt = this.now() + ttlMs;
    return { token, expiresAt: new Date(this.#expiresAt) };
  }

  /** Is a link open (issued, not used, not expired)? */
  get open(): boolean {
    return !!this.#token && this.now() < this.#expiresAt;
  }

  /** Does `offered` open the link now? */
  valid(offered: unknown): boolean {
    if (!this.open || typeof offered !== 'string') return false;
    const got = Buffer.from(offered);
    return got.length === this.#token!.length && timingSafeEqual(got, this.#token!);
  }

  /** Ends the link (used, or a platform admin exists). */
  close(): void {
    this.#token = undefined;
    this.#expiresAt = 0;
  }
}

/** Only the machine the server runs on: a request that came in over loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export function writeSetupFile(dataDir: string, info: SetupFile): void {
  const file = path.join(dataDir, SETUP_FILE);
  writeFileSync(file, JSON.stringify(info) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // an older file keeps its mode otherwise
}

export function removeSetupFile(dataDir: string): void {
  rmSync(path.join(dataDir, SETUP_FILE), { force: true });
}

/** The running server's setup link, if it wrote one that has not expired. */
export function readSetupFile(dataDir: string, now = Date.now()): SetupFile | undefined {
  try {
    const f = JSON.parse(readFileSync(path.join(dataDir, SETUP_FILE), 'utf8')) as SetupFile;
    if (typeof f.url !== 'string' || typeof f.token !== 'string' || !(Date.parse(f.expiresAt) > now)) return undefined;
    return f;
  } catch {
    return undefined;
  }
}
