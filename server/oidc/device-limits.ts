// Limits on the device flow (RFC 8628 §5.1–5.2), as Koa middleware around
// oidc-provider, which has neither:
// - Guessing user codes: wrong codes typed on the device page (/oidc/device)
//   count per client address; after DEVICE_CODE_MAX_FAILURES within
//   LOGIN_LOCKOUT seconds that address gets 429 until the lock-out ends,
//   before any code is looked up.
// - Polling too fast: a device polling /oidc/token sooner than its interval
//   (5 s, the RFC's default, as the provider announces none) gets `slow_down`
//   instead of `authorization_pending`, and its interval grows by 5 s for every
//   slow_down, as the RFC asks of the client.
// Both are counted in login_throttle, so every process sees the same counts.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { lockedUntil, recordFailure } from '../accounts/throttle.js';
import { ErrorPage, render } from './pages.js';
import { SIGN_ON_TEXT } from './sign-on-text.js';
import { chooseLanguage } from '../web/i18n.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Seconds between polls when the device authorization answer names no interval (RFC 8628 §3.2). */
export const POLL_INTERVAL_S = 5;
/** A poll may arrive this much early (network jitter) and still count as on time. */
const POLL_TOLERANCE_S = 1;

export interface DeviceLimitSettings {
  maxWrongCodes: number;
  windowSeconds: number;
  trustProxy: boolean;
}

/** The client address: the socket peer, or behind a trusted proxy the address it appended last. */
export function peerAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

export const deviceCodeKey = (address: string) => 'device-ip:' + address;
const pollKey = (deviceCode: string) => 'poll:' + createHash('sha256').update(deviceCode).digest('hex');

/**
 * Records a poll of `deviceCode`; true when it came sooner than its interval
 * (which then grows by 5 s). One statement, so concurrent polls count once each.
 */
export async function pollTooSoon(db: Db, deviceCode: string): Promise<boolean> {
  const key = pollKey(deviceCode);
  const rows = rowsOf<{ failures: number; before: number | null }>(
    await db.execute(sql`
      with prev as (select failures from login_throttle where key = ${key})
      insert into login_throttle (key, failures, window_start) values (${key}, 0, now())
      on conflict (key) do update set
        failures = case
          when login_throttle.window_start > now() - make_interval(secs => ${POLL_INTERVAL_S - POLL_TOLERANCE_S} + 5 * login_throttle.failures)
          then login_throttle.failures + 1 else login_throttle.failures end,
        window_start = now()
      returning failures, (select failures from prev) as before`),
  );
  const row = rows[0];
  return !!row && row.before !== null && row.before !== undefined && Number(row.failures) > Number(row.before);
}

export function deviceLimits(db: Db, settings: DeviceLimitSettings) {
  return async function deviceLimitsMiddleware(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const codeEntry = ctx.method === 'POST' && ctx.path === '/device';
    const address = peerAddress(ctx.req, settings.trustProxy);
    if (codeEntry) {
      const until = await lockedUntil(db, [deviceCodeKey(address)]);
      if (until) {
        const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
        ctx.status = 429;
        ctx.set('Retry-After', String(seconds));
        ctx.type = 'html';
        const lang = chooseLanguage(ctx.get('accept-language'));
        ctx.body = await render(ErrorPage({ lang, ...SIGN_ON_TEXT[lang].tooManyCodes(Math.ceil(seconds / 60)) }));
        return;
      }
    }
    await next();
    const params = ctx.oidc?.params as Record<string, unknown> | undefined;
    // A code was typed and nothing was found for it (wrong, expired or used).
    if (codeEntry && ctx.status === 400 && typeof params?.user_code === 'string' && params.user_code && !ctx.oidc?.entities?.DeviceCode)
      await recordFailure(db, deviceCodeKey(address), settings.maxWrongCodes, settings.windowSeconds);
    if (
      ctx.method === 'POST' &&
      ctx.path === '/token' &&
      params?.grant_type === DEVICE_GRANT &&
      typeof params.device_code === 'string' &&
      (ctx.body as { error?: string } | undefined)?.error === 'authorization_pending' &&
      (await pollTooSoon(db, params.device_code))
    )
      ctx.body = { error: 'slow_down', error_description: `polling too often; wait at least ${POLL_INTERVAL_S} seconds more between requests` };
  };
}
