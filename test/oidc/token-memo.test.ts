// The access-token check keeps the tokens it verified (AccessTokenVerifier's memo)
// so a client sending the same token for minutes pays for the signature once.
// What a sysadmin relies on: a token seen again is not verified again; it is still
// refused the second its expiry (with the 5 s skew allowed) passes, and then
// leaves the memo; and however many tokens arrive, the memo holds at most 2,000.
// The database is never reached by verify(), so none is started.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import * as jose from 'jose';
import { AccessTokenVerifier } from '../../server/oidc/verify.js';
import type { Db } from '../../server/db/index.js';

// Counts the signature checks the verifier asks of jose, and nothing else changes.
vi.mock('jose', async (original) => {
  const real = await original<typeof import('jose')>();
  return { ...real, jwtVerify: vi.fn(real.jwtVerify) };
});
const signatureChecks = () => vi.mocked(jose.jwtVerify).mock.calls.length;

const ISSUER = 'https://meetplane.test/oidc';
const AUDIENCE = 'https://meetplane.test/api';

/** A verifier with one ES256 key, and a way to sign access tokens with it. No query runs in verify(). */
async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const fakeDb = new Proxy({}, { get: () => () => fakeDb }) as unknown as Db; // the constructor only prepares its two queries
  const verifier = new AccessTokenVerifier(fakeDb, ISSUER, AUDIENCE, { keys: [jwk] });
  let n = 0;
  const token = (exp: number) =>
    new SignJWT({ scope: 'openid api', client_id: 'web', jti: `t${++n}` })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('00000000-0000-4000-8000-000000000001')
      .setIssuedAt(exp - 300)
      .setExpirationTime(exp)
      .sign(privateKey);
  return { verifier, token };
}

const nowS = () => Math.floor(Date.now() / 1000);

afterEach(() => {
  vi.useRealTimers();
  vi.mocked(jose.jwtVerify).mockClear();
});

describe('the verified-token memo', () => {
  it('checks a token\'s signature once however often it is sent', async () => {
    const { verifier, token } = await setup();
    const t = await token(nowS() + 300);
    const first = await verifier.verify(t);
    expect(first).toMatchObject({ client_id: 'web', iss: ISSUER });
    for (let i = 0; i < 5; i++) expect(await verifier.verify(t)).toEqual(first);
    expect(signatureChecks()).toBe(1);
  });

  it('refuses a remembered token from the second its expiry and the 5 s skew have passed, and forgets it', async () => {
    const { verifier, token } = await setup();
    const exp = nowS() + 60;
    const t = await token(exp);
    expect(await verifier.verify(t)).not.toBeNull();
    expect(verifier.remembered).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    // Still accepted at the last second of the skew...
    vi.setSystemTime((exp + 4) * 1000 + 999);
    expect(await verifier.verify(t)).not.toBeNull();
    // ...refused from the next, as jose itself decides, and no longer held.
    vi.setSystemTime((exp + 5) * 1000);
    expect(await verifier.verify(t)).toBeNull();
    expect(verifier.remembered).toBe(0);
  });

  it('never holds more than 2,000 tokens, however many clients send one', async () => {
    const { verifier, token } = await setup();
    const exp = nowS() + 300;
    let most = 0;
    for (let i = 0; i < 2_001; i++) {
      expect(await verifier.verify(await token(exp))).not.toBeNull();
      most = Math.max(most, verifier.remembered);
    }
    expect(most).toBe(2_000);
    expect(verifier.remembered).toBeLessThan(2_000);
  });

  it('forgets every token when the published keys change', async () => {
    const { verifier, token } = await setup();
    const t = await token(nowS() + 300);
    await verifier.verify(t);
    verifier.setKeys({ keys: [] });
    expect(verifier.remembered).toBe(0);
    expect(await verifier.verify(t)).toBeNull();
  });
});
