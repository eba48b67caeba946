// The API's bearer check, claim by claim, with tokens signed by the instance's
// own key for a real account: a control token with every claim right is
// accepted (GET /me answers for that account), and each token that differs
// from it in one claim is refused. So a refusal here is for the claim named,
// never because the subject is unknown. The server caches who a token stands
// for for a minute here, so a change made outside its API must reach it by the
// database's change notices, as another process's change would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { SignJWT, importJWK, type JWK } from 'jose';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { loadKeys, rotateKeys } from '../../server/oidc/keys.js';
import { createCoop } from '../support/fixtures.js';
import { memberWithPassword, registerClient, startSsoServer } from './helpers.js';
import { within } from '../support/within.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
let accountId: string;
let webClientId: string;
let machine: { id: string; clientId: string };
let coopId: string;
let key: { jwk: JWK; kid: string };

beforeAll(async () => {
  s = await startSsoServer({ CACHE_MAX_AGE_MS: '60000' });
  const coop = await createCoop(s);
  coopId = coop.id;
  ({ accountId } = await memberWithPassword(s, { coop: coop.id }));
  webClientId = (await registerClient(s, { name: 'Greenlight', coop: coop.id, kind: 'web', redirectUris: ['http://127.0.0.1:9/cb'] })).clientId;
  machine = await registerClient(s, { name: 'Provisioning script', coop: coop.id, kind: 'machine' });
  const keys = await loadKeys(s.database.db, new SecretBox(decodeMasterKey(s.masterKey)), 3_600_000, 3_600_000);
  const jwk = keys.jwks.keys.find((k) => k.alg === 'ES256')!;
  key = { jwk, kid: jwk.kid! };
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = {
    iss: s.issuer,
    aud: s.apiResource,
    sub: accountId,
    client_id: webClientId,
    jti: `jti-${Math.random()}`,
    scope: 'openid api',
    iat: now() - 10,
    exp: now() + 300,
    ...over,
  };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
}

async function sign(body: Record<string, unknown>, typ = 'at+jwt'): Promise<string> {
  return new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ, kid: key.kid }).sign(await importJWK(key.jwk, 'ES256'));
}

async function me(token: string) {
  return s.api('GET', '/api/v1/me', { token });
}

describe('bearer tokens for a real account', () => {
  it('accepts the control token, for that account', async () => {
    const res = await me(await sign(claims()));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ accountId, via: 'oidc', clientId: webClientId, platformAdmin: false });
  });

  const refused: Array<[string, Record<string, unknown>]> = [
    ['expired a minute ago', { iat: now() - 600, exp: now() - 60 }],
    ['without exp', { exp: undefined }],
    ['without iat', { iat: undefined }],
    ['without jti', { jti: undefined }],
    ['without client_id', { client_id: undefined }],
    ['without the api scope', { scope: 'openid profile' }],
    ['without any scope', { scope: undefined }],
    ['with a scope that only starts with api', { scope: 'openid apis' }],
    ['from another issuer', { iss: 'https://other.example/oidc' }],
    ['for another audience', { aud: 'https://other.example/api' }],
    ['for no account (the subject is not a UUID)', { sub: 'someone' }],
    ['for an account that does not exist', { sub: '00000000-0000-4000-8000-000000000000' }],
  ];

  for (const [what, over] of refused)
    it(`refuses a token ${what}`, async () => {
      const res = await me(await sign(claims(over)));
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });

  it('refuses a token that is not typed as an access token (an ID token, say)', async () => {
    expect((await me(await sign(claims(), 'JWT'))).status).toBe(401);
  });

  it('refuses a token whose subject is a web client rather than a machine client', async () => {
    expect((await me(await sign(claims({ sub: webClientId })))).status).toBe(401);
  });

  it('refuses the account\'s tokens once it is suspended', async () => {
    const other = await memberWithPassword(s);
    const token = await sign(claims({ sub: other.accountId }));
    expect((await me(token)).status).toBe(200);
    const etag = (await s.api('GET', `/api/v1/accounts/${other.accountId}`)).headers.get('etag')!;
    const suspend = await s.api('POST', `/api/v1/accounts/${other.accountId}/suspend`, { body: { reason: 'test' }, headers: { 'if-match': etag } });
    expect(suspend.status, suspend.text).toBeLessThan(300);
    // A change through the API is seen by the very next request.
    expect((await me(token)).status).toBe(401);
  });

  it('refuses the account\'s tokens within a second of a suspension made outside this process\'s API (by SQL)', async () => {
    const other = await memberWithPassword(s);
    const token = await sign(claims({ sub: other.accountId }));
    expect((await me(token)).status).toBe(200);
    await s.database.db.execute(sql`update accounts set suspended_at = now() where id = ${other.accountId}`);
    await within(1_000, async () => (await me(token)).status === 401);
  });
});

describe('bearer tokens of a machine client (client credentials)', () => {
  const machineClaims = () => claims({ sub: machine.clientId, client_id: machine.clientId, scope: 'api' });

  it('stand for the client, of its co-op, never a platform admin', async () => {
    const res = await me(await sign(machineClaims()));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ accountId: machine.id, coopId, platformAdmin: false, via: 'oidc', clientId: machine.clientId });
  });

  it('are refused within a second of the client being deleted outside this process\'s API (by SQL)', async () => {
    const gone = await registerClient(s, { name: 'Old script', coop: coopId, kind: 'machine' });
    const token = await sign(claims({ sub: gone.clientId, client_id: gone.clientId, scope: 'api' }));
    expect((await me(token)).status).toBe(200);
    await s.database.db.execute(sql`delete from oidc_clients where id = ${gone.id}`);
    await within(1_000, async () => (await me(token)).status === 401);
  });
});

describe('a token accepted before', () => {
  it('is refused once it has expired, past the 5 s allowed for clock skew', async () => {
    const token = await sign(claims({ exp: now() + 1 }));
    expect((await me(token)).status).toBe(200);
    const took = await within(10_000, async () => (await me(token)).status === 401);
    expect(took).toBeGreaterThan(3_000); // not refused early: accepted for the tolerance past `exp`
  }, 30_000);

  it('is refused once its key is no longer published (retired past its grace)', async () => {
    const token = await sign(claims());
    expect((await me(token)).status).toBe(200);
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    await rotateKeys(s.database.db, box);
    // The retired keys' grace is over: no longer in the key set the server verifies with.
    await s.database.db.execute(sql`update oidc_keys set retired_at = now() - interval '400 days' where retired_at is not null`);
    expect(await s.sso.reloadKeys()).toBe(true);
    expect((await me(token)).status).toBe(401);
  });
});
