// DPoP proofs (RFC 9449) and the transfer capabilities bound to them, as a verifier checks them.
import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, importJWK, type JWK } from 'jose';
import { accessTokenHash, createDpopProof, htuOf, verifyDpopProof } from '../../federation/dpop.js';
import { checkCapability, issueCapability } from '../../federation/transfer-capability.js';

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
    await expect(verifyDpopProof(swapped, { htm: 'GET', htu: url })).rejects.toThrow(/signature/);
    expect(accessTokenHash('tok')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('transfer capabilities', () => {
  const transferId = '0190e0a0-0000-7000-8000-000000000001';
  const issuer = 'https://a.example.coop';

  it('hold for their transfer, manifest and key, and only as the issuer signed them', async () => {
    const k = await key();
    const { token } = await issueCapability(k, { issuer, transferId, manifestSha256: 'a'.repeat(64), jkt: 'x'.repeat(43) });
    const c = await checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId });
    expect(c).toMatchObject({ sub: transferId, manifest_sha256: 'a'.repeat(64), cnf: { jkt: 'x'.repeat(43) } });
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId: '0190e0a0-0000-7000-8000-000000000002' })).rejects.toThrow(/another transfer/);
    await expect(checkCapability(token, { issuer: 'https://b.example.coop', keys: { keys: [pub(k)] }, transferId })).rejects.toThrow(/not valid/);
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(await key('k2'))] }, transferId })).rejects.toThrow(/not issued by this instance/);
    await expect(checkCapability(token, { issuer, keys: { keys: [pub(k)] }, transferId, now: Date.now() + 400_000 })).rejects.toThrow(/expired/);
  });
});
