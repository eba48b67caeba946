// What the Greenlight transfer and hand-over tests share: the transfer world
// (test/transfers/world.ts), a source Greenlight's database on PostgreSQL
// named by the UK co-op as "old-rooms", and a target Greenlight (the
// migration-API double) named by the German co-op as "new-rooms".
import { expect } from 'vitest';
import { greenlightSource, type GreenlightSource } from '../support/greenlight-db.js';
import { startGreenlight, type GreenlightDouble } from '../support/greenlight.js';
import { startWorld, type World } from '../transfers/world.js';

export interface GreenlightWorld {
  w: World;
  source: GreenlightSource;
  target: GreenlightDouble;
  close(): Promise<void>;
}

/** `secretKeyBase`: the target Greenlight's SECRET_KEY_BASE. */
export async function startGreenlightWorld(secretKeyBase: string): Promise<GreenlightWorld> {
  const w = await startWorld();
  const source = await greenlightSource();
  const target = await startGreenlight({ secretKeyBase });
  const put = (coop: string, slug: string, body: unknown, token: string) => w.s.api('PUT', `/api/v1/coops/${coop}/greenlights/${slug}`, { body, token });
  expect((await put(w.uk.id, 'old-rooms', { baseUrl: 'https://rooms.old.example', version: 'v3', databaseUrl: source.url }, w.sourceAdmin.token)).status).toBe(201);
  expect((await put(w.de.id, 'new-rooms', { baseUrl: target.url, version: 'v3', secretKeyBase }, w.targetAdmin.token)).status).toBe(201);
  return {
    w,
    source,
    target,
    async close() {
      await target.close();
      await w.close();
      await source.drop();
    },
  };
}
