// Trust marks (OpenID Federation 1.0 §7, text of draft 48): their JWT shape, the validation of
// §7.3 against the anchor's trust_mark_issuers and the issuer's keys, and the status response of
// §8.4. Each refusal is shown next to the same mark accepted without its one defect.
import { describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { publicJwks, signStatement } from '../../federation/entity-statement.js';
import {
  peekTrustMark,
  signStatusResponse,
  signTrustMark,
  trustMarkClaimsSchema,
  trustMarkEntrySchema,
  unexpired,
  verifyStatusResponse,
  verifyTrustMarks,
  type VerifyContext,
} from '../../federation/trust-mark.js';

const ANCHOR = 'https://anchor.example.coop';
const LEAF = 'https://meet.example.coop';
const OTHER = 'https://other.example.coop';
const EEA = 'https://anchor.example.coop/trust-marks/hosts-in-eea';
const NOW = Date.UTC(2026, 11, 1);

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
}

const anchorKey = await newKey('anchor-1');
const strangerKey = await newKey('stranger-1');
const sameKidStranger = await newKey('anchor-1');
const STATUS = `${ANCHOR}/federation/trust_mark_status`;

function context(over: Partial<VerifyContext> = {}): VerifyContext {
  return {
    subject: LEAF,
    trustMarkIssuers: { [EEA]: [ANCHOR] },
    issuer: async (iss) => {
      if (iss === ANCHOR) return { jwks: publicJwks([anchorKey]), statusEndpoint: STATUS };
      throw new Error(`${iss} has no chain to the anchor`);
    },
    now: NOW,
    ...over,
  };
}

const mark = (over: Partial<Parameters<typeof signTrustMark>[0]> = {}, key = anchorKey, now = NOW - 60_000) =>
  signTrustMark({ iss: ANCHOR, sub: LEAF, trust_mark_type: EEA, exp: Math.floor(NOW / 1000) + 3600, ...over }, key, now);
const entry = async (jwt: string | Promise<string>, type = EEA) => ({ trust_mark_type: type, trust_mark: await jwt });

async function verdict(entries: unknown[], ctx = context()) {
  const r = await verifyTrustMarks(entries, ctx);
  return { valid: r.valid.map((m) => m.trust_mark_type), dropped: r.dropped.map((d) => d.reason) };
}

describe('the trust mark JWT', () => {
  it('reads the example of the specification: the trust_marks claim of an entity configuration and its mark', () => {
    // §7.4, "Trust Mark in an Entity Configuration JWT Claims Set" (line wraps removed).
    const example = {
      trust_mark_type: 'https://www.spid.gov.it/certification/rp',
      trust_mark:
        'eyJ0eXAiOiJ0cnVzdC1tYXJrK2p3dCIsImFsZyI6IlJTMjU2Iiwia2lkIjoia29zR20yd3VaaDlER21OeEF0a3VPNDBwUGpwTDMtakNmMU4tcVBPLVllVSJ9.eyJpc3MiOiJodHRwczovL3d3dy5hZ2lkLmdvdi5pdCIsInN1YiI6Imh0dHBzOi8vcnAuZXhhbXBsZS5pdC9zcGlkIiwiaWF0IjoxNTc5NjIxMTYwLCJ0cnVzdF9tYXJrX3R5cGUiOiJodHRwczovL3d3dy5zcGlkLmdvdi5pdC9jZXJ0aWZpY2F0aW9uL3JwIiwibG9nb191cmkiOiJodHRwczovL3d3dy5hZ2lkLmdvdi5pdC90aGVtZXMvY3VzdG9tL2FnaWQvbG9nby5zdmciLCJyZWYiOiJodHRwczovL2RvY3MuaXRhbGlhLml0L2RvY3Mvc3BpZC1jaWUtb2lkYy1kb2NzL2l0L3ZlcnNpb25lLWNvcnJlbnRlLyJ9.L_pSh1InEiFAcs3E-1HBM7fNZYwF5ru3UGA_8yc80dGS3sszfA_sbj4AoW_zAJWQBdZpjxnHBBmybYXFrfZBcqxcedsrvUYrmbt1nPYxbUE54fRRoZK-sJmVqh1GzSan5nOmkxuAtMinU8k_-aWnPWj83sYe2AzT2mMgkXiz8zhda3jZm8hoxZ4jR6B0YAvbMlq2pPWO5OWKdZhiFRMSprwh0GYluQkK0j1aLNMGXD3keMJd2zEoWX9D7w2fXShAA48W3cNhuXyBVnCoum1K4IWK3s_fx4nIkp6W-V4jCBOpxp7Yo8LZ30o_xpEOzGTIECGWVR86azOAlwVC8XSiAA',
    };
    expect(trustMarkEntrySchema.parse(example)).toEqual(example);
    expect(decodeProtectedHeader(example.trust_mark)).toEqual({ typ: 'trust-mark+jwt', alg: 'RS256', kid: 'kosGm2wuZh9DGmNxAtkuO40pPjpL3-jCf1N-qPO-YeU' });
    expect(trustMarkClaimsSchema.parse(decodeJwt(example.trust_mark))).toEqual({
      iss: 'https://www.agid.gov.it',
      sub: 'https://rp.example.it/spid',
      iat: 1579621160,
      trust_mark_type: example.trust_mark_type,
      logo_uri: 'https://www.agid.gov.it/themes/custom/agid/logo.svg',
      ref: 'https://docs.italia.it/docs/spid-cie-oidc-docs/it/versione-corrente/',
    });
    // Federation keys here are ES256 or Ed25519: an RS256 mark is refused before any key is looked up.
    expect(() => peekTrustMark(example.trust_mark)).toThrow('alg RS256 is not accepted');
  });

  it('signs a mark typed trust-mark+jwt, naming its key, with the claims of §7.1', async () => {
    const jwt = await signTrustMark({ iss: ANCHOR, sub: LEAF, trust_mark_type: EEA, jti: '0b7a4c43-7a4f-4bb4-9d3c-7ab1a3e8d1f0' }, anchorKey, NOW);
    expect(decodeProtectedHeader(jwt)).toEqual({ typ: 'trust-mark+jwt', alg: 'ES256', kid: 'anchor-1' });
    // No exp: the mark does not expire (its status endpoint still answers for it).
    expect(decodeJwt(jwt)).toEqual({ iss: ANCHOR, sub: LEAF, trust_mark_type: EEA, iat: NOW / 1000, jti: '0b7a4c43-7a4f-4bb4-9d3c-7ab1a3e8d1f0' });
  });
});

describe('validating the marks of an entity configuration (§7.3)', () => {
  it('keeps a mark of an issuer the anchor accepts for its type, with where to ask for its status', async () => {
    const r = await verifyTrustMarks([await entry(mark({ ref: 'https://anchor.example.coop/eea' }))], context());
    expect(r.dropped).toEqual([]);
    expect(r.valid).toMatchObject([{ trust_mark_type: EEA, iss: ANCHOR, sub: LEAF, ref: 'https://anchor.example.coop/eea', statusEndpoint: STATUS }]);
  });

  it('drops an expired mark', async () => {
    expect(await verdict([await entry(mark({ exp: Math.floor(NOW / 1000) - 1 }))])).toEqual({ valid: [], dropped: ['expired'] });
    expect(await verdict([await entry(mark({ exp: Math.floor(NOW / 1000) + 1 }))])).toEqual({ valid: [EEA], dropped: [] });
  });

  it('drops a mark issued to another entity', async () => {
    expect((await verdict([await entry(mark({ sub: OTHER }))])).dropped).toEqual([`issued to ${OTHER}, not to ${LEAF}`]);
  });

  it('drops a mark whose issuer the anchor does not list for that type, or a type it lists no issuer for', async () => {
    const fromOther = await entry(mark({ iss: OTHER }));
    expect((await verdict([fromOther])).dropped).toEqual([`${OTHER} is not an issuer the trust anchor accepts for ${EEA}`]);
    const otherType = 'https://anchor.example.coop/trust-marks/audited';
    expect((await verdict([await entry(mark({ trust_mark_type: otherType }), otherType)])).dropped).toEqual([`the trust anchor accepts no issuer of ${otherType}`]);
    // The same mark from OTHER counts once the anchor lists OTHER and OTHER's chain gives its key.
    const otherKey = await newKey('other-1');
    const ctx = context({ trustMarkIssuers: { [EEA]: [ANCHOR, OTHER] }, issuer: async () => ({ jwks: publicJwks([otherKey]) }) });
    expect(await verdict([await entry(mark({ iss: OTHER }, otherKey))], ctx)).toEqual({ valid: [EEA], dropped: [] });
  });

  it('drops a mark signed by a key the issuer does not publish, even under its kid', async () => {
    expect((await verdict([await entry(mark({}, strangerKey))])).dropped).toEqual(['signed by key stranger-1, which its issuer does not publish']);
    expect((await verdict([await entry(mark({}, sameKidStranger))])).dropped).toEqual(['signature or claims invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)']);
  });

  it('drops a mark whose issuer cannot be trusted, published under another type, of another JWT type, or delegated', async () => {
    const ctx = context({ trustMarkIssuers: { [EEA]: [] } }); // anyone may issue: the issuer must still be trusted
    expect((await verdict([await entry(mark({ iss: OTHER }))], ctx)).dropped).toEqual([`its issuer ${OTHER} is not trusted: ${OTHER} has no chain to the anchor`]);
    expect((await verdict([await entry(mark(), 'https://anchor.example.coop/trust-marks/other')])).dropped).toEqual([
      `published as https://anchor.example.coop/trust-marks/other but its JWT says ${EEA}`,
    ]);
    const statement = await signStatement({ iss: ANCHOR, sub: LEAF, jwks: publicJwks([anchorKey]), trust_mark_type: EEA } as never, anchorKey, 3600, NOW);
    expect((await verdict([{ trust_mark_type: EEA, trust_mark: statement }])).dropped).toEqual(['typ must be trust-mark+jwt']);
    const owned = context({ trustMarkOwners: { [EEA]: { sub: 'https://owner.example', jwks: publicJwks([strangerKey]) } } });
    expect((await verdict([await entry(mark())], owned)).dropped).toEqual(['a delegated trust mark (trust_mark_owners), which this instance does not accept']);
    expect(await verdict(['not a mark', await entry(mark())])).toEqual({ valid: [EEA], dropped: ['an element of trust_marks is not {trust_mark_type, trust_mark}'] });
  });

  it('drops a kept mark once its exp passes', async () => {
    const r = await verifyTrustMarks([await entry(mark())], context());
    expect(unexpired(r, NOW + 3_599_000).valid).toHaveLength(1);
    expect(unexpired(r, NOW + 3_600_000)).toMatchObject({ valid: [], dropped: [{ trust_mark_type: EEA, iss: ANCHOR, reason: 'expired' }] });
  });
});

describe('the status response (§8.4)', () => {
  it('is signed by the issuer, about the very mark, and says its status', async () => {
    const jwt = await mark();
    const [m] = (await verifyTrustMarks([await entry(jwt)], context())).valid;
    const revoked = await signStatusResponse(ANCHOR, jwt, 'revoked', anchorKey, NOW);
    expect(decodeProtectedHeader(revoked)).toMatchObject({ typ: 'trust-mark-status-response+jwt', kid: 'anchor-1' });
    expect(decodeJwt(revoked)).toEqual({ iss: ANCHOR, iat: NOW / 1000, trust_mark: jwt, status: 'revoked' });
    expect(await verifyStatusResponse(revoked, m!, NOW)).toBe('revoked');
    expect(await verifyStatusResponse(await signStatusResponse(ANCHOR, jwt, 'active', anchorKey, NOW), m!, NOW)).toBe('active');
  });

  it('refuses an answer about another mark, from another issuer or signed by another key', async () => {
    const jwt = await mark();
    const [m] = (await verifyTrustMarks([await entry(jwt)], context())).valid;
    await expect(verifyStatusResponse(await signStatusResponse(ANCHOR, await mark({ exp: 1 }), 'active', anchorKey, NOW), m!, NOW)).rejects.toThrow('about another trust mark');
    await expect(verifyStatusResponse(await signStatusResponse(OTHER, jwt, 'active', anchorKey, NOW), m!, NOW)).rejects.toThrow(`comes from ${OTHER}`);
    await expect(verifyStatusResponse(await signStatusResponse(ANCHOR, jwt, 'active', sameKidStranger, NOW), m!, NOW)).rejects.toThrow('signature or claims invalid');
    await expect(verifyStatusResponse(jwt, m!, NOW)).rejects.toThrow('typ is not trust-mark-status-response+jwt');
  });
});
