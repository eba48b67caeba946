// Personal access tokens: "mp_pat_" + 32 random bytes (base64url). Only the
// SHA-256 is stored; the prefix is recognisable in logs and secret scanners.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { accessTokens, accounts } from './table.js';
import type { Principal } from '../auth/principal.js';
import { dbCache } from '../cache/db-caches.js';

export const PAT_PREFIX = 'mp_pat_';
const PAT_RE = /^mp_pat_[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newPat(): string {
  return PAT_PREFIX + randomBytes(32).toString('base64url');
}

export async function insertPat(
  tx: Tx,
  accountId: string,
  name: string,
  expiresAt: Date | null,
): Promise<{ id: string; token: string; prefix: string }> {
  const token = newPat();
  const id = uuidv7();
  const prefix = token.slice(0, PAT_PREFIX.length + 6);
  await tx.insert(accessTokens).values({ id, accountId, name, prefix, tokenHash: hashToken(token), expiresAt });
  return { id, token, prefix };
}

// Every authenticated request runs this lookup: prepare it once per database
// (drizzle's query builder costs as much as the query itself on hot paths).
const prepared = new WeakMap<Db, ReturnType<typeof preparePatLookup>>();

function preparePatLookup(db: Db) {
  return db
    .select({
      tokenId: accessTokens.id,
      expiresAt: accessTokens.expiresAt,
      accountId: accounts.id,
      coopId: accounts.coopId,
      platformAdmin: accounts.platformAdmin,
    })
    .from(accessTokens)
    .innerJoin(accounts, eq(accounts.id, accessTokens.accountId))
    // A suspended (or erased) account's tokens are refused, on every process at once.
    .where(and(eq(accessTokens.tokenHash, sql.placeholder('hash')), isNull(accessTokens.revokedAt), isNull(accounts.suspendedAt)))
    .limit(1)
    .prepare('pat_lookup');
}

/** The principal a bearer PAT stands for, or null when unknown, expired, revoked or its account suspended. */
export async function principalForPat(db: Db, token: string, now = new Date()): Promise<Principal | null> {
  if (!PAT_RE.test(token)) return null;
  let lookup = prepared.get(db);
  if (!lookup) prepared.set(db, (lookup = preparePatLookup(db)));
  // Cached by hash until the token or its account changes anywhere (revoked, suspended) or it expires.
  const hash = hashToken(token);
  const row = await dbCache<string, PatRow>(db, 'pat-principals', { tables: ['access_tokens', 'accounts'], expiresAt: (r) => r.expiresAt?.getTime() ?? null }).get(
    hash,
    async () => (await lookup.execute({ hash }))[0],
  );
  if (!row || (row.expiresAt && row.expiresAt <= now)) return null;
  return { accountId: row.accountId, coopId: row.coopId, platformAdmin: row.platformAdmin, via: 'pat', tokenId: row.tokenId };
}

type PatRow = Awaited<ReturnType<ReturnType<typeof preparePatLookup>['execute']>>[number];
