// The resolver and trust marks over real HTTP on loopback: a trust anchor naming the issuers it
// accepts and answering for its marks' status, a second issuer with a chain to the anchor, one
// without, and a leaf publishing marks from each. Marks are checked with the chain (§7.3) and their
// status asked at the issuer (§8.4); what fails is dropped with the reason, never the chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound } from '../../server/net/outbound.js';
import { publicJwks } from '../../federation/entity-statement.js';
import { TrustChainResolver, type TrustAnchor } from '../../federation/trust-chain.js';
import { peekTrustMark, signTrustMark } from '../../federation/trust-mark.js';
import { LoopbackEntity as Entity } from '../support/federation-entity.js';

const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
let anchor: Entity, issuer: Entity, stranger: Entity, leaf: Entity;
let trustAnchor: TrustAnchor;
const EEA = 'https://anchor.example.coop/trust-marks/hosts-in-eea';
const AUDITED = 'https://anchor.example.coop/trust-marks/audited';

beforeAll(async () => {
  [anchor, issuer, stranger, leaf] = await Promise.all([new Entity().start('ta'), new Entity().start('tmi'), new Entity().start('x'), new Entity().start('leaf')]);
  trustAnchor = { entityId: anchor.id, jwks: publicJwks([anchor.key]) };
  for (const e of [issuer, leaf]) {
    e.hints = [anchor.id];
    anchor.enrol(e);
  }
  stranger.hints = [anchor.id]; // claims the anchor, which never enrolled it
  anchor.extra = { trust_mark_issuers: { [EEA]: [anchor.id], [AUDITED]: [issuer.id, stranger.id] } };
  leaf.extra = {
    trust_marks: [
      { trust_mark_type: EEA, trust_mark: await signTrustMark({ iss: anchor.id, sub: leaf.id, trust_mark_type: EEA }, anchor.key) },
      { trust_mark_type: AUDITED, trust_mark: await signTrustMark({ iss: issuer.id, sub: leaf.id, trust_mark_type: AUDITED }, issuer.key) },
      { trust_mark_type: AUDITED, trust_mark: await signTrustMark({ iss: stranger.id, sub: leaf.id, trust_mark_type: AUDITED }, stranger.key) },
      // The anchor's name on a stranger's signature.
      { trust_mark_type: EEA, trust_mark: await signTrustMark({ iss: anchor.id, sub: leaf.id, trust_mark_type: EEA }, { ...stranger.key, kid: anchor.key.kid }) },
    ],
  };
});
afterAll(() => Promise.all([anchor, issuer, stranger, leaf].map((e) => e.close())));

const issuers = (r: { valid: Array<{ iss: string }> }) => r.valid.map((m) => m.iss);

describe('trust marks of a resolved chain', () => {
  it('keeps the marks of issuers the anchor accepts whose keys a chain gives, drops the others with the reason', async () => {
    const chain = await new TrustChainResolver(outbound).resolve(leaf.id, trustAnchor);
    expect(issuers(chain.trustMarks)).toEqual([anchor.id, issuer.id]);
    expect(chain.trustMarks.dropped).toEqual([
      // The stranger names the anchor as its authority, but the anchor never enrolled it.
      { trust_mark_type: AUDITED, iss: stranger.id, reason: `its issuer ${stranger.id} is not trusted: ${anchor.id}/federation/fetch answered 404` },
      { trust_mark_type: EEA, iss: anchor.id, reason: 'signature or claims invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' },
    ]);
    // The second issuer's key came from its own configuration, vouched for by the anchor.
    expect(peekTrustMark(chain.trustMarks.valid[1]!.jwt).iss).toBe(issuer.id);
  });

  it("asks each issuer's status endpoint, dropping a revoked mark and one whose status cannot be learnt", async () => {
    const resolver = new TrustChainResolver(outbound);
    const chain = await resolver.resolve(leaf.id, trustAnchor);
    expect(issuers(await resolver.checkTrustMarks(chain))).toEqual([anchor.id, issuer.id]);
    anchor.status = 'revoked';
    issuer.status = 500;
    const checked = await resolver.checkTrustMarks(chain);
    expect(checked.valid).toEqual([]);
    expect(checked.dropped.slice(2).map((d) => [d.iss, d.reason])).toEqual([
      [anchor.id, "its issuer's status endpoint says revoked"],
      [issuer.id, `its status could not be checked: ${issuer.id}/federation/trust_mark_status answered 500`],
    ]);
    anchor.status = 'active';
    issuer.status = 'active';
  });

  it('reuses a status answer for the age asked, and asks again without one', async () => {
    const resolver = new TrustChainResolver(outbound);
    const chain = await resolver.resolve(leaf.id, trustAnchor);
    const before = anchor.asked;
    await resolver.checkTrustMarks(chain, { statusMaxAgeMs: 30_000 });
    anchor.status = 'revoked';
    expect(issuers(await resolver.checkTrustMarks(chain, { statusMaxAgeMs: 30_000 }))).toEqual([anchor.id, issuer.id]);
    expect(anchor.asked).toBe(before + 1);
    expect(issuers(await resolver.checkTrustMarks(chain))).toEqual([issuer.id]);
    expect(anchor.asked).toBe(before + 2);
    anchor.status = 'active';
  });
});
