// The last line of defence behind validation: a value the database refuses
// answers a 4xx problem, never a 500, on both drivers, and the log line keeps
// the SQLSTATE but never the statement or its parameters. A real failure
// (here a division by zero: a bug, not the client's fault) stays an opaque 500.
import { Writable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../server/http/env.js';
import { onError } from '../../server/http/errors.js';
import { createLogger } from '../../server/logger.js';
import { accessTokens } from '../../server/accounts/table.js';
import { uuidv7 } from '../../server/ids.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const PARAM = 'param-that-must-not-be-logged';
let database: TestDatabase;
let app: Hono<AppEnv>;
let logs = '';

beforeAll(async () => {
  database = await freshDatabase();
  const log = createLogger('debug', new Writable({ write: (chunk, _enc, done) => ((logs += chunk.toString()), done()) }));
  app = new Hono<AppEnv>();
  app.onError(onError);
  app.use('*', async (c, next) => {
    c.set('log', log);
    c.set('requestId', 'req-1');
    await next();
  });
  const run = (query: () => SQL | Promise<unknown>) => async (c: Context) => {
    const q = query();
    await (q instanceof Promise ? q : database.db.execute(q));
    return c.text('stored');
  };
  app.get('/nul', run(() => sql`select ${`${PARAM}\u0000`}::text`));
  app.get('/uuid', run(() => sql`select ${PARAM}::uuid`));
  app.get('/integer', run(() => sql`select ${`9${'9'.repeat(20)}`}::int`));
  app.get('/date', run(() => sql`select ${PARAM}::date`));
  app.get('/foreign-key', run(() => database.db.insert(accessTokens).values({ id: uuidv7(), accountId: uuidv7(), name: PARAM, prefix: 'mp_pat_', tokenHash: PARAM })));
  app.get('/bug', run(() => sql`select 1 / (${0}::int)`));
});

afterAll(async () => {
  await database?.close();
});

describe('database errors a request causes', () => {
  it.each([
    ['/nul', 400, 'bad-request'],
    ['/uuid', 400, 'bad-request'],
    ['/integer', 400, 'bad-request'],
    ['/date', 400, 'bad-request'],
    ['/foreign-key', 409, 'conflict'],
  ])('%s answers %i %s as problem+json, logged by SQLSTATE only', async (path, status, type) => {
    const before = logs.length;
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.json();
    expect(body).toMatchObject({ type: `https://meetplane.org/problems/${type}`, status });
    expect(JSON.stringify(body)).not.toContain(PARAM);
    const line = logs.slice(before);
    expect(line).toMatch(/"sqlstate":"(22|23|54)[0-9A-Z]{3}"/);
    expect(line).toContain('database refused a value');
    expect(line).not.toContain(PARAM);
  });

  it('keeps a real failure an opaque 500', async () => {
    const res = await app.request('/bug');
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/quote request id req-1/);
  });
});
