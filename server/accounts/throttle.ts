// Failed-login counting, shared by every process through the database, on
// three keys (NIST SP 800-63B 5.2.2, without letting a stranger lock the owner
// out): the account from one source address ("email:<sha256>|ip:<address>"),
// which is what locks after LOGIN_MAX_FAILURES; the source address alone
// ("ip:<address>", many accounts tried); and the account from everywhere
// ("email:<sha256>"), a much higher ceiling (LOGIN_ACCOUNT_MAX_FAILURES, 100 by
// default, NIST's bound) so guesses spread over many addresses stay bounded
// too. Accounts are keyed by the hash of the address typed, so unknown
// addresses lock exactly like known ones and the answer never tells them
// apart. N failures within the window lock the key until the lock-out ends; a
// successful login clears the account's keys (the failures were not consecutive).
import { createHash } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Config } from '../config.js';
import { loginThrottle } from './sso-table.js';

export interface ThrottlePolicy {
  /** Failures for one account from one source address within the window before that pair locks. */
  maxPerAccountAndAddress: number;
  /** Failures from one source address (any account) within the window before it locks. */
  maxPerAddress: number;
  /** Failures for one account from everywhere within the window before it locks everywhere. */
  maxPerAccount: number;
  /** Window and lock-out length, in seconds. */
  windowSeconds: number;
}

export function throttlePolicy(sso: Config['sso']): ThrottlePolicy {
  return {
    maxPerAccountAndAddress: sso.loginMaxFailures,
    maxPerAddress: sso.loginIpMaxFailures,
    maxPerAccount: sso.loginAccountMaxFailures,
    windowSeconds: sso.loginLockoutSeconds,
  };
}

export const emailKey = (email: string) => 'email:' + createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
export const ipKey = (ip: string) => 'ip:' + ip;
export const emailIpKey = (email: string, ip: string) => emailKey(email) + '|' + ipKey(ip);

/** The login keys of one attempt, each with its limit. */
export function loginKeys(policy: ThrottlePolicy, email: string, ip: string): Array<{ key: string; limit: number }> {
  return [
    { key: emailIpKey(email, ip), limit: policy.maxPerAccountAndAddress },
    { key: ipKey(ip), limit: policy.maxPerAddress },
    { key: emailKey(email), limit: policy.maxPerAccount },
  ];
}

/** The latest lock end among the keys, or null when none is locked. */
export async function lockedUntil(db: Db, keys: string[], now = new Date()): Promise<Date | null> {
  const rows = await db.select({ lockedUntil: loginThrottle.lockedUntil }).from(loginThrottle).where(inArray(loginThrottle.key, keys));
  let latest: Date | null = null;
  for (const r of rows) if (r.lockedUntil && r.lockedUntil > now && (!latest || r.lockedUntil > latest)) latest = r.lockedUntil;
  return latest;
}

export async function recordFailure(db: Db, key: string, limit: number, windowSeconds: number): Promise<void> {
  const window = sql`(now() - make_interval(secs => ${windowSeconds}))`;
  const [row] = await db
    .insert(loginThrottle)
    .values({ key, failures: 1, windowStart: sql`now()` })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`case when ${loginThrottle.windowStart} < ${window} then 1 else ${loginThrottle.failures} + 1 end`,
        windowStart: sql`case when ${loginThrottle.windowStart} < ${window} then now() else ${loginThrottle.windowStart} end`,
      },
    })
    .returning({ failures: loginThrottle.failures });
  if (row && row.failures >= limit)
    await db
      .update(loginThrottle)
      .set({ lockedUntil: sql`now() + make_interval(secs => ${windowSeconds})`, failures: 0, windowStart: sql`now()` })
      .where(eq(loginThrottle.key, key));
}

export async function clearKey(db: Db, key: string): Promise<void> {
  await db.delete(loginThrottle).where(eq(loginThrottle.key, key));
}

/** Forgets counters whose window and lock have both passed. */
export async function deleteStaleThrottles(db: Db, windowSeconds: number): Promise<void> {
  await db.execute(
    sql`delete from login_throttle where window_start < now() - make_interval(secs => ${windowSeconds}) and (locked_until is null or locked_until < now())`,
  );
}
