// Deletes what the sign-on no longer needs: expired provider artifacts (codes,
// sessions, interactions, refresh tokens, upstream log-in state) and failed-login
// counters older than the lock-out window. Runs as a periodic background job
// (server/jobs/background.ts), so with many processes it runs once per period.
import type { Db } from '../db/index.js';
import { deleteExpired } from './adapter.js';
import { deleteStaleThrottles } from '../accounts/throttle.js';

export const SSO_SWEEP_JOB = 'oidc.sweep';
export const SSO_SWEEP_PERIOD_MS = 10 * 60_000;
/** LOGIN_LOCKOUT's default, for callers without the sign-on configuration. */
const DEFAULT_LOCKOUT_SECONDS = 900;

/** Returns how many provider artifacts were deleted. */
export async function sweepSignOn(db: Db, lockoutSeconds = DEFAULT_LOCKOUT_SECONDS, now = new Date()): Promise<number> {
  const removed = await deleteExpired(db, now);
  await deleteStaleThrottles(db, lockoutSeconds);
  return removed;
}
