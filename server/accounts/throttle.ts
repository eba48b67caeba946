// Failed-login counting, shared by every process through the database, on
// the keys login-keys.ts names: N failures within the window lock the key
// until the lock-out ends; a successful login clears the account's keys.
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { loginThrottle } from './sso-table.js';

export { emailIpKey, emailKey, ipKey, keysClearedByLogin, loginKeys, throttlePolicy, type ThrottlePolicy } from './login-keys.js';

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
