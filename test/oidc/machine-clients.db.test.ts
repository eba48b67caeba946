// Machine clients that do a job (issue 23), end to end over HTTP with real
// client-credentials tokens: a provisioning client given coop_admin on one
// co-op creates tenancies there and nowhere else; a monitoring client created
// for a co-op reads its clusters' health and changes nothing; a client created
// for a tenancy reads that tenancy. Their grants are delegated, listed, shown
// in their tokens and revoked like a person's, and a revoked grant or a deleted
// client stops their tokens on another process within a second. The actions
// only a person can take answer 403 naming the rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { backend } from '../support/db.js';
import { discover, registerClient, startSsoServer } from './helpers.js';
import { otherProcess, type SsoServer } from '../accounts/support.js';
import { transferAction } from '../support/transfers.js';
import { within } from '../support/within.js';

let s: SsoServer;
let other: Awaited<ReturnType<typeof otherProcess>>;
beforeAll(async () => {
  s = await startSsoServer();
  other = await otherProcess(s);
}, 60_000);
afterAll(async () => {
  await other?.stop();
  await s?.stop();
});

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
let n = 0;
const slug = (p: string) => `${p}-${Date.now().toString(36)}${(n++).toString(36)}`;

/** A machine client created by `token`'s holder, and a client-credentials access token for the API. */
async function machineClient(body: Record<string, unknown>, token?: string) {
  const res = await s.api('POST', '/api/v1/clients', { token, body: { kind: 'machine', ...body } });
  expect(res.status, res.text).toBe(201);
  const c = res.json as { id: string; clientId: string; clientSecret: string };
  return { ...c, accessToken: () => tokenFor(c) };
}

async function tokenFor(c: { clientId: string; clientSecret: string }): Promise<string> {
  const config = await discover(s, c.clientId, c.clientSecret);
  return (await oidc.clientCredentialsGrant(config, { scope: 'api', resource: s.apiResource })).access_token;
}

/** A client-credentials token request at `base`, as a client sends it: its status and body. */
async function tokenAt(base: string, c: { clientId: string; clientSecret: string }) {
  const res = await fetch(base + '/oidc/token', {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: s.apiResource }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
}

async function status(base: string, token: string, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(base + '/api/v1' + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  await res.arrayBuffer();
  return res.status;
}

async function rootGrant(): Promise<string> {
  return (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id;
}

/** An account of `coop` holding a delegable coop_admin grant on it: its token and the grant's id. */
async function coopAdmin(coop: string) {
  const who = await memberWithToken(s, coop);
  const g = await s.api('POST', '/api/v1/grants', {
    body: { from: await rootGrant(), account: who.accountId, role: 'coop_admin', scope: { type: 'coop', id: coop }, delegable: true, expiresAt: inDays(365), reason: 'runs the co-op' },
  });
  expect(g.status, g.text).toBe(201);
  return { ...who, grantId: g.json.id as string };
}

describe('a provisioning client (coop_admin on one co-op)', () => {
  it('creates tenancies in its co-op and nowhere else; its grant is listed, audited and in its token', async () => {
    const north = await createCoop(s);
    const south = await createCoop(s);
    const northCluster = await createCluster(s, north.id);
    const southCluster = await createCluster(s, south.id);
    const admin = await coopAdmin(north.id);
    const adminGrant = admin.grantId;

    // The co-op admin registers the client and delegates coop_admin on the co-op to it for 90 days.
    const robot = await machineClient({ name: 'membership sync', coop: north.id }, admin.token);
    const before = await robot.accessToken();
    expect(await status(s.url, before, 'POST', '/tenancies', { slug: slug('t'), name: 'Early', coop: north.id, cluster: northCluster.id })).toBe(403);

    const granted = await s.api('POST', '/api/v1/grants', {
      token: admin.token,
      body: { from: adminGrant, client: robot.id, role: 'coop_admin', scope: { type: 'coop', id: north.id }, expiresAt: inDays(90), reason: 'provisions tenancies from the membership system' },
    });
    expect(granted.status, granted.text).toBe(201);
    expect(granted.json).toMatchObject({ clientId: robot.id, accountId: null, role: 'coop_admin', status: 'active' });
    expect(granted.json.delegators[0]).toBe(admin.accountId);

    const token = await robot.accessToken();
    // The token says what it may do, as a person's ID token does.
    const claims = decodeJwt(token) as { roles?: string[]; meetplane?: { coop: { id: string }; roles: Array<{ role: string; grant: string; act?: { sub: string } }> } };
    expect(claims.roles).toEqual([`coop_admin:${north.slug}`]);
    expect(claims.meetplane?.coop.id).toBe(north.id);
    expect(claims.meetplane?.roles).toEqual([expect.objectContaining({ role: 'coop_admin', grant: granted.json.id, act: expect.objectContaining({ sub: admin.accountId }) })]);

    const made = await s.api('POST', '/api/v1/tenancies', { token, body: { slug: slug('school'), name: 'School', coop: north.id, cluster: northCluster.id } });
    expect(made.status, made.text).toBe(201);
    const elsewhere = await s.api('POST', '/api/v1/tenancies', { token, body: { slug: slug('school'), name: 'School', coop: south.id, cluster: southCluster.id } });
    // Another co-op answers as one that does not exist (unknown looks like hidden), and nothing is made there.
    expect(elsewhere.json.detail, elsewhere.text).toBe('coop: no such co-op');
    expect((await s.api('GET', `/api/v1/tenancies?coop=${south.id}`)).json.items).toEqual([]);

    // Listed with the client; and the creation is on record as done by the client under its grant.
    const listed = await s.api('GET', `/api/v1/grants?client=${robot.id}`, { token: admin.token });
    expect(listed.json.items.map((g: { id: string }) => g.id)).toEqual([granted.json.id]);
    const shown = await s.api('GET', `/api/v1/clients/${robot.clientId}`, { token: admin.token });
    expect(shown.json.grants).toEqual([{ id: granted.json.id, role: 'coop_admin', scope: { type: 'coop', id: north.id }, expiresAt: granted.json.expiresAt }]);
    const entries = (await s.api('GET', '/api/v1/audit/entries?action=grant.delegate')).json.items as Array<{ json: { subject: { id: string }; after?: { holder: unknown } } }>;
    expect(entries.find((e) => e.json.subject.id === granted.json.id)?.json.after?.holder).toEqual({ client: robot.id });
    const created = (await s.api('GET', '/api/v1/audit/entries?action=tenancy.create')).json.items as Array<{ json: { subject: { id: string }; actor: { client?: string }; decision?: { policyIds: string[] } } }>;
    const entry = created.find((e) => e.json.subject.id === made.json.id)?.json;
    expect(entry?.decision?.policyIds).toContain('coop-admin-manage-own-coop');
    expect(entry?.actor.client).toBe(robot.clientId);
  }, 60_000);

  it('is held to the delegation rules like anyone: no wider role than the grantor holds', async () => {
    const north = await createCoop(s);
    const admin = await coopAdmin(north.id);
    const adminGrant = admin.grantId;
    const robot = await machineClient({ name: 'too ambitious', coop: north.id }, admin.token);
    const wider = await s.api('POST', '/api/v1/grants', {
      token: admin.token,
      body: { from: adminGrant, client: robot.id, role: 'platform_admin', scope: { type: 'global' }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(wider.status).toBe(403);
    expect(wider.json.rule).toBe('delegation.widen-role');
    // Only machine clients hold grants: a web client is refused.
    const web = await registerClient(s, { name: 'Greenlight', coop: north.id, kind: 'web', redirectUris: ['https://gl.example/cb'] });
    const toWeb = await s.api('POST', '/api/v1/grants', {
      token: admin.token,
      body: { from: adminGrant, client: web.id, role: 'cluster_operator', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(toWeb.status).toBe(400);
  }, 60_000);
});

describe('a monitoring client (created for a co-op, no grant)', () => {
  it('reads the health of its co-op\'s clusters and changes nothing', async () => {
    const north = await createCoop(s);
    const south = await createCoop(s);
    const a1 = await createCluster(s, north.id);
    const b1 = await createCluster(s, south.id);
    const monitor = await machineClient({ name: 'prometheus probe', coop: north.id });
    const token = await monitor.accessToken();
    expect(await status(s.url, token, 'GET', `/clusters/${a1.id}/health`)).toBe(200);
    expect(await status(s.url, token, 'GET', `/clusters/${a1.id}`)).toBe(200);
    // Another co-op's cluster looks missing; its own cluster cannot be changed or its secret read.
    expect(await status(s.url, token, 'GET', `/clusters/${b1.id}/health`)).toBe(404);
    const drain = await s.api('PATCH', `/api/v1/clusters/${a1.id}`, { token, body: { state: 'draining' }, headers: { 'if-match': (await s.api('GET', `/api/v1/clusters/${a1.id}`)).headers.get('etag')! } });
    expect(drain.status).toBe(403);
    expect((await s.api('GET', `/api/v1/clusters/${a1.id}`)).json.state).not.toBe('draining');
    // No people: the co-op's accounts are not its to read.
    const person = await memberWithToken(s, north.id);
    expect(await status(s.url, token, 'GET', `/accounts/${person.accountId}`)).toBe(404);
    expect(decodeJwt(token).roles).toEqual([]);
  }, 60_000);
});

describe('a client created for a tenancy', () => {
  it('reads that tenancy (no longer 404) and no other', async () => {
    const north = await createCoop(s);
    const a1 = await createCluster(s, north.id);
    const mine = await createTenancy(s, north.id, a1.id);
    const sibling = await createTenancy(s, north.id, a1.id);
    const lti = await machineClient({ name: 'Moodle', coop: north.id, tenancy: mine.id });
    const token = await lti.accessToken();
    expect(await status(s.url, token, 'GET', `/tenancies/${mine.id}`)).toBe(200);
    expect(await status(s.url, token, 'GET', `/tenancies/${mine.id}/rooms`)).toBe(200);
    expect(await status(s.url, token, 'GET', `/tenancies/${sibling.id}`)).toBe(404);
    expect(await status(s.url, token, 'GET', `/clusters/${a1.id}`)).toBe(404);
    expect((decodeJwt(token) as { meetplane?: { tenancy: { id: string } } }).meetplane?.tenancy.id).toBe(mine.id);
  }, 60_000);
});

describe('revocation', () => {
  it('a revoked grant stops the client\'s token on another process within a second', async () => {
    const north = await createCoop(s);
    const a1 = await createCluster(s, north.id);
    const robot = await machineClient({ name: 'provisioner', coop: north.id });
    const grant = await s.api('POST', '/api/v1/grants', {
      body: { from: await rootGrant(), client: robot.id, role: 'coop_admin', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'provisioning' },
    });
    expect(grant.status, grant.text).toBe(201);
    const token = await robot.accessToken();
    if (backend() === 'postgres') expect(other.url).not.toBe(s.url);
    const tenancy = () => ({ slug: slug('t'), name: 'T', coop: north.id, cluster: a1.id });
    expect(await status(other.url, token, 'POST', '/tenancies', tenancy())).toBe(201);

    const revoked = await s.api('POST', `/api/v1/grants/${grant.json.id}/revoke`, { body: { reason: 'job retired' }, headers: { 'if-match': grant.headers.get('etag')! } });
    expect(revoked.status, revoked.text).toBe(200);
    // The same, still unexpired token: refused on the other process.
    await within(1000, async () => (await status(other.url, token, 'POST', '/tenancies', tenancy())) === 403);
    expect((await s.api('GET', `/api/v1/grants?client=${robot.id}&active=true`)).json.items).toEqual([]);
  }, 60_000);

  it('revoking the grant it came from revokes the client\'s grant too (cascade)', async () => {
    const north = await createCoop(s);
    const admin = await coopAdmin(north.id);
    const adminGrant = { id: admin.grantId };
    const robot = await machineClient({ name: 'sync', coop: north.id }, admin.token);
    const g = await s.api('POST', '/api/v1/grants', {
      token: admin.token,
      body: { from: adminGrant.id, client: robot.id, role: 'cluster_operator', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(g.status, g.text).toBe(201);
    const res = await s.api('POST', `/api/v1/grants/${adminGrant.id}/revoke`, { body: { reason: 'admin left' }, headers: { 'if-match': (await s.api('GET', `/api/v1/grants/${adminGrant.id}`)).headers.get('etag')! } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.revoked).toContain(g.json.id);
    expect((await s.api('GET', `/api/v1/grants/${g.json.id}`)).json.status).toBe('revoked');
  }, 60_000);

  it('a deleted client\'s token is refused on another process within a second, and its grants are revoked', async () => {
    const north = await createCoop(s);
    const robot = await machineClient({ name: 'old job', coop: north.id });
    const grant = await s.api('POST', '/api/v1/grants', {
      body: { from: await rootGrant(), client: robot.id, role: 'cluster_operator', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(grant.status).toBe(201);
    const token = await robot.accessToken();
    expect(decodeJwt(token).roles).toEqual([`cluster_operator:${north.slug}`]);
    expect(await status(other.url, token, 'GET', `/coops/${north.id}`)).toBe(200);
    const current = await s.api('GET', `/api/v1/clients/${robot.id}`);
    expect((await s.api('DELETE', `/api/v1/clients/${robot.id}`, { headers: { 'if-match': current.headers.get('etag')! } })).status).toBe(204);
    await within(1000, async () => (await status(other.url, token, 'GET', `/coops/${north.id}`)) === 401);
    expect((await s.api('GET', `/api/v1/grants/${grant.json.id}`)).json.status).toBe('revoked');
  }, 60_000);
});

describe('tokens issued on another process', () => {
  it('a rotated secret gets no token there within a second; the new one does', async () => {
    const north = await createCoop(s);
    const robot = await machineClient({ name: 'rotating', coop: north.id });
    expect((await tokenAt(other.url, robot)).status).toBe(200);
    const current = await s.api('GET', `/api/v1/clients/${robot.id}`);
    const rotated = await s.api('POST', `/api/v1/clients/${robot.id}/rotate-secret`, { headers: { 'if-match': current.headers.get('etag')! } });
    expect(rotated.status, rotated.text).toBe(200);
    await within(1000, async () => (await tokenAt(other.url, robot)).status === 401);
    expect((await tokenAt(other.url, robot)).body.error).toBe('invalid_client');
    expect((await tokenAt(other.url, { clientId: robot.clientId, clientSecret: rotated.json.clientSecret })).status).toBe(200);
  }, 60_000);

  it('a deleted client gets no token there within a second', async () => {
    const north = await createCoop(s);
    const robot = await machineClient({ name: 'short-lived', coop: north.id });
    expect((await tokenAt(other.url, robot)).status).toBe(200);
    const current = await s.api('GET', `/api/v1/clients/${robot.id}`);
    expect((await s.api('DELETE', `/api/v1/clients/${robot.id}`, { headers: { 'if-match': current.headers.get('etag')! } })).status).toBe(204);
    await within(1000, async () => (await tokenAt(other.url, robot)).status === 401);
  }, 60_000);

  it('names a new grant, and no longer a revoked one, within a second', async () => {
    const north = await createCoop(s);
    const robot = await machineClient({ name: 'roles change', coop: north.id });
    const rolesThere = async () => decodeJwt((await tokenAt(other.url, robot)).body.access_token!).roles;
    expect(await rolesThere()).toEqual([]);
    const grant = await s.api('POST', '/api/v1/grants', {
      body: { from: await rootGrant(), client: robot.id, role: 'cluster_operator', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(grant.status, grant.text).toBe(201);
    await within(1000, async () => JSON.stringify(await rolesThere()) === JSON.stringify([`cluster_operator:${north.slug}`]));
    const revoked = await s.api('POST', `/api/v1/grants/${grant.json.id}/revoke`, { body: { reason: 'done' }, headers: { 'if-match': grant.headers.get('etag')! } });
    expect(revoked.status, revoked.text).toBe(200);
    await within(1000, async () => JSON.stringify(await rolesThere()) === '[]');
  }, 60_000);

  it('stops naming a grant once it has run out, with nothing changed meanwhile', async () => {
    const north = await createCoop(s);
    const robot = await machineClient({ name: 'expiring', coop: north.id });
    const grant = await s.api('POST', '/api/v1/grants', {
      body: { from: await rootGrant(), client: robot.id, role: 'cluster_operator', scope: { type: 'coop', id: north.id }, expiresAt: new Date(Date.now() + 3000).toISOString(), reason: 'x' },
    });
    expect(grant.status, grant.text).toBe(201);
    const roles = async () => decodeJwt((await tokenAt(other.url, robot)).body.access_token!).roles;
    expect(await roles()).toEqual([`cluster_operator:${north.slug}`]);
    await within(6000, async () => JSON.stringify(await roles()) === '[]');
  }, 60_000);
});

describe('what only a person can do', () => {
  it('is refused to a machine client with 403 naming machine-client-not-a-person, whatever it holds', async () => {
    const north = await createCoop(s);
    const south = await createCoop(s);
    const a1 = await createCluster(s, north.id);
    const b1 = await createCluster(s, south.id);
    const tenancy = await createTenancy(s, north.id, a1.id);
    const robot = await machineClient({ name: 'owner bot', coop: north.id, tenancy: tenancy.id });
    const g = await s.api('POST', '/api/v1/grants', {
      body: { from: await rootGrant(), client: robot.id, role: 'tenancy_owner', scope: { type: 'tenancy', id: tenancy.id }, expiresAt: inDays(1), reason: 'x' },
    });
    expect(g.status, g.text).toBe(201);
    const token = await robot.accessToken();
    const transfer = await s.api('POST', '/api/v1/transfers', { body: { tenancy: tenancy.id, targetCoop: south.id, targetCluster: b1.id } });
    expect(transfer.status, transfer.text).toBe(201);

    const refusals = [
      await s.api('POST', '/api/v1/tokens', { token, body: { name: 'ci' } }),
      await s.api('GET', '/api/v1/tokens', { token }),
      await transferAction(s, transfer.json.id, 'approve', { token, body: { as: 'owner' } }),
      await transferAction(s, transfer.json.id, 'object', { token }),
    ];
    for (const res of refusals) {
      expect(res.status, res.text).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.policyIds, res.text).toContain('machine-client-not-a-person');
    }
    // A person's pages: refused by the same rule, not sent to a sign-in it could never complete.
    for (const page of ['/me', '/me/data']) {
      const res = await fetch(s.url + page, { redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
      expect(res.status, page).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { policyIds: string[] }).policyIds).toContain('machine-client-not-a-person');
    }
    expect((await fetch(s.url + '/me', { redirect: 'manual' })).status).toBe(303);
    // A person holding the same grant may approve as owner (the rule is about being a machine).
    const person = await memberWithToken(s, north.id);
    await s.api('POST', '/api/v1/grants', { body: { from: await rootGrant(), account: person.accountId, role: 'tenancy_owner', scope: { type: 'tenancy', id: tenancy.id }, expiresAt: inDays(1), reason: 'x' } });
    const asPerson = await transferAction(s, transfer.json.id, 'approve', { token: person.token, body: { as: 'owner' } });
    expect(asPerson.json?.policyIds ?? []).not.toContain('machine-client-not-a-person');
  }, 60_000);
});

describe('nobody takes over a machine client holding more than they do', () => {
  it('refuses a tenancy owner a new secret for its tenancy\'s client once the client holds coop_admin, naming the rule', async () => {
    const north = await createCoop(s);
    const a1 = await createCluster(s, north.id);
    const tenancy = await createTenancy(s, north.id, a1.id);
    const owner = await memberWithToken(s, north.id);
    const og = await s.api('POST', '/api/v1/grants', { body: { from: await rootGrant(), account: owner.accountId, role: 'tenancy_owner', scope: { type: 'tenancy', id: tenancy.id }, expiresAt: inDays(1), reason: 'owns it' } });
    expect(og.status, og.text).toBe(201);
    const robot = await machineClient({ name: 'integration', coop: north.id, tenancy: tenancy.id }, owner.token);
    const rotate = async (token: string) =>
      s.api('POST', `/api/v1/clients/${robot.id}/rotate-secret`, { token, headers: { 'if-match': (await s.api('GET', `/api/v1/clients/${robot.id}`)).headers.get('etag')! } });

    // While it holds nothing beyond its tenancy, its owner may rotate its secret.
    expect((await rotate(owner.token)).status).toBe(200);
    const g = await s.api('POST', '/api/v1/grants', { body: { from: await rootGrant(), client: robot.id, role: 'coop_admin', scope: { type: 'coop', id: north.id }, expiresAt: inDays(1), reason: 'runs the co-op\'s provisioning' } });
    expect(g.status, g.text).toBe(201);
    const refused = await rotate(owner.token);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.policyIds).toContain('client-takeover-needs-every-role');
    const del = await s.api('DELETE', `/api/v1/clients/${robot.id}`, { token: owner.token, headers: { 'if-match': (await s.api('GET', `/api/v1/clients/${robot.id}`)).headers.get('etag')! } });
    expect(del.status).toBe(403);
    // A co-op admin holds every role it holds.
    const admin = await coopAdmin(north.id);
    expect((await rotate(admin.token)).status).toBe(200);
  }, 60_000);
});
