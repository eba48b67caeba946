// Local log-in: checks an e-mail and password under the throttle, sets
// passwords, and handles invitation links. Every answer for a refused login is
// the same whether the address exists or not, and costs one scrypt either way.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import { uuidv7 } from '../ids.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { accounts } from './table.js';
import { accountCredentials, accountInvitations } from './sso-table.js';
import { hashPassword, needsRehash, passwordProblem, verifyPassword, type ScryptParams } from './passwords.js';
import { endSessions } from './sessions.js';
import { clearKey, lockedUntil, recordFailure } from './throttle.js';
import { keysClearedByLogin, loginKeys, type ThrottlePolicy } from './login-keys.js';

// suspended: the password was right but the account may not sign in (told only to whoever knows the password).
export type LoginResult = { kind: 'ok'; accountId: string } | { kind: 'invalid' } | { kind: 'locked'; until: Date } | { kind: 'suspended' };

export interface LoginSettings {
  throttle: ThrottlePolicy;
  scrypt: ScryptParams;
}

let dummy: { params: string; hash: Promise<string> } | undefined;
/** A hash of a random password with the current parameters: unknown e-mails are checked against it. */
function dummyHash(params: ScryptParams): Promise<string> {
  const key = JSON.stringify(params);
  if (dummy?.params !== key) dummy = { params: key, hash: hashPassword(randomBytes(18).toString('base64url'), params) };
  return dummy.hash;
}

export async function authenticate(db: Db, settings: LoginSettings, email: string, password: string, ip: string): Promise<LoginResult> {
  const keys = loginKeys(settings.throttle, email, ip);
  const until = await lockedUntil(db, keys.map((k) => k.key));
  if (until) return { kind: 'locked', until };
  const [row] = await db
    .select({ id: accounts.id, hash: accountCredentials.passwordHash, suspendedAt: accounts.suspendedAt })
    .from(accounts)
    .leftJoin(accountCredentials, eq(accountCredentials.accountId, accounts.id))
    .where(eq(accounts.email, email.trim().toLowerCase()))
    .limit(1);
  const stored = row?.hash ?? (await dummyHash(settings.scrypt));
  const matches = await verifyPassword(password, stored);
  if (row?.hash && matches) {
    // The failures were not consecutive: this account's counters start over (the address's stay).
    for (const key of keysClearedByLogin(email, ip)) await clearKey(db, key);
    if (needsRehash(row.hash, settings.scrypt))
      await db.update(accountCredentials).set({ passwordHash: await hashPassword(password, settings.scrypt), updatedAt: new Date() }).where(eq(accountCredentials.accountId, row.id));
    if (row.suspendedAt) return { kind: 'suspended' };
    return { kind: 'ok', accountId: row.id };
  }
  for (const { key, limit } of keys) await recordFailure(db, key, limit, settings.throttle.windowSeconds);
  return { kind: 'invalid' };
}

/** Sets (or replaces) an account's password; `verified` marks its e-mail as proven. */
export async function setPassword(
  db: Db,
  actor: Principal,
  accountId: string,
  password: string,
  scryptParams: ScryptParams,
  opts: { verified?: boolean; invitationId?: string } = {},
): Promise<void> {
  const [account] = await db.select({ email: accounts.email }).from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw problems.notFound('account');
  const bad = passwordProblem(password, account.email);
  if (bad) throw problems.validation([{ path: 'password', message: bad }]);
  const passwordHash = await hashPassword(password, scryptParams);
  await db.transaction(async (tx) => {
    if (opts.invitationId) {
      const used = await tx
        .update(accountInvitations)
        .set({ usedAt: new Date() })
        .where(and(eq(accountInvitations.id, opts.invitationId), isNull(accountInvitations.usedAt)))
        .returning({ id: accountInvitations.id });
      if (used.length === 0) throw problems.conflict('invitation-used', 'this invitation link was used already');
    }
    const now = new Date();
    await tx
      .insert(accountCredentials)
      .values({ accountId, passwordHash, emailVerifiedAt: opts.verified ? now : null, updatedAt: now })
      .onConflictDoUpdate({
        target: accountCredentials.accountId,
        set: { passwordHash, updatedAt: now, ...(opts.verified ? { emailVerifiedAt: now } : {}) },
      });
    // Whoever held a session under the old password holds it no more.
    await endSessions(tx, [accountId], now);
    await appendAudit(tx, {
      actor,
      action: 'account.set-password',
      subject: { type: 'account', id: person(accountId) },
      details: opts.invitationId ? { invitation: opts.invitationId } : {},
    });
  });
}

// Invitations: "mp_inv_" + 32 random bytes; only the SHA-256 is stored.
const INV_RE = /^mp_inv_[A-Za-z0-9_-]{43}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createInvitation(db: Db, actor: Principal, accountId: string, ttlSeconds: number): Promise<{ id: string; token: string; expiresAt: Date }> {
  return db.transaction((tx) => insertInvitation(tx, actor, accountId, ttlSeconds));
}

/** An invitation link to set a password, in the caller's transaction, audited; the token is returned this once. */
export async function insertInvitation(tx: Tx, actor: Principal, accountId: string, ttlSeconds: number): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = 'mp_inv_' + randomBytes(32).toString('base64url');
  const id = uuidv7();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await tx.insert(accountInvitations).values({ id, accountId, tokenHash: hashOf(token), expiresAt });
  await appendAudit(tx, {
    actor,
    action: 'account.invite',
    subject: { type: 'account', id: person(accountId) },
    details: { invitation: id, expiresAt: expiresAt.toISOString() },
  });
  return { id, token, expiresAt };
}

/** An unused, unexpired invitation with its account, or undefined. */
export async function findInvitation(db: Db, token: string) {
  if (!INV_RE.test(token)) return undefined;
  const [row] = await db
    .select({ id: accountInvitations.id, accountId: accounts.id, email: accounts.email, name: accounts.name, coopId: accounts.coopId, platformAdmin: accounts.platformAdmin, language: accounts.language })
    .from(accountInvitations)
    .innerJoin(accounts, eq(accounts.id, accountInvitations.accountId))
    .where(and(eq(accountInvitations.tokenHash, hashOf(token)), isNull(accountInvitations.usedAt), gt(accountInvitations.expiresAt, sql`now()`)))
    .limit(1);
  return row;
}

export async function emailVerified(db: Db, accountId: string): Promise<boolean> {
  const [row] = await db.select({ at: accountCredentials.emailVerifiedAt }).from(accountCredentials).where(eq(accountCredentials.accountId, accountId));
  return !!row?.at;
}
