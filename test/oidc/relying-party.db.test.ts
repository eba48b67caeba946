// What relying parties get from meetplane, as they see it: claims front ends
// can map (flat `roles` and `groups`, the profile scope's name parts), ID and
// logout tokens only in the algorithm the client registered, a provider that
// keeps its notices in the JSON log, and OpenID Connect Back-Channel Logout
// 1.0. For the last, a real
// HTTP server on loopback registered as a client's backchannel_logout_uri gets
// a logout token whenever the member's session at meetplane ends (they log
// out through the client, are suspended, erased, offboarded from the co-op,
// or lose a grant), and verifies it with jose against the JWKS the discovery
// document names. A client that keeps failing is retried, then recorded as
// failed; an address the outbound policy refuses is refused at registration,
// and recorded (not retried) when the policy refuses it at delivery.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { rowsOf } from '../../server/db/index.js';
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { Outbound } from '../../server/net/outbound.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { BACKCHANNEL_LOGOUT_EVENT, BACKCHANNEL_LOGOUT_JOB, deliverLogout } from '../../server/oidc/backchannel.js';
import { createLogger } from '../../server/logger.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { Jar, follow, formAction, hiddenFields, submit } from '../http/browserless.js';
import { signIn } from '../accounts/support.js';
import { discover, freePort, memberWithPassword, registerClient, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let rp: Server;
let rpUrl: string;
/** What the relying party received, by path: the logout_token of each POST. */
const received = new Map<string, string[]>();
let coop: { id: string; slug: string };
/** A client that needs sid, one that does not, one whose endpoint always fails. */
let withSid: { clientId: string; clientSecret: string | null };
let bySub: { clientId: string; clientSecret: string | null };
let failing: { clientId: string; clientSecret: string | null };
let jwks: ReturnType<typeof createRemoteJWKSet>;
let discovery: Record<string, unknown>;

beforeAll(async () => {
  s = await startSsoServer();
  const port = await freePort();
  rpUrl = `http://127.0.0.1:${port}`;
  rp = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.headers['content-type'] === 'application/x-www-form-urlencoded') {
        const token = new URLSearchParams(body).get('logout_token');
        if (token) received.set(req.url!, [...(received.get(req.url!) ?? []), token]);
      }
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'cache-control': 'no-store' });
      res.end();
    });
  });
  await new Promise<void>((r) => rp.listen(port, '127.0.0.1', () => r()));
  coop = await createCoop(s, { name: 'North Co-op' });
  const common = { coop: coop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`], postLogoutRedirectUris: [`${rpUrl}/bye`] };
  withSid = await registerClient(s, { ...common, name: 'Greenlight', backchannelLogoutUri: `${rpUrl}/sid`, backchannelLogoutSessionRequired: true });
  bySub = await registerClient(s, { ...common, name: 'Moodle', backchannelLogoutUri: `${rpUrl}/sub` });
  failing = await registerClient(s, { ...common, name: 'Broken', backchannelLogoutUri: `${rpUrl}/fail` });
  discovery = (await (await fetch(`${s.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  jwks = createRemoteJWKSet(new URL(discovery.jwks_uri as string));
}, 60_000);

afterAll(async () => {
  await new Promise((r) => rp?.close(r));
  await s?.stop();
});

/** Signs the member in to the client through the code flow (password and consent over plain HTTP); the ID token's claims and the jar. */
async function login(client: { clientId: string; clientSecret: string | null }, who: { email: string; password: string }, jar = new Jar(), scope = 'openid email') {
  const config = await discover(s, client.clientId, client.clientSecret!);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rpUrl}/cb`,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
  });
  const back = await signIn(s, jar, await follow(jar, s.url, url.href), who.email, who.password);
  const location = back.res.headers.get('location');
  expect(location, back.html.slice(0, 300)).toMatch(new RegExp(`^${rpUrl}/cb\\?`));
  const tokens = await oidc.authorizationCodeGrant(config, new URL(location!), { pkceCodeVerifier: verifier, expectedState: 'st' });
  return { claims: tokens.claims()!, idToken: tokens.id_token!, accessToken: tokens.access_token, config, jar };
}

/** Waits (as an RP would) for the path's n-th logout token and verifies it as the spec says an RP must. */
async function logoutTokenAt(path: string, n: number, clientId: string): Promise<JWTPayload> {
  for (let i = 0; i < 200 && (received.get(path)?.length ?? 0) < n; i++) await new Promise((r) => setTimeout(r, 100));
  const token = received.get(path)?.[n - 1];
  expect(token, `logout token #${n} at ${path}`).toBeDefined();
  const { payload, protectedHeader } = await jwtVerify(token!, jwks, { issuer: s.issuer, audience: clientId, typ: 'logout+jwt', maxTokenAge: '5 min' });
  expect(protectedHeader.alg).toBe('ES256');
  expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
  expect(payload.jti).toBeTruthy();
  expect(payload.exp).toBeGreaterThan(payload.iat!);
  expect(payload).not.toHaveProperty('nonce');
  return payload;
}

const count = (path: string) => received.get(path)?.length ?? 0;

async function auditDetails(action: string): Promise<Array<Record<string, unknown>>> {
  await sequenceAudit(s.database.db); // the read barrier every reader of the log runs
  const rows = rowsOf<{ entry: Uint8Array }>(await s.database.db.execute(sql`select entry from audit_entries where action = ${action} order by idx`));
  return rows.map((r) => (JSON.parse(Buffer.from(r.entry).toString('utf8')) as { details: Record<string, unknown> }).details);
}

async function etagOf(accountId: string) {
  return (await s.api('GET', `/api/v1/accounts/${accountId}`)).headers.get('etag') ?? '';
}

describe('discovery and registration', () => {
  it('advertises back-channel logout with sid', () => {
    expect(discovery.backchannel_logout_supported).toBe(true);
    expect(discovery.backchannel_logout_session_supported).toBe(true);
  });

  it('refuses a logout URI the outbound policy would refuse, naming the field and why', async () => {
    const res = await s.api('POST', '/api/v1/clients', {
      body: { name: 'Internal', coop: coop.id, kind: 'web', redirectUris: [`${rpUrl}/cb`], backchannelLogoutUri: 'https://10.20.30.40/logout' },
    });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ path: 'backchannelLogoutUri', message: expect.stringContaining('private address') }]);
    const machine = await s.api('POST', '/api/v1/clients', { body: { name: 'Robot', coop: coop.id, kind: 'machine', backchannelLogoutUri: `${rpUrl}/sub` } });
    expect(machine.status).toBe(400);
  });
});

describe('a client registered before', () => {
  it('is given a logout URI with PATCH (If-Match) and is told from then on; null stops it', async () => {
    const old = await registerClient(s, { coop: coop.id, kind: 'web', name: 'Old Greenlight', redirectUris: [`${rpUrl}/cb`] });
    const path = `/api/v1/clients/${old.clientId}`;
    const current = await s.api('GET', path);
    expect(current.json.backchannelLogoutUri).toBeNull();
    expect((await s.api('PATCH', path, { body: { backchannelLogoutUri: `${rpUrl}/late` } })).status).toBe(428);
    const refused = await s.api('PATCH', path, { body: { backchannelLogoutUri: 'https://10.20.30.40/logout' }, headers: { 'if-match': current.headers.get('etag')! } });
    expect(refused.status).toBe(400);
    const patched = await s.api('PATCH', path, { body: { backchannelLogoutUri: `${rpUrl}/late` }, headers: { 'if-match': current.headers.get('etag')! } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ backchannelLogoutUri: `${rpUrl}/late`, version: current.json.version + 1 });

    const who = await memberWithPassword(s, { coop: coop.id });
    await login(old, who);
    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/suspend`, { body: { reason: 'test' }, headers: { 'if-match': await etagOf(who.accountId) } });
    expect(res.status).toBe(200);
    expect((await logoutTokenAt('/late', 1, old.clientId)).sub).toBe(who.accountId);

    const off = await s.api('PATCH', path, { body: { backchannelLogoutUri: null }, headers: { 'if-match': patched.headers.get('etag')! } });
    expect(off.json).toMatchObject({ backchannelLogoutUri: null, backchannelLogoutSessionRequired: false });
  });
});

describe('a logout token reaches every client that held the session', () => {
  it('when the member logs out through a client (RP-initiated logout): each client gets its sid', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    const first = await login(withSid, who);
    // Single sign-on: the second client is signed in with the same session.
    const second = await login(bySub, who, first.jar);
    expect(first.claims.sid).toBeTruthy();
    const [beforeSid, beforeSub] = [count('/sid'), count('/sub')];
    const end = new URL(discovery.end_session_endpoint as string);
    end.search = new URLSearchParams({ id_token_hint: first.idToken, post_logout_redirect_uri: `${rpUrl}/bye` }).toString();
    const page = await follow(first.jar, s.url, end.href);
    expect(page.html).toContain('Log out of meetplane?');
    const done = await submit(first.jar, s.url, formAction(page.html, 'op.logoutForm'), { ...hiddenFields(page.html, 'op.logoutForm'), logout: 'yes' });
    expect(done.res.headers.get('location')).toBe(`${rpUrl}/bye`);

    const a = await logoutTokenAt('/sid', beforeSid + 1, withSid.clientId);
    expect(a.sub).toBe(who.accountId);
    expect(a.sid).toBe(first.claims.sid);
    const b = await logoutTokenAt('/sub', beforeSub + 1, bySub.clientId);
    expect(b.sub).toBe(who.accountId);
    expect(second.claims.sub).toBe(who.accountId);
  });

  it('when the member is suspended, and the delivery is audited without the token or the person\'s id', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    const { claims } = await login(withSid, who);
    const before = count('/sid');
    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/suspend`, { body: { reason: 'compromised' }, headers: { 'if-match': await etagOf(who.accountId) } });
    expect(res.status).toBe(200);
    const token = await logoutTokenAt('/sid', before + 1, withSid.clientId);
    expect(token.sub).toBe(who.accountId);
    expect(token.sid).toBe(claims.sid);
    // The audit entry is appended just after the RP answered.
    let sent: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && !sent.some((d) => d.clientId === withSid.clientId && d.session === 'sid'); i++) {
      sent = await auditDetails('oidc-client.backchannel-logout');
      await new Promise((r) => setTimeout(r, 100));
    }
    const text = JSON.stringify(sent);
    expect(sent.some((d) => d.clientId === withSid.clientId && d.host === new URL(rpUrl).host)).toBe(true);
    expect(text).not.toContain(who.accountId);
    expect(text).not.toContain(received.get('/sid')!.at(-1)!);
  });

  it('when the member is erased', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    await login(bySub, who);
    const before = count('/sub');
    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/erase`, { body: { reason: 'asked to be forgotten' }, headers: { 'if-match': await etagOf(who.accountId) } });
    expect(res.status).toBe(200);
    expect((await logoutTokenAt('/sub', before + 1, bySub.clientId)).sub).toBe(who.accountId);
  });

  it('when the member is offboarded from the co-op', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    await login(bySub, who);
    const before = count('/sub');
    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/offboard`, {
      body: { coop: coop.slug, reason: 'left the co-op' },
      headers: { 'if-match': await etagOf(who.accountId) },
    });
    expect(res.status, res.text).toBe(200);
    expect((await logoutTokenAt('/sub', before + 1, bySub.clientId)).sub).toBe(who.accountId);
  });

  it('when a grant of theirs is revoked (which ends their sessions)', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    const root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id as string;
    const given = await s.api('POST', '/api/v1/grants', { body: { from: root, account: who.accountId, role: 'coop_admin', scope: { type: 'coop', id: coop.id }, reason: 'runs it', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } });
    expect(given.status, given.text).toBe(201);
    await login(bySub, who);
    const before = count('/sub');
    const grant = await s.api('GET', `/api/v1/grants/${given.json.id}`);
    const revoked = await s.api('POST', `/api/v1/grants/${given.json.id}/revoke`, { body: { reason: 'stepped down' }, headers: { 'if-match': grant.headers.get('etag') ?? '' } });
    expect(revoked.status, revoked.text).toBe(200);
    expect((await logoutTokenAt('/sub', before + 1, bySub.clientId)).sub).toBe(who.accountId);
  });
});

describe('delivery that does not succeed', () => {
  it('retries a failing client, then records the logout as failed', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    await login(failing, who);
    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/suspend`, { body: { reason: 'test' }, headers: { 'if-match': await etagOf(who.accountId) } });
    expect(res.status).toBe(200);
    const mine = sql`kind = ${BACKCHANNEL_LOGOUT_JOB} and payload->>'clientId' = ${failing.clientId}`;
    let job: { state: string; attempts: number; last_error: string | null } | undefined;
    for (let i = 0; i < 300; i++) {
      // The backoff's waits (5 s doubling) made due at once: the test drives the clock, the worker does the rest.
      await s.database.db.execute(sql`update jobs set run_at = now() where ${mine} and state = 'queued'`);
      [job] = rowsOf<{ state: string; attempts: number; last_error: string | null }>(await s.database.db.execute(sql`select state, attempts, last_error from jobs where ${mine}`));
      if (job?.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job).toMatchObject({ state: 'failed', attempts: 5 });
    expect(job!.last_error).toContain('answered 500');
    expect(count('/fail')).toBe(5);
    const failed = (await auditDetails('oidc-client.backchannel-logout-failed')).filter((d) => d.clientId === failing.clientId);
    expect(failed).toEqual([expect.objectContaining({ attempts: 5, reason: 'the client answered 500' })]);
  });

  it('records a logout the outbound policy refuses at delivery, without retrying it', async () => {
    // The operator narrowed OUTBOUND_ALLOW after the client registered: loopback is refused now.
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    const who = await memberWithPassword(s, { coop: coop.id });
    const job = { id: '00000000-0000-7000-8000-000000000001', kind: BACKCHANNEL_LOGOUT_JOB, key: null, payload: { clientId: bySub.clientId, sub: who.accountId }, attempts: 1, maxAttempts: 5, periodMs: null };
    const before = count('/sub');
    const log = createLogger('silent');
    await expect(deliverLogout({ db: s.database.db, box, outbound: new Outbound({ allow: [] }), issuer: s.issuer }, job, { signal: new AbortController().signal, log })).resolves.toBeUndefined();
    expect(count('/sub')).toBe(before);
    const failed = (await auditDetails('oidc-client.backchannel-logout-failed')).filter((d) => d.job === job.id);
    expect(failed).toEqual([expect.objectContaining({ clientId: bySub.clientId, reason: expect.stringContaining('loopback address') })]);
  });
});

describe('claims front ends can map', () => {
  it('gives roles and groups as flat strings, the structured form under `meetplane`, and the profile scope\'s name parts', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    const root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id as string;
    const grant = async (role: string, scope: Record<string, string>) => {
      const res = await s.api('POST', '/api/v1/grants', {
        body: { from: root, account: who.accountId, role, scope, reason: 'runs it', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
      });
      expect(res.status, res.text).toBe(201);
      return res;
    };
    const cluster = await createCluster(s, coop.id);
    const tenancy = await createTenancy(s, coop.id, cluster.id);
    const given = await grant('coop_admin', { type: 'coop', id: coop.id });
    await grant('cluster_operator', { type: 'cluster', id: cluster.id });
    await grant('tenancy_admin', { type: 'tenancy', id: tenancy.id });
    // A userinfo token: the scopes' claims come from userinfo (the ID token has them when the access token is for the API).
    const { accessToken, config } = await login(bySub, who, new Jar(), 'openid email profile meetplane');
    const userinfo = await oidc.fetchUserInfo(config, accessToken, who.accountId);
    expect([...(userinfo.roles as string[])].sort()).toEqual([`cluster_operator:${cluster.slug}`, `coop_admin:${coop.slug}`, `tenancy_admin:${tenancy.slug}`]);
    expect(userinfo.groups).toEqual([`coop:${coop.slug}`]);
    expect(userinfo.given_name).toBe('Mira');
    expect(userinfo.family_name).toBe('Member');
    expect(userinfo.preferred_username).toBe(who.email.split('@')[0]);
    expect(userinfo.meetplane).toEqual({
      coop: { id: coop.id, slug: coop.slug },
      tenancies: [],
      roles: expect.arrayContaining([expect.objectContaining({ role: 'coop_admin', scope: { type: 'coop', id: coop.id }, grant: given.json.id })]),
    });
  });
});

describe('a quiet provider', () => {
  it('revokes and introspects under its own policies, with no provider notice on the terminal or in the log', async () => {
    const who = await memberWithPassword(s, { coop: coop.id });
    const { accessToken, config } = await login(bySub, who);
    const other = await discover(s, withSid.clientId, withSid.clientSecret!);
    const warned: unknown[] = [];
    // The provider prints its notices with console.warn and console.info (routed or not, they are seen here).
    const spies = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'info'), vi.spyOn(process.stderr, 'write')];
    try {
      // Another client may neither read nor revoke this client's token.
      expect((await oidc.tokenIntrospection(other, accessToken)).active).toBe(false);
      await expect(oidc.tokenRevocation(other, accessToken)).rejects.toMatchObject({ error: 'invalid_request' });
      expect((await oidc.tokenIntrospection(config, accessToken)).active).toBe(true);
      await oidc.tokenRevocation(config, accessToken);
      expect((await oidc.tokenIntrospection(config, accessToken)).active).toBe(false);
      for (const spy of spies) warned.push(...spy.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('oidc-provider')));
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(warned).toEqual([]);
    expect(s.logs()).not.toMatch(/you (SHOULD|MUST) change it/);
  });

  it('writes a provider notice as a JSON log line, not to the terminal', async () => {
    const spy = vi.spyOn(process.stderr, 'write');
    try {
      console.warn('oidc-provider WARNING: a notice from a future version');
      expect(spy.mock.calls.filter((c) => String(c[0]).includes('future version'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
    const line = s.logs().split('\n').find((l) => l.includes('a notice from a future version'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, component: 'oidc-provider', msg: 'a notice from a future version' });
  });
});

describe('tokens in the algorithm the client registered', () => {
  it('signs ID tokens (and logout tokens) only with the client\'s algorithm, from a JWKS without Ed25519 keys', async () => {
    const rs = await registerClient(s, { coop: coop.id, kind: 'web', name: 'Old Moodle', redirectUris: [`${rpUrl}/cb`], idTokenSignedResponseAlg: 'RS256', backchannelLogoutUri: `${rpUrl}/rs` });
    const who = await memberWithPassword(s, { coop: coop.id });
    const { idToken } = await login(rs, who);
    expect(decodeProtectedHeader(idToken).alg).toBe('RS256');
    const { idToken: es } = await login(bySub, who);
    expect(decodeProtectedHeader(es).alg).toBe('ES256');
    const keys = ((await (await fetch(discovery.jwks_uri as string)).json()) as { keys: Array<{ kty: string; alg: string }> }).keys;
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(discovery.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256']));
    expect(discovery.id_token_signing_alg_values_supported).not.toContain('EdDSA');
    const refused = await s.api('POST', '/api/v1/clients', { body: { coop: coop.id, kind: 'web', name: 'X', redirectUris: [`${rpUrl}/cb`], idTokenSignedResponseAlg: 'EdDSA' } });
    expect(refused.status).toBe(400);

    const res = await s.api('POST', `/api/v1/accounts/${who.accountId}/suspend`, { body: { reason: 'test' }, headers: { 'if-match': await etagOf(who.accountId) } });
    expect(res.status).toBe(200);
    for (let i = 0; i < 200 && count('/rs') < 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(decodeProtectedHeader(received.get('/rs')![0]!).alg).toBe('RS256');
    await expect(jwtVerify(received.get('/rs')![0]!, jwks, { issuer: s.issuer, audience: rs.clientId, typ: 'logout+jwt', algorithms: ['RS256'] })).resolves.toBeTruthy();
  });
});
