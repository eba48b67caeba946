import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { rowsOf } from '../../server/db/index.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { ensureKeys, loadKeys } from '../../server/oidc/keys.js';
import { createCoop } from '../support/fixtures.js';
import { discover, registerClient, startSsoServer } from './helpers.js';

let s: Awaited<ReturnType<typeof startSsoServer>>;
beforeAll(async () => {
  s = await startSsoServer();
});
afterAll(async () => {
  await s?.stop();
});

describe('provider mount, keys and discovery', () => {
  it('serves discovery under /oidc with our issuer and the flows we support', async () => {
    const res = await fetch(`${s.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(meta.issuer).toBe(s.issuer);
    expect(meta.authorization_endpoint).toBe(`${s.issuer}/auth`);
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']),
    );
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'meetplane', 'api', 'offline_access']));
    expect(meta.claims_supported).toEqual(
      expect.arrayContaining(['email', 'email_verified', 'name', 'given_name', 'family_name', 'preferred_username', 'coop', 'roles', 'groups', 'meetplane']),
    );
    expect([...meta.id_token_signing_alg_values_supported].sort()).toEqual(['ES256', 'RS256']);
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.end_session_endpoint).toBe(`${s.issuer}/session/end`);
    expect(meta.introspection_endpoint).toBeDefined();
    expect(meta.revocation_endpoint).toBeDefined();
    expect(meta.device_authorization_endpoint).toBeDefined();
    // Discovery goes through the request log like any other request.
    expect(s.logs()).toMatch(/"path":"\/oidc\/.well-known\/openid-configuration","status":200/);
  });

  it('publishes an ES256 and an RS256 key with unique kids and stores their private halves sealed', async () => {
    const jwks = (await (await fetch(`${s.issuer}/jwks`)).json()) as { keys: Array<Record<string, string>> };
    const algs = jwks.keys.map((k) => k.alg).sort();
    expect(algs).toEqual(['ES256', 'RS256']);
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(2);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
    const rows = rowsOf<{ private_sealed: string }>(await s.database.db.execute(sql`select private_sealed from oidc_keys`));
    expect(rows.length).toBe(3); // two signing keys and a cookie key
    for (const r of rows) {
      expect(r.private_sealed).toMatch(/^v1\./);
      expect(r.private_sealed).not.toContain('"d"');
    }
  });

  it('answers unknown provider paths with 404 and keeps the REST API apart', async () => {
    expect((await fetch(`${s.issuer}/no-such-endpoint`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/coops`)).status).toBe(401);
  });
});

describe('client credentials and JWT access tokens for the REST API', () => {
  let coopId: string;
  let machine: { clientId: string; clientSecret: string | null };
  beforeAll(async () => {
    coopId = (await createCoop(s)).id;
    machine = await registerClient(s, { name: 'billing robot', coop: coopId, kind: 'machine' });
  });

  it('issues an RFC 9068 JWT for the API that the API accepts as the machine client', async () => {
    const config = await discover(s, machine.clientId, machine.clientSecret!);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBeLessThanOrEqual(300);
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(header.alg).toBe('ES256');
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud).toBe(s.apiResource);
    expect(claims.iss).toBe(s.issuer);
    expect(claims.client_id).toBe(machine.clientId);
    const res = await s.api('GET', `/api/v1/coops/${coopId}`, { token: tokens.access_token });
    expect(res.status).toBe(200);
    // Read-only: machine clients change nothing under the interim permissions.
    const write = await s.api('POST', '/api/v1/coops', { token: tokens.access_token, body: { slug: 'x', name: 'x', jurisdiction: 'DE', contactEmail: 'a@b.example', legalRegime: 'eu_gdpr' } });
    expect(write.status).toBe(403);
  });

  it('refuses a wrong client secret', async () => {
    const config = await discover(s, machine.clientId, 'mp_cs_wrong');
    await expect(oidc.clientCredentialsGrant(config, { scope: 'api' })).rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
  });

  it('refuses a resource that is not ours', async () => {
    const config = await discover(s, machine.clientId, machine.clientSecret!);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'api', resource: 'https://elsewhere.example/api' })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('rejects tampered, foreign and unsigned tokens with 401 problem+json', async () => {
    const config = await discover(s, machine.clientId, machine.clientSecret!);
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    const [h, p, sig] = access_token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-0000-0000-000000000001' })).toString('base64url')}.${sig}`;
    const otherAudience = `${h}.${Buffer.from(JSON.stringify({ ...payload, aud: 'https://elsewhere.example' })).toString('base64url')}.${sig}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    for (const token of [tampered, otherAudience, unsigned, `${h}.${p}.AAAA`, 'not-a-token']) {
      const res = await s.api('GET', `/api/v1/coops/${coopId}`, { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.type).toBe('https://meetplane.org/problems/unauthorized');
    }
  });
});

describe('keys of an instance from before', () => {
  it('on an instance from before RS256: adds the missing key at start and no longer publishes its Ed25519 key (cjose cannot parse it)', async () => {
    const box = new SecretBox(decodeMasterKey(s.masterKey));
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true, crv: 'Ed25519' });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'eddsa-old', alg: 'EdDSA', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'eddsa-old', alg: 'EdDSA', use: 'sig' };
    await s.database.db.execute(sql`delete from oidc_keys where alg = 'RS256'`);
    await s.database.db.execute(
      sql`insert into oidc_keys (kid, kind, alg, private_sealed, public_jwk) values ('eddsa-old', 'signing', 'EdDSA', ${box.seal(JSON.stringify(privateJwk), 'oidc-key:eddsa-old')}, ${JSON.stringify(publicJwk)}::jsonb)`,
    );
    await ensureKeys(s.database.db, box);
    const keys = await loadKeys(s.database.db, box, 3_600_000, 3_600_000);
    expect(keys.jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(keys.publicJwks.keys.some((k) => k.kty === 'OKP')).toBe(false);
  });
});
