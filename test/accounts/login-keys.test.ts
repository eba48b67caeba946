// The lock-out's rules without a database: which counters a failed login
// counts on, with which limit, and which a successful login resets.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emailIpKey, emailKey, ipKey, keysClearedByLogin, loginKeys, throttlePolicy, type ThrottlePolicy } from '../../server/accounts/login-keys.js';
import type { SsoConfig } from '../../server/config.js';

const policy: ThrottlePolicy = { maxPerAccountAndAddress: 5, maxPerAddress: 50, maxPerAccount: 100, windowSeconds: 900 };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('the account key', () => {
  it.each([
    ['mia@example.org', 'Mia@Example.org'],
    ['mia@example.org', 'MIA@EXAMPLE.ORG'],
    ['mia@example.org', '  mia@example.org\t'],
  ])('%j and %j are one account: failures for either count together', (a, b) => {
    expect(emailKey(b)).toBe(emailKey(a));
    expect(emailIpKey(b, '192.0.2.1')).toBe(emailIpKey(a, '192.0.2.1'));
  });

  it('tells different accounts apart, and keeps the address typed out of the key (only its hash)', () => {
    expect(emailKey('mia@example.org')).not.toBe(emailKey('noah@example.org'));
    expect(emailKey('mia@example.org')).toBe('email:' + sha256('mia@example.org'));
    expect(emailKey('mia@example.org')).not.toContain('mia');
  });

  it('counts one account from two source addresses apart', () => {
    expect(emailIpKey('mia@example.org', '192.0.2.1')).not.toBe(emailIpKey('mia@example.org', '192.0.2.2'));
    expect(emailIpKey('mia@example.org', '2001:db8::1')).toBe(`email:${sha256('mia@example.org')}|ip:2001:db8::1`);
    expect(ipKey('192.0.2.1')).toBe('ip:192.0.2.1');
  });
});

describe('one failed login', () => {
  it('counts on the account from this address, the address, and the account from everywhere, each with its limit', () => {
    expect(loginKeys(policy, 'Mia@example.org', '192.0.2.1')).toEqual([
      { key: `email:${sha256('mia@example.org')}|ip:192.0.2.1`, limit: 5 },
      { key: 'ip:192.0.2.1', limit: 50 },
      { key: `email:${sha256('mia@example.org')}`, limit: 100 },
    ]);
  });

  it('takes its limits from the configuration', () => {
    const sso = { loginMaxFailures: 3, loginIpMaxFailures: 30, loginAccountMaxFailures: 300, loginLockoutSeconds: 60 } as SsoConfig;
    expect(throttlePolicy(sso)).toEqual({ maxPerAccountAndAddress: 3, maxPerAddress: 30, maxPerAccount: 300, windowSeconds: 60 });
  });
});

describe('a successful login', () => {
  it("resets the account's counters, however the address was typed", () => {
    const cleared = keysClearedByLogin('MIA@example.org ', '192.0.2.1');
    expect(cleared.sort()).toEqual([emailKey('mia@example.org'), emailIpKey('mia@example.org', '192.0.2.1')].sort());
  });

  it("never resets the source address's counter (else logging in to one's own account would let it go on guessing)", () => {
    expect(keysClearedByLogin('mia@example.org', '192.0.2.1')).not.toContain(ipKey('192.0.2.1'));
    const failedKeys = loginKeys(policy, 'mia@example.org', '192.0.2.1').map((k) => k.key);
    expect(failedKeys.filter((k) => !keysClearedByLogin('mia@example.org', '192.0.2.1').includes(k))).toEqual([ipKey('192.0.2.1')]);
  });
});
