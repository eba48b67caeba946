// Which failed-login counters one attempt counts on, and which a successful
// login resets: the lock-out's rules, apart from the database that keeps the
// counters (throttle.ts), so they are tested without one.
//
// Three keys (NIST SP 800-63B 5.2.2, without letting a stranger lock the owner
// out): the account from one source address ("email:<sha256>|ip:<address>"),
// which is what locks after LOGIN_MAX_FAILURES; the source address alone
// ("ip:<address>", many accounts tried); and the account from everywhere
// ("email:<sha256>"), a much higher ceiling (LOGIN_ACCOUNT_MAX_FAILURES, 100 by
// default, NIST's bound) so guesses spread over many addresses stay bounded
// too. Accounts are keyed by the hash of the address typed (trimmed, lower
// case, as accounts are looked up), so unknown addresses lock exactly like
// known ones and the answer never tells them apart.
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';

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

/**
 * The keys a successful login clears: the account's (its failures were not
 * consecutive), never the source address's, or logging in to one's own account
 * would let an address go on guessing other accounts' passwords.
 */
export function keysClearedByLogin(email: string, ip: string): string[] {
  return [emailIpKey(email, ip), emailKey(email)];
}
