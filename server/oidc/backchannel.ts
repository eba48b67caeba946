// OpenID Connect Back-Channel Logout 1.0: when a person's session at meetplane
// ends, every client that registered a backchannel_logout_uri and had a
// session or grant for them is sent a logout token, so its own session ends
// too (Greenlight, Moodle, ...). Ends are:
// - RP-initiated logout (end_session): oidc-provider calls
//   Client#backchannelLogout, which ./provider.ts points here;
// - everything that ends an account's sessions (suspension, erasure,
//   offboarding, a grant revoked or given, a new password): endSessions calls
//   `enqueueLogoutsFor` in its transaction, before the sessions are deleted.
// Each logout is a row of the jobs table, written in the transaction that
// ends the session, so it is sent even if the process dies right after, and
// retried with the jobs' backoff. The token is signed only when sent (nothing
// secret waits in the table), with the client's registered algorithm, and
// POSTed through the outbound policy. Each delivery is audited once: sent, or
// failed (after the last attempt, or at once when the policy refuses the
// address). No token, secret or person's id is in the audit entry.
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { SignJWT, importJWK } from 'jose';
import { rowsOf, type Db, type Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { appendAudit } from '../audit/trail.js';
import { existingPersonRef } from '../audit/subjects.js';
import type { Principal } from '../auth/principal.js';
import { enqueue, type Job } from '../jobs/queue.js';
import { OutboundRefused, type Outbound } from '../net/outbound.js';
import { activeSigningKey, type SigningAlg } from './keys.js';
import { oidcClients } from './table.js';

export const BACKCHANNEL_LOGOUT_JOB = 'oidc.backchannel-logout';
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Attempts per logout; with the jobs' backoff (5 s doubling) the last is about 75 s after the first. */
export const BACKCHANNEL_ATTEMPTS = 5;
/** A logout token is good for two minutes (it is signed just before it is sent). */
const TOKEN_TTL_S = 120;
const SEND_TIMEOUT_MS = 10_000;

const SYSTEM: Principal = { accountId: '00000000-0000-0000-0000-000000000000', coopId: null, platformAdmin: true, via: 'local', tokenId: null };

export interface LogoutPayload extends Record<string, unknown> {
  clientId: string;
  sub: string;
  /** The session id the client got in its ID token (absent when only a grant remained). */
  sid?: string;
}

/** Queues one logout token for the client (RP-initiated logout). */
export async function enqueueLogout(db: Executor, payload: LogoutPayload): Promise<void> {
  await enqueue(db, { kind: BACKCHANNEL_LOGOUT_JOB, payload, maxAttempts: BACKCHANNEL_ATTEMPTS });
}

/**
 * Queues logout tokens for every client with a logout URI that has a session
 * or a grant of these accounts (per sid for clients that require it, else one
 * by sub). Call in
 * the transaction that ends the sessions, before they are deleted. A client
 * that requires sid and holds only a grant gets nothing: without a session
 * there is no sid to name.
 */
export async function enqueueLogoutsFor(tx: Executor, accountIds: string[]): Promise<number> {
  if (accountIds.length === 0) return 0;
  const list = sql.join(accountIds.map((id) => sql`${id}`), sql`, `);
  const rows = rowsOf<{ client_id: string; sub: string; sid: string | null; session_required: boolean }>(
    await tx.execute(sql`
      with held as (
        select s.payload->>'accountId' as sub, a.key as client_id, a.value->>'sid' as sid
        from oidc_models s, jsonb_each(coalesce(s.payload->'authorizations', '{}'::jsonb)) a
        where s.model = 'Session' and s.payload->>'accountId' in (${list})
        union
        select g.payload->>'accountId', g.payload->>'clientId', null
        from oidc_models g
        where g.model = 'Grant' and g.payload->>'accountId' in (${list})
      )
      select distinct h.client_id, h.sub, h.sid, c.backchannel_logout_session_required as session_required
      from held h join oidc_clients c on c.client_id = h.client_id
      where c.backchannel_logout_uri is not null
      order by h.client_id, h.sub, h.sid`),
  );
  // oidc-provider puts sid in a client's ID tokens only when the client requires it: a client that
  // does not has never seen a sid, and one in the logout token would match none of its sessions
  // (mod_auth_openidc then keeps the session). So: one token per session for clients that require
  // sid, one token naming the person for the others.
  const named = new Set<string>();
  let queued = 0;
  for (const r of rows) {
    if (r.session_required) {
      if (!r.sid) continue; // a grant without a session: no sid to name
      await enqueueLogout(tx, { clientId: r.client_id, sub: r.sub, sid: r.sid });
    } else {
      const key = `${r.client_id} ${r.sub}`;
      if (named.has(key)) continue;
      named.add(key);
      await enqueueLogout(tx, { clientId: r.client_id, sub: r.sub });
    }
    queued++;
  }
  return queued;
}

/** The logout token (typ logout+jwt, no nonce), signed with the client's registered algorithm. */
export async function logoutToken(
  db: Executor,
  box: SecretBox,
  input: { issuer: string; clientId: string; alg: SigningAlg; sub: string; sid?: string | undefined; now?: number },
): Promise<string> {
  const jwk = await activeSigningKey(db, box, input.alg);
  if (!jwk) throw new Error(`no active ${input.alg} signing key`);
  const now = input.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...(input.sid ? { sid: input.sid } : {}) })
    .setProtectedHeader({ alg: input.alg, kid: jwk.kid!, typ: 'logout+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.clientId)
    .setSubject(input.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + TOKEN_TTL_S)
    .setJti(randomUUID())
    .sign(await importJWK(jwk, input.alg));
}

export interface BackchannelDeps {
  db: Db;
  box: SecretBox;
  outbound: Outbound;
  issuer: string;
}

async function audit(db: Db, job: Job, payload: LogoutPayload, outcome: 'sent' | 'failed', details: Record<string, string | number | null>) {
  const [client] = await db.select({ id: oidcClients.id }).from(oidcClients).where(eq(oidcClients.clientId, payload.clientId)).limit(1);
  // The person's reference only while it exists: an erased person's must not be re-created here.
  const holder = (await existingPersonRef(db, payload.sub)) ?? null;
  await db.transaction((tx) =>
    appendAudit(tx, {
      actor: SYSTEM,
      action: outcome === 'sent' ? 'oidc-client.backchannel-logout' : 'oidc-client.backchannel-logout-failed',
      subject: { type: 'oidc-client', id: client?.id ?? payload.clientId },
      details: { clientId: payload.clientId, holder, session: payload.sid ? 'sid' : 'sub', job: job.id, attempts: job.attempts, ...details },
    }),
  );
}

/** Sends one queued logout token; throws to be retried, audits the outcome once. */
export async function deliverLogout(deps: BackchannelDeps, job: Job, ctx: { signal: AbortSignal; log: Logger }): Promise<void> {
  const payload = job.payload as LogoutPayload;
  const [client] = await deps.db.select().from(oidcClients).where(eq(oidcClients.clientId, payload.clientId)).limit(1);
  if (!client?.backchannelLogoutUri) {
    ctx.log.info({ clientId: payload.clientId }, 'back-channel logout dropped: the client or its logout URI is gone');
    return;
  }
  const uri = client.backchannelLogoutUri;
  const last = job.attempts >= job.maxAttempts;
  try {
    const token = await logoutToken(deps.db, deps.box, {
      issuer: deps.issuer,
      clientId: client.clientId,
      alg: client.idTokenSignedResponseAlg as SigningAlg,
      sub: payload.sub,
      sid: payload.sid,
    });
    const res = await deps.outbound.fetch(uri, {
      method: 'POST',
      // The spec: the RP answers 200 (or 204); a redirect is no answer.
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-cache' },
      body: new URLSearchParams({ logout_token: token }).toString(),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
    });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 204) throw new Error(`the client answered ${res.status}`);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).slice(0, 200);
    if (err instanceof OutboundRefused) {
      // The policy will refuse it every time: recorded now, not retried.
      await audit(deps.db, job, payload, 'failed', { reason, host: new URL(uri).host });
      ctx.log.warn({ clientId: client.clientId, reason }, 'back-channel logout refused by the outbound policy');
      return;
    }
    if (last) await audit(deps.db, job, payload, 'failed', { reason, host: new URL(uri).host });
    throw new Error(`back-channel logout to ${new URL(uri).host}: ${reason}`);
  }
  await audit(deps.db, job, payload, 'sent', { host: new URL(uri).host });
}
