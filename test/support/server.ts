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
import { outboundFor, type Outbound } from '../../server/net/outbound.js';

/**
 * The test servers' OUTBOUND_ALLOW: the BBB doubles, upstream identity providers and
 * front ends of the tests listen on loopback, which a real instance refuses unless
 * listed. A test of the refusal passes OUTBOUND_ALLOW: '' (unset).
 */
export const TEST_OUTBOUND_ALLOW = '127.0.0.0/8';

export interface TestServer extends Running {
  database: TestDatabase;
  masterKey: string;
  dataDir: string;
  adminToken: string;
  /** The server's outbound-request policy, for tests that call cluster functions directly. */
  outbound: Outbound;
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

/** Calls the REST API at `url` as the platform admin (`adminToken`), or with `opts.token` (null: none). */
export function restClient(url: string, adminToken: string): TestServer['api'] {
  return async (method, p, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(url + p, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-test-'));
  const masterKey = randomBytes(32).toString('base64');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MASTER_KEY: masterKey, LOG_LEVEL: 'debug', OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW, ...env });
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
  const api = restClient(running.url, adminToken);
  return { ...running, database, masterKey, dataDir, adminToken, outbound: outboundFor(config), logs: () => captured, api };
}
