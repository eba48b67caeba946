// A fresh, migrated database for one test file, on the backend of the project
// being run (MEETPLANE_TEST_DB = pglite | postgres).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../server/db/index.js';
import { adminUrl, urlFor } from './pg-server.js';

export type Backend = 'pglite' | 'postgres';

export function backend(): Backend {
  const b = process.env.MEETPLANE_TEST_DB;
  if (b !== 'pglite' && b !== 'postgres') throw new Error('MEETPLANE_TEST_DB must be pglite or postgres (run through vitest projects)');
  return b;
}

export interface TestDatabase extends Database {
  /** postgres:// URL for child processes (postgres backend only). */
  url?: string;
}

export async function freshDatabase(): Promise<TestDatabase> {
  if (backend() === 'pglite') {
    const dump = new Blob([readFileSync(inject('pgliteDump'))]);
    return openPglite(undefined, dump);
  }
  const name = `${inject('pgRunPrefix')}_${randomBytes(4).toString('hex')}`;
  const template = new URL(inject('pgTemplateUrl')).pathname.slice(1);
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name);
  const database = await openPostgres(url, 5);
  return {
    ...database,
    url,
    async close() {
      await database.close();
      const a = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).finally(() => a.end());
    },
  };
}
