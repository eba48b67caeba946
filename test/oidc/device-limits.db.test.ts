// The device flow's limits, over plain HTTP against the real server: wrong user
// codes typed on /oidc/device lock that client address out (429) after
// DEVICE_CODE_MAX_FAILURES, another address is unaffected; a device polling
// /oidc/token faster than the interval gets slow_down (oidc-provider alone
// answers authorization_pending to every poll), and one that waits does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;

beforeAll(async () => {
  s = await startSsoServer({ TRUST_PROXY: 'true', DEVICE_CODE_MAX_FAILURES: '3' });
});
afterAll(async () => {
  await s?.stop();
});

async function deviceAuthorization() {
  const res = await fetch(`${s.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'meetplane-cli', scope: 'openid' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { device_code: string; user_code: string; verification_uri: string };
}

async function poll(deviceCode: string) {
  const res = await fetch(`${s.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'meetplane-cli', grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

/** The device page as a browser at `address` holds it: its cookies and the form's xsrf value. */
async function devicePage(address: string) {
  const page = await fetch(`${s.issuer}/device`, { headers: { 'x-forwarded-for': address } });
  expect(page.status).toBe(200);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

  // Each page the provider renders carries a fresh xsrf value: the next post uses the latest.
  let xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())![1]!;
  return {
    async enter(userCode: string) {
      const res = await fetch(`${s.issuer}/device`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address, origin: new URL(s.url).origin },
        body: new URLSearchParams({ xsrf, user_code: userCode }),
      });
      const html = await res.text();
      xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? xsrf;
      return { status: res.status, html, retryAfter: res.headers.get('retry-after') };
    },
  };
}

describe('device flow limits', () => {
  it('locks an address out of the code page after repeated wrong codes; another address still connects', async () => {
    const { user_code } = await deviceAuthorization();
    const a = await devicePage('203.0.113.7');
    for (let i = 0; i < 3; i++) {
      const wrong = await a.enter('BBBB-BBBB');
      expect(wrong.status).toBe(400);
      expect(wrong.html).toContain('That code is not valid or has expired');
    }
    // Locked: even the right code is not looked at from here.
    const locked = await a.enter(user_code);
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    expect(locked.html).toContain('Too many wrong codes');
    expect(locked.html).not.toContain(user_code);

    const b = await devicePage('203.0.113.8');
    const right = await b.enter(user_code);
    expect(right.status).toBe(200);
    expect(right.html).toContain('Confirm the device');
  });

  it('answers slow_down to a device polling faster than the interval, and pending to one that waits', { timeout: 30_000 }, async () => {
    const { device_code } = await deviceAuthorization();
    expect((await poll(device_code)).body.error).toBe('authorization_pending');
    const tooSoon = await poll(device_code);
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.body.error).toBe('slow_down');
    // After a slow_down the interval is 5 s longer (RFC 8628 §3.5): 10 s.
    await new Promise((r) => setTimeout(r, 10_200));
    expect((await poll(device_code)).body.error).toBe('authorization_pending');
    // Another device's polls are counted on their own.
    const other = await deviceAuthorization();
    expect((await poll(other.device_code)).body.error).toBe('authorization_pending');
  });
});
