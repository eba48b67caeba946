// Starts the real meetplane server on a loopback port over a fresh database,
// with its log lines captured so tests can assert what was (not) logged.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer, type Running } from '../../server/main.js';
import { bootstrapAdmin } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { freshDatabase, type TestDatabase } from './db.js';

export interface TestServer extends Running {
  database: TestDatabase;
  masterKey: string;
  dataDir: string;
  adminToken: string;
  /** Every log line written so far. */
  logs(): string;
  api(method: string, path: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<ApiAnswer>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-test-'));
  const masterKey = randomBytes(32).toString('base64');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MASTER_KEY: masterKey, LOG_LEVEL: 'debug', ...env });
  let captured = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  const log = createLogger('debug', sink);
  const database = await freshDatabase();
  const running = await startServer(config, log, database);
  const { token: adminToken } = await bootstrapAdmin(database.db, LOCAL_OPERATOR, { email: 'root@platform.test', name: 'Platform Admin' });
  const api: TestServer['api'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(running.url + p, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return { ...running, database, masterKey, dataDir, adminToken, logs: () => captured, api };
}
