// The floor app of bench:api, in its own process: a bare Hono app doing the least an
// authorised read must do: verify the bearer (the same JWT with jose and the same
// options as meetplane, or a PAT by its SHA-256 through a prepared lookup) and answer
// the same rows through one prepared statement, as JSON. No facts, no policy, no
// logging. FLOOR_DATABASE_URL (postgres.js, pool of 10 like meetplane) or
// FLOOR_PGLITE_DIR (the same data directory, opened once meetplane has stopped).
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

const env = process.env;
const jwks = createLocalJWKSet(JSON.parse(env.FLOOR_JWKS!) as JSONWebKeySet);
const COLUMNS = 'id, slug, name, coop_id, cluster_id, residency, retention_days, state, version, created_at, updated_at';
const Q = {
  one: `select ${COLUMNS} from tenancies where id = $1 limit 1`,
  page: `select ${COLUMNS} from tenancies where coop_id = $1 order by id limit 51`,
  pat: `select t.id, a.id as account_id, a.coop_id, t.expires_at from access_tokens t join accounts a on a.id = t.account_id
        where t.token_hash = $1 and t.revoked_at is null and a.suspended_at is null limit 1`,
};

type Query = (name: keyof typeof Q, params: string[]) => Promise<Record<string, unknown>[]>;
let query: Query;
if (env.FLOOR_DATABASE_URL) {
  const { default: postgres } = await import('postgres');
  const sql = postgres(env.FLOOR_DATABASE_URL, { max: 10, prepare: true, onnotice: () => {} });
  query = (name, params) => sql.unsafe(Q[name], params, { prepare: true }) as unknown as Promise<Record<string, unknown>[]>;
} else {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(env.FLOOR_PGLITE_DIR!);
  query = async (name, params) => (await db.query<Record<string, unknown>>(Q[name], params)).rows;
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
async function authenticated(header: string | undefined): Promise<boolean> {
  const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) return false;
  if (JWT_RE.test(token)) {
    try {
      await jwtVerify(token, jwks, {
        issuer: env.FLOOR_ISSUER!,
        audience: env.FLOOR_AUDIENCE!,
        typ: 'at+jwt',
        algorithms: ['ES256', 'EdDSA'],
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
        clockTolerance: 5,
      });
      return true;
    } catch {
      return false;
    }
  }
  const [row] = await query('pat', [createHash('sha256').update(token).digest('hex')]);
  return !!row && (!row.expires_at || (row.expires_at as Date) > new Date());
}

const app = new Hono();
app.get('/api/v1/tenancies/:id', async (c) => {
  if (!(await authenticated(c.req.header('authorization')))) return c.json({ title: 'Unauthorized' }, 401);
  const [row] = await query('one', [c.req.param('id')]);
  return row ? c.json(row) : c.json({ title: 'Not found' }, 404);
});
app.get('/api/v1/tenancies', async (c) => {
  if (!(await authenticated(c.req.header('authorization')))) return c.json({ title: 'Unauthorized' }, 401);
  const rows = await query('page', [env.FLOOR_COOP!]);
  return c.json({ items: rows.slice(0, 50), next: rows.length > 50 ? rows[49]!.id : null });
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${info.port}` }) + '\n');
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
