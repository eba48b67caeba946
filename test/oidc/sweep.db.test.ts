// The sign-on's cleanup runs as a periodic background job: it deletes expired
// provider artifacts and stale failed-login counters, keeps live ones, and is
// due again one period later (once, however many processes declare it).
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Db } from '../../server/db/index.js';
import { createLogger } from '../../server/logger.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { createBackgroundWorker } from '../../server/jobs/background.js';
import { Outbound } from '../../server/net/outbound.js';
import { findJob } from '../../server/jobs/queue.js';
import { SSO_SWEEP_JOB, SSO_SWEEP_PERIOD_MS } from '../../server/oidc/sweep.js';
import { oidcModels } from '../../server/oidc/table.js';
import { loginThrottle } from '../../server/accounts/sso-table.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await freshDatabase();
  db = database.db;
});
afterAll(async () => {
  await database?.close();
});

const ago = (s: number) => new Date(Date.now() - s * 1000);
const deps = () => ({
  db,
  box: new SecretBox(randomBytes(32)),
  log: createLogger('silent'),
  config: { pollIntervalMs: 3_600_000, inventoryIntervalMs: 3_600_000, sso: { loginLockoutSeconds: 900 } },
  outbound: new Outbound(), // no job here calls out
});

describe('expired sign-on rows', () => {
  it('are deleted by the periodic job; live rows stay', async () => {
    await db.insert(oidcModels).values([
      { model: 'Session', id: 'old-session', payload: {}, expiresAt: ago(60) },
      { model: 'AuthorizationCode', id: 'spent-code', payload: {}, expiresAt: ago(1), consumedAt: ago(30) },
      { model: 'UpstreamLogin', id: 'abandoned-state', payload: {}, expiresAt: ago(5) },
      { model: 'Session', id: 'live-session', payload: {}, expiresAt: ago(-3600) },
      { model: 'RefreshToken', id: 'live-refresh', payload: {}, expiresAt: ago(-86_400), grantId: 'g1' },
      { model: 'Grant', id: 'no-expiry', payload: {}, expiresAt: null },
    ]);
    await db.insert(loginThrottle).values([
      { key: 'email:stale', failures: 3, windowStart: ago(2000) },
      { key: 'email:locked', failures: 5, windowStart: ago(2000), lockedUntil: ago(-600) },
      { key: 'ip:recent', failures: 1, windowStart: ago(10) },
    ]);
    const worker = await createBackgroundWorker(deps());
    // Declared again by a second process: still one job.
    await createBackgroundWorker(deps());
    expect(rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from jobs where kind = ${SSO_SWEEP_JOB}`))[0]!.n).toBe(1);

    expect(await worker.tick()).toBeGreaterThanOrEqual(1);
    const left = rowsOf<{ id: string }>(await db.execute(sql`select id from oidc_models order by id`)).map((r) => r.id);
    expect(left).toEqual(['live-refresh', 'live-session', 'no-expiry']);
    const throttles = rowsOf<{ key: string }>(await db.execute(sql`select key from login_throttle order by key`)).map((r) => r.key);
    expect(throttles).toEqual(['email:locked', 'ip:recent']);

    const job = (await findJob(db, SSO_SWEEP_JOB))!;
    expect(job.state).toBe('queued');
    expect(job.lastError).toBeNull();
    const dueIn = job.runAt.getTime() - Date.now();
    expect(dueIn).toBeGreaterThan(SSO_SWEEP_PERIOD_MS - 60_000);
    expect(dueIn).toBeLessThanOrEqual(SSO_SWEEP_PERIOD_MS + 5_000);
    // Not due again yet: a second tick runs nothing and deletes nothing.
    await db.insert(oidcModels).values({ model: 'Session', id: 'expires-later', payload: {}, expiresAt: ago(1) });
    expect(await worker.tick()).toBe(0);
    expect(rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from oidc_models where id = 'expires-later'`))[0]!.n).toBe(1);
    await worker.stop();
  });
});
