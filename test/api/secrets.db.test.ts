// A secret registered for a cluster can be found in plain text nowhere: not in
// the database (files on disk for PGlite, every row for Postgres), not in the
// logs, not in any API answer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { backend } from '../support/db.js';
import { createCoop } from '../support/fixtures.js';
import { rowsOf } from '../../server/db/index.js';
import { openPglite } from '../../server/db/index.js';

const SECRET = 'Zq7-cluster-shared-secret-4f9a1c0e';
const MARKER = 'visible-marker-cluster-name-91c3';

let s: TestServer;
const answers: string[] = [];
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

async function call(method: string, p: string, opts: Parameters<TestServer['api']>[2] = {}) {
  const res = await s.api(method, p, opts);
  answers.push(res.text, JSON.stringify([...res.headers]));
  return res;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('cluster secrets at rest, in logs and in answers', () => {
  it('keeps the secret out of every answer and log line, through create, read, update and errors', async () => {
    const coop = await createCoop(s);
    const created = await call('POST', '/api/v1/clusters', {
      body: { coop: coop.id, name: MARKER, apiUrl: 'https://bbb.example/bigbluebutton/api', secret: SECRET, country: 'DE', capacity: 10 },
    });
    expect(created.status).toBe(201);
    await call('GET', `/api/v1/clusters/${created.json.id}`);
    await call('GET', '/api/v1/clusters');
    const etag = created.headers.get('etag')!;
    await call('PATCH', `/api/v1/clusters/${created.json.id}`, { body: { secret: SECRET + '-2' }, headers: { 'if-match': etag } });
    // A secret sent where it does not belong, and one sent to a wrong-typed field.
    await call('POST', '/api/v1/clusters', { body: { coop: coop.id, name: 'x', apiUrl: SECRET, secret: SECRET, country: 'DE', capacity: 1 } });
    await call('POST', '/api/v1/clusters', { body: { coop: coop.id, name: 'x', apiUrl: 'https://a.example', secret: 42, note: SECRET, country: 'DE', capacity: 1 } });
    await call('GET', '/api/v1/openapi.json');

    expect(answers.join('\n')).not.toContain(SECRET);
    expect(s.logs()).toContain('"path":"/api/v1/clusters"'); // the log is really captured
    expect(s.logs()).not.toContain(SECRET);
  });

  it('stores the secret only encrypted in the database', async () => {
    // Read the sealed value back through the service: it opens with the master key.
    const { openClusterSecret, listClusters } = await import('../../server/clusters/service.js');
    const { SecretBox } = await import('../../server/crypto/secretbox.js');
    const [cluster] = await listClusters(s.database.db, { limit: 10 });
    const box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
    expect(await openClusterSecret(s.database.db, box, cluster!.id)).toBe(SECRET + '-2');

    if (backend() === 'postgres') {
      // Every row of every table, as text.
      const tables = rowsOf<{ t: string }>(
        await s.database.db.execute(sql`select tablename as t from pg_tables where schemaname = 'public'`),
      ).map((r) => r.t);
      let dump = '';
      for (const t of tables) {
        const rows = rowsOf<{ j: string }>(await s.database.db.execute(sql.raw(`select row_to_json(x)::text as j from "${t}" x`)));
        dump += rows.map((r) => r.j).join('\n');
      }
      expect(dump).toContain(MARKER);
      expect(dump).not.toContain(SECRET);
    } else {
      // The embedded database's files on disk: restore this database into a
      // PGlite data directory, close it so everything is flushed, and scan it.
      const client = (s.database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
      const dir = path.join(s.dataDir, 'pglite-copy');
      const copy = await openPglite(dir, await client.dumpDataDir('none'));
      await copy.db.execute(sql`checkpoint`);
      await copy.close();
      const bytes = Buffer.concat(filesUnder(dir).map((f) => readFileSync(f)));
      expect(bytes.includes(Buffer.from(MARKER))).toBe(true);
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    }
  });
});
