// Failed-login counting per e-mail address and per client IP, shared by every
// process through the database. Keys are "email:<sha256 of the address>" (so
// unknown addresses lock exactly like known ones and the answer never tells
// them apart) and "ip:<address>". N failures within the window lock the key
// until the lock-out ends; a successful login clears the e-mail key.
import { createHash } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { loginThrottle } from './sso-table.js';

export interface ThrottlePolicy {
  /** Failures per e-mail address within the window before it locks. */
  maxPerAccount: number;
  /** Failures per IP address within the window before it locks. */
  maxPerIp: number;
  /** Window and lock-out length, in seconds. */
  windowSeconds: number;
}

export const emailKey = (email: string) => 'email:' + createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
export const ipKey = (ip: string) => 'ip:' + ip;

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
