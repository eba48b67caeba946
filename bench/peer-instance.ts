// A meetplane instance for bench:peer-transfer: the real server on a loopback port (its public URL
// is that port, so it can be another instance's federation peer), over a fresh database (in-memory
// PGlite, or a scratch PostgreSQL database), with a platform admin's token and an API client. In
// this process, as the tests start theirs (test/support/server.ts, which needs vitest), quiet.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { startServer, type Running } from '../server/main.js';
import { openPglite, openPostgres } from '../server/db/index.js';
import { bootstrapAdmin } from '../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../server/auth/principal.js';
import { SecretBox } from '../server/crypto/secretbox.js';
import { outboundFor, type Outbound } from '../server/net/outbound.js';
import { TrustChainResolver } from '../federation/trust-chain.js';
import { transferDeps } from '../server/transfers/deps.js';
import type { PeerTransferDeps } from '../server/peer-transfers/deps.js';
import { freePort, scratchPostgres } from './support.js';

export interface Instance extends Running {
  box: SecretBox;
  outbound: Outbound;
  deps: PeerTransferDeps;
  api(method: string, p: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; json: any; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export async function startInstance(backend: 'pglite' | 'postgres', env: Record<string, string> = {}): Promise<Instance> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mp-bench-peer-'));
  const masterKey = randomBytes(32).toString('base64');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, DATA_DIR: dataDir, MASTER_KEY: masterKey, LOG_LEVEL: 'warn', OUTBOUND_ALLOW: '127.0.0.0/8', WORKER: 'off', PASSWORD_SCRYPT_LN: '14', ...env });
  const pg = backend === 'postgres' ? await scratchPostgres() : undefined;
  if (backend === 'postgres' && !pg) throw new Error('no PostgreSQL server');
  const database = pg ? await openPostgres(pg.url, 10) : await openPglite();
  const running = await startServer(config, createLogger('warn'), database);
  const { token } = await bootstrapAdmin(database.db, LOCAL_OPERATOR, { email: 'root@platform.test', name: 'Platform Admin' });
  const box = new SecretBox(Buffer.from(masterKey, 'base64'));
  const outbound = outboundFor(config);
  const api: Instance['api'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? token}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(running.url + p, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  };
  const deps: PeerTransferDeps = { db: database.db, box, publicUrl: url, outbound, resolver: new TrustChainResolver(outbound), transfer: transferDeps(database.db, { transferMinNoticeDays: 0 }) };
  return {
    ...running,
    box,
    outbound,
    deps,
    api,
    async close() {
      await running.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
