// Ending an account's sessions when what they were opened on changes: a new
// password (set or reset), a grant given or taken away, the account itself
// changed. Runs in the transaction that makes the change, so the change and
// the end of the old sessions are one fact. Ends:
// - meetplane's own page sessions (the mp_web cookie): any begun before
//   accounts.sessions_valid_after is refused when used (sessionBegunInTime);
// - the sign-on provider's sessions and grants for the account, with all they
//   issued (refresh tokens, opaque access tokens, codes, device codes): deleted,
//   so every client must sign the person in again; clients that registered a
//   back-channel logout URI are told (../oidc/backchannel.ts), so their own
//   sessions end too.
// JWT access tokens for the REST API cannot be withdrawn: they live
// ACCESS_TOKEN_TTL (5 minutes by default) and carry no roles (those are read
// from the database at each request).
import { inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { accounts } from './table.js';
import { enqueueLogoutsFor } from '../oidc/backchannel.js';

export async function endSessions(tx: Executor, accountIds: string[], at = new Date()): Promise<void> {
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) return;
  await tx.update(accounts).set({ sessionsValidAfter: at }).where(inArray(accounts.id, ids));
  const list = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  // Read before the rows go: which clients held a session or grant of these accounts.
  await enqueueLogoutsFor(tx, ids);
  await tx.execute(sql`
    delete from oidc_models
    where payload->>'accountId' in (${list})
       or grant_id in (select id from oidc_models where model = 'Grant' and payload->>'accountId' in (${list}))`);
}

/** Whether a session begun at `begunAtMs` is still good for the account (not begun before its sessions were ended). */
export function sessionBegunInTime(account: { sessionsValidAfter: Date | null }, begunAtMs: number): boolean {
  return !account.sessionsValidAfter || begunAtMs > account.sessionsValidAfter.getTime();
}
