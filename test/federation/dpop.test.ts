// DPoP proofs (RFC 9449) and the transfer capabilities bound to them, as a verifier checks them.
import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, importJWK, type JWK } from 'jose';
import { accessTokenHash, createDpopProof, DPOP_MAX_SKEW_S, htuOf, verifyDpopProof } from '../../federation/dpop.js';
import { CAPABILITY_TYP, checkCapability, issueCapability } from '../../federation/transfer-capability.js';

async function key(kid = 'k1'): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
}
const pub = ({ d: _d, ...p }: JWK) => p;
const url = 'https://a.example.coop/federation/transfers/0190e0a0-0000-7000-8000-000000000001/manifest';

describe('DPoP proofs', () => {
  it("verify for the request they name and give the key's thumbprint", async () => {
    const k = await key();
    const proof = await createDpopProof(k, { htm: 'GET', htu: `${url}?x=1#f`, accessToken: 'tok' });
    const r = await verifyDpopProof(proof, { htm: 'GET', htu: url, accessToken: 'tok' });
    expect(r.jkt).toBe(await calculateJwkThumbprint(pub(k)));
    expect(htuOf(`${url}?x=1#f`)).toBe(url);
  });

  it.each([
    ['another method', { htm: 'POST', htu: url, accessToken: 'tok' }, /not GET|for GET, not POST/],
    ['another URL', { htm: 'GET', htu: url.replace('manifest', 'files/x'), accessToken: 'tok' }, /another URL/],
    ['another access token', { htm: 'GET', htu: url, accessToken: 'other' }, /not for this access token/],
    ['a stale proof', { htm: 'GET', htu: url, accessToken: 'tok', now: Date.now() + 120_000 }, /not fresh/],
  ])('are refused for %s', async (_what, opts, message) => {
    const proof = await createDpopProof(await key(), { htm: 'GET', htu: url, accessToken: 'tok' });
    await expect(verifyDpopProof(proof, opts)).rejects.toThrow(message);
  });

  it('are refused when the header carries a private key, another typ, or a key that did not sign', async () => {
    const k = await key();
    const signer = await importJWK(k, 'ES256');
    const claims = { jti: 'abcdefgh1', htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) };
    const withPrivate = await new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: k }).sign(signer);
    await expect(verifyDpopProof(withPrivate, { htm: 'GET', htu: url })).rejects.toThrow(/private key/);
    const wrongTyp = await new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk: pub(k) }).sign(signer);
    await expect(verifyDpopProof(wrongTyp, { htm: 'GET', htu: url })).rejects.toThrow(/typ/);
    const other = await key('k2');
    const swapped = await new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: pub(other) }).sign(signer);
    await expect(verifyDpopProof(swapped, { htm: 'GET', htu: url })).rejects.toThrow(/signature is not valid \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/);
    expect(accessTokenHash('tok')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('verify for Ed25519 keys, under either name of the algorithm (EdDSA, Ed25519)', async () => {
    for (const alg of ['EdDSA', 'Ed25519'] as const) {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      const k = { ...(await exportJWK(privateKey)), alg };
      const proof = await createDpopProof(k, { htm: 'POST', htu: url });
      expect((await verifyDpopProof(proof, { htm: 'POST', htu: url })).jkt, alg).toBe(await calculateJwkThumbprint(pub(k)));
    }
  });

  it('are made with the algorithm of the key when the key names none (ES256 for EC, EdDSA for OKP)', async () => {
    for (const [kind, alg] of [['ES256', 'ES256'], ['Ed25519', 'EdDSA']] as const) {
      const { privateKey } = await generateKeyPair(kind, { extractable: true });
      const proof = await createDpopProof(await exportJWK(privateKey), { htm: 'GET', htu: url });
      expect(JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()).alg, kind).toBe(alg);
      await expect(verifyDpopProof(proof, { htm: 'GET', htu: url })).resolves.toMatchObject({ jti: expect.any(String) });
    }
  });

  it('are refused when not a JWT, or without the claims a proof must carry', async () => {
    await expect(verifyDpopProof('not.a.proof', { htm: 'GET', htu: url })).rejects.toThrow(/the DPoP proof is not a JWT/);
    const k = await key();
    const noJti = await new SignJWT({ htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: pub(k) }).sign(await importJWK(k, 'ES256'));
    await expect(verifyDpopProof(noJti, { htm: 'GET', htu: url })).rejects.toThrow(/lacks jti, htm, htu or iat/);
  });

  it('are refused when signed with an algorithm other than ES256 or EdDSA, saying so', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const claims = { jti: 'abcdefgh2', htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) };
    const rsa = await new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'RS256', jwk: await exportJWK(publicKey) }).sign(privateKey);
    await expect(verifyDpopProof(rsa, { htm: 'GET', htu: url })).rejects.toThrow(/must be signed with ES256 or EdDSA/);
  });

  it('are refused without a public key in the header, or with a symmetric one', async () => {
    const k = await key();
    const signer = await importJWK(k, 'ES256');
    const claims = { jti: 'abcdefgh3', htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) };
    for (const jwk of [undefined, 'a key', { kty: 'oct', k: 'c2VjcmV0' }]) {
      const proof = await new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', ...(jwk === undefined ? {} : { jwk: jwk as JWK }) }).sign(signer);
      await expect(verifyDpopProof(proof, { htm: 'GET', htu: url }), JSON.stringify(jwk)).rejects.toThrow(typeof jwk === 'object' ? /private key/ : /no public key/);
    }
  });

  it(`are fresh up to ${DPOP_MAX_SKEW_S} s either side of the verifier's clock, and not a second more`, async () => {
    const k = await key();
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (const [skew, fresh] of [[-DPOP_MAX_SKEW_S, true], [DPOP_MAX_SKEW_S, true], [-DPOP_MAX_SKEW_S - 1, false], [DPOP_MAX_SKEW_S + 1, false]] as const) {
      const proof = await createDpopProof(k, { htm: 'GET', htu: url, now: now + skew * 1000 });
      const checked = verifyDpopProof(proof, { htm: 'GET', htu: url, now });
      if (fresh) await expect(checked, `${skew} s`).resolves.toMatchObject({ iat: now / 1000 + skew });
      else await expect(checked, `${skew} s`).rejects.toThrow(/not fresh/);
    }
  });
});

describe('transfer capabilities', () => {
  const transferId = '0190e0a0-0000-7000-8000-000000000001';
  const issuer = 'https://a.example.coop';

  it('hold for their transfer, manifest and key, and only as the issuer signed them', async () => {
    const k = await key();
    const { token } = await issueCapability(k, { issuer, transferId, manifestSha256: 'a'.repeat(64), jkt: 'x'.repeat(43) });
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'transfer-capability+jwt', alg: 'ES256', kid: 'k1' });
    const c = await checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId });
    expect(c).toMatchObject({ sub: transferId, manifest_sha256: 'a'.repeat(64), cnf: { jkt: 'x'.repeat(43) } });
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId: '0190e0a0-0000-7000-8000-000000000002' })).rejects.toThrow(/another transfer/);
    await expect(checkCapability(token, { issuer: 'https://b.example.coop', keys: { keys: [pub(k)] }, transferId })).rejects.toThrow(/not valid/);
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(await key('k2'))] }, transferId })).rejects.toThrow(/not issued by this instance/);
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId, now: Date.now() + 400_000 })).rejects.toThrow(/expired/);
    await expect(checkCapability('not a token', { issuer, keys: { keys: [pub(k)] }, transferId })).rejects.toThrow(/the capability is not a JWT/);
    await expect(checkCapability(token, { issuer: 'https://b.example.coop', keys: { keys: [pub(k)] }, transferId })).rejects.toThrow(/not valid \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  });

  it('are only what the issuer signed as a capability: its other tokens, or malformed claims, are refused', async () => {
    const k = await key();
    const signer = await importJWK(k, 'ES256');
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, aud: issuer, sub: transferId, manifest_sha256: 'a'.repeat(64), cnf: { jkt: 'x'.repeat(43) }, iat, exp: iat + 60, jti: 'j1' };
    const signed = (c: object, typ = CAPABILITY_TYP) => new SignJWT({ ...c }).setProtectedHeader({ typ, alg: 'ES256', kid: 'k1' }).sign(signer);
    const check = (token: string) => checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId });
    await expect(check(await signed(claims))).resolves.toMatchObject({ sub: transferId });
    // The same claims under another type (a statement, a message, a plain JWT) are no capability.
    for (const typ of ['JWT', 'entity-statement+jwt', 'transfer-offer+jwt']) await expect(check(await signed(claims, typ)), typ).rejects.toThrow(/not valid \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
    for (const manifest of ['a'.repeat(63), 'a'.repeat(65), `x${'a'.repeat(64)}`, `${'a'.repeat(64)}x`, 'A'.repeat(64)])
      await expect(check(await signed({ ...claims, manifest_sha256: manifest })), manifest).rejects.toThrow(/the capability is malformed/);
  });
});
