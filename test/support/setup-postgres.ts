// Creates this run's template database (uniquely named, migrated once); each
// test file clones it. Teardown drops every database of this run.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openPostgres } from '../../server/db/index.js';
import { adminUrl, urlFor } from './pg-server.js';

export default async function setup(project: TestProject) {
  const prefix = `meetplane_t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin`select 1`;
  } catch (e) {
    await admin.end();
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl().replace(/:[^:@/]+@/, ':***@')} (${(e as Error).message}). ` +
        'Start it (see README, Tests) or set TEST_DATABASE_URL.',
    );
  }
  const template = `${prefix}_tpl`;
  await admin.unsafe(`create database "${template}"`);
  const db = await openPostgres(urlFor(template), 2);
  await db.migrate();
  await db.close();
  project.provide('pgTemplateUrl', urlFor(template));
  project.provide('pgRunPrefix', prefix);
  return async () => {
    const dbs = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${prefix + '%'}`;
    for (const { datname } of dbs) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
  };
}
