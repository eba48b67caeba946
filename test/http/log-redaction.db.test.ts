// Logs are for operators, not attackers: a full run on the real server (an
// invitation set through its link, the code flow with openid-client, refresh,
// the device flow, a web session, personal access tokens, a client secret,
// the auditor sign-in, a database error carrying a secret-looking value),
// then the captured log is searched for every token, code and secret the run
// was handed. None may be there, whole or in part.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { createCoop } from '../support/fixtures.js';
import { discover, registerClient, startSsoServer, uniq } from '../oidc/helpers.js';
import { Jar, follow, formAction, hiddenFields, submit } from './browserless.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
const RP = 'http://127.0.0.1:9/cb'; // never contacted: the test reads the code from the Location

/** Every secret the run saw, by what it is. */
const given: Array<[string, string]> = [];
const keep = (label: string, value: string | undefined | null) => {
  expect(value, label).toBeTruthy();
  given.push([label, value!]);
  return value!;
};

beforeAll(async () => {
  s = await startSsoServer();
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

/** Logs in on the interaction page the flow is at, and allows consent when asked. */
async function signIn(jar: Jar, at: Awaited<ReturnType<typeof follow>>, email: string, password: string) {
  let step = at;
  if (step.html.includes('name="password"')) step = await submit(jar, s.url, formAction(step.html), { ...hiddenFields(step.html), email, password });
  if (step.html.includes('value="allow"')) step = await submit(jar, s.url, formAction(step.html), { ...hiddenFields(step.html), decision: 'allow' });
  return step;
}

describe('secrets in logs', () => {
  it('keeps every token, code and secret of a full run out of the log', async () => {
    const coop = await createCoop(s);

    // An admin creates an account and sends an invitation; the member sets a password through the link.
    const email = `log-${uniq()}@example.org`;
    const account = await s.api('POST', '/api/v1/accounts', { body: { email, name: 'Lena Logless', coop: coop.id } });
    expect(account.status).toBe(201);
    const invitation = await s.api('POST', `/api/v1/accounts/${account.json.id}/invitations`, { body: {} });
    expect(invitation.status).toBe(201);
    const link = new URL(invitation.json.url as string);
    keep('invitation token', link.pathname.split('/').pop());
    const password = keep('password', `Sesame-pw-${randomBytes(9).toString('base64url')}`);
    const invitationPage = await follow(new Jar(), s.url, link.pathname);
    expect(invitationPage.res.status).toBe(200);
    const set = await submit(new Jar(), s.url, link.pathname, { ...hiddenFields(invitationPage.html), password, confirm: password });
    expect(set.html).toContain('Your password is set');

    // A confidential web client, the code flow with PKCE, consent, tokens and a refresh.
    const web = await registerClient(s, { name: 'Greenlight', coop: coop.id, kind: 'web', redirectUris: [RP] });
    keep('client secret', web.clientSecret);
    const config = await discover(s, web.clientId, web.clientSecret!);
    const verifier = keep('PKCE verifier', oidc.randomPKCECodeVerifier());
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: RP,
      scope: 'openid email offline_access api',
      resource: s.apiResource,
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const jar = new Jar();
    const back = await signIn(jar, await follow(jar, s.url, url.href), email, password);
    const callback = new URL(back.res.headers.get('location')!);
    expect(callback.href.startsWith(RP)).toBe(true);
    keep('authorization code', callback.searchParams.get('code'));
    for (const name of ['mp_session', 'mp_interaction', 'mp_resume']) if (jar.cookies.has(name)) keep(`cookie ${name}`, jar.cookies.get(name));
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    keep('access token', tokens.access_token);
    keep('ID token', tokens.id_token);
    keep('refresh token', tokens.refresh_token);
    expect((await s.api('GET', `/api/v1/accounts/${account.json.id}`, { token: tokens.access_token })).status).toBe(200);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: s.apiResource });
    keep('refreshed access token', refreshed.access_token);
    keep('rotated refresh token', refreshed.refresh_token);
    // A refresh token replayed: refused, and still not logged.
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // A machine client's secret on the token endpoint, right and wrong.
    const robot = await registerClient(s, { name: 'billing robot', coop: coop.id, kind: 'machine' });
    const robotConfig = await discover(s, robot.clientId, keep('machine client secret', robot.clientSecret));
    const machine = await oidc.clientCredentialsGrant(robotConfig, { scope: 'api' });
    keep('client credentials token', machine.access_token);
    const wrongSecret = keep('wrong client secret', `mp_cs_${randomBytes(32).toString('base64url')}`);
    await expect(oidc.clientCredentialsGrant(await discover(s, robot.clientId, wrongSecret), { scope: 'api' })).rejects.toMatchObject({ status: 401 });

    // The device flow, the member confirming the code through the complete verification link.
    const cli = await discover(s, 'meetplane-cli');
    const device = await oidc.initiateDeviceAuthorization(cli, { scope: 'openid offline_access api' });
    keep('device code', device.device_code);
    keep('user code', device.user_code);
    const entered = await follow(jar, s.url, device.verification_uri_complete!);
    const confirmPage = await submit(jar, s.url, formAction(entered.html), hiddenFields(entered.html));
    expect(confirmPage.html).toContain(device.user_code);
    const confirmed = await signIn(jar, await submit(jar, s.url, formAction(confirmPage.html, 'op.deviceConfirmForm'), hiddenFields(confirmPage.html, 'op.deviceConfirmForm')), email, password);
    expect(confirmed.html).toContain('Device connected');
    const deviceTokens = await oidc.pollDeviceAuthorizationGrant(cli, device);
    keep('device access token', deviceTokens.access_token);
    keep('device refresh token', deviceTokens.refresh_token);

    // meetplane's own pages: a web session through /me/login and /me/callback (the code in our own query string).
    const me = await follow(jar, s.url, '/me/login?next=%2Fme');
    const meCallback = me.hops.find((h) => h.url.includes('/me/callback?'))!;
    keep('web authorization code', new URL(meCallback.url).searchParams.get('code'));
    expect(me.res.status).toBe(200);
    keep('web session cookie', jar.cookies.get('mp_web'));

    // Personal access tokens: created, used, pasted into a path, and used to sign in as an auditor.
    const pat = await s.api('POST', '/api/v1/tokens', { token: refreshed.access_token, body: { name: 'laptop' } });
    expect(pat.status).toBe(201);
    keep('personal access token', pat.json.token);
    expect((await s.api('GET', `/api/v1/accounts/${account.json.id}`, { token: pat.json.token })).status).toBe(200);
    expect((await s.api('GET', `/api/v1/tokens/${pat.json.token}`, { token: pat.json.token })).status).toBeGreaterThanOrEqual(400);
    keep('admin token', s.adminToken);
    const audit = await submit(new Jar(), s.url, '/audit/login', { token: s.adminToken });
    expect(audit.res.status).toBe(200);

    // A database error whose statement carries a secret-looking value (a CHECK the test adds refuses it).
    await s.database.db.execute(sql.raw(`alter table coops add constraint log_test_refuses check (position('Sesame' in name) = 0)`));
    const dbSecret = keep('database parameter', `Sesame-db-${randomBytes(12).toString('base64url')}`);
    const failed = await s.api('POST', '/api/v1/coops', {
      body: { slug: `coop-${uniq()}`, name: dbSecret, jurisdiction: 'DE', contactEmail: 'ops@north.example', legalRegime: 'eu_gdpr' },
    });
    expect(failed.status).toBe(500);
    expect(failed.text).not.toContain(dbSecret);

    const logs = s.logs();
    // The run is in the log: the requests with their secrets redacted, the database error by its SQLSTATE.
    expect(logs).toContain('"path":"/oidc/invitation/[redacted]"');
    expect(logs).toMatch(/"path":"\/oidc\/interaction\/\[redacted\]\/login"/);
    expect(logs).toContain('"path":"/api/v1/tokens/[redacted]"');
    expect(logs).toContain('"path":"/me/callback"');
    // The provider's own answers are logged with the status it sent (the wrong client secret).
    expect(logs).toMatch(/"method":"POST","path":"\/oidc\/token","status":401/);
    expect(logs).toMatch(/"msg":"unhandled error"/);
    expect(logs).toContain('"code":"23514"');
    expect(logs).toContain('log_test_refuses'); // the constraint's name stays: operators need it
    for (const [label, value] of given) {
      expect(logs.includes(value), `${label} in the log`).toBe(false);
      // Nor a recognisable part of it (a truncated copy, a value without its prefix).
      if (value.length >= 24) expect(logs.includes(value.slice(8, 24)), `part of the ${label} in the log`).toBe(false);
      if (label === 'user code') expect(logs.includes(value.replace('-', '')), 'user code without its dash').toBe(false);
    }
  }, 60_000);
});
