// The cluster_slugs migration gives clusters that existed before it a slug
// derived from their name, unique across the instance.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../../migrations');
const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

async function apply(db: PGlite, file: string) {
  for (const stmt of readFileSync(path.join(dir, file), 'utf8').split('--> statement-breakpoint')) if (stmt.trim()) await db.exec(stmt);
}

describe('migration cluster_slugs', () => {
  it('derives a unique slug for each existing cluster from its name', async () => {
    const db = new PGlite();
    const at = files.indexOf('0020_cluster_slugs.sql');
    for (const f of files.slice(0, at)) await apply(db, f);
    const coop = (n: number) => `00000000-0000-7000-8000-00000000000${n}`;
    for (const n of [1, 2])
      await db.query(`insert into coops (id, slug, name, jurisdiction, contact_email, legal_regime) values ($1, $2, 'C', 'DE', 'a@example.org', 'eu_gdpr')`, [coop(n), `c${n}`]);
    const rows: Array<[string, string, string]> = [
      ['00000000-0000-7000-8000-0000000000a1', coop(1), 'BBB North #1'],
      ['00000000-0000-7000-8000-0000000000a2', coop(2), 'bbb north 1'],
      ['00000000-0000-7000-8000-0000000000a3', coop(1), '¡¡¡'],
    ];
    for (const [id, coopId, name] of rows)
      await db.query(
        `insert into clusters (id, coop_id, name, api_url, secret_sealed, checksum_algorithm, country, capacity) values ($1, $2, $3, 'https://b.example.org/bigbluebutton/api', 'x', 'sha256', 'DE', 10)`,
        [id, coopId, name],
      );
    await apply(db, files[at]!);
    const { rows: out } = await db.query<{ id: string; slug: string }>('select id, slug from clusters order by id');
    expect(out.map((r) => r.slug)).toEqual(['bbb-north-1', 'bbb-north-1-000000a2', 'cluster']);
    await expect(db.query(`update clusters set slug = 'cluster' where id = $1`, [rows[0]![0]])).rejects.toThrow(/unique/);
    await db.close();
  }, 60_000);
});
