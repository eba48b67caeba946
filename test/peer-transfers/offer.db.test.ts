// Offering a tenancy to a co-op on another meetplane instance, as the two co-ops' admins live it.
// Three instances on loopback, each with its own database: A hosts a UK co-op; B a Québec co-op
// (subject to PIPEDA, a cluster in Canada, on a BBB double); C a US co-op not listed under the DPF.
// A pins B and C, B and C pin A. The data-protection rules run at A on what B and C state in their
// federation metadata: the move to C is refused before anything is sent; the move to B is offered,
// and B's co-op admin accepts it (or refuses it) with a signed answer A records. Messages from
// outside the trust, replayed, re-addressed, changed or answering other terms are refused, audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { generateKeyPair, exportJWK, decodeJwt } from 'jose';
import { startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import type { TestServer } from '../support/server.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { pollClusters } from '../../server/clusters/health.js';
import { federationSigningKey } from '../../server/federation/keys.js';
import { signTyped } from '../../federation/entity-statement.js';
import { armFailpoint } from '../../server/failpoints.js';
import { ANSWER_TYP, OFFER_TYP, signMessage, type OfferClaims } from '../../federation/transfer-messages.js';

type Entity = { entityId: string; thumbprint: string };
let a: TestServer, b: TestServer, c: TestServer;
let A: Entity, B: Entity, C: Entity;
let bbb: BbbPair;
let uk: { id: string; slug: string };
let quebec: { id: string; slug: string };
let montreal: { id: string; slug: string };
let prairie: { id: string; slug: string };
let bAdmin: { token: string; accountId: string };
const agreement = createHash('sha256').update('processing agreement, signed').digest('hex');

const self = async (s: TestServer) => (await s.api('GET', '/api/v1/federation')).json.self as Entity;
const box = (s: TestServer) => new SecretBox(decodeMasterKey(s.masterKey));
const pin = async (s: TestServer, e: Entity) => expect((await s.api('POST', '/api/v1/federation/peers', { body: { ...e, witness: false } })).status).toBe(201);
const postMessage = (s: TestServer, jwt: string) => s.api('POST', '/federation/transfers', { token: null, body: jwt, headers: { 'content-type': 'application/jwt' } });
const actions = async (s: TestServer) => (await s.api('GET', '/api/v1/audit/entries?limit=1000')).json.items.map((e: { json: { action: string } }) => e.json.action) as string[];
const offerTo = (peer: Entity, coop: string, cluster: string, tenancy: string) =>
  a.api('POST', '/api/v1/peer-transfers', { body: { tenancy, peer: peer.entityId, targetCoop: coop, targetCluster: cluster, processingAgreement: agreement } });

beforeAll(async () => {
  [a, b, c] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' }), await startSsoServer({ WORKER: 'off' })];
  [A, B, C] = [await self(a), await self(b), await self(c)];
  bbb = await startBbbPair({ source: 'src-secret-18', target: 'dst-secret-18' });
  uk = await createCoop(a, { name: 'Harbour Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });
  const ukCluster = await createCluster(a, uk.id, { country: 'GB', apiUrl: bbb.source.url, secret: 'src-secret-18' });
  (globalThis as Record<string, unknown>).ukCluster = ukCluster;
  quebec = await createCoop(b, { name: 'Coop Érable', jurisdiction: 'CA', legalRegime: 'other', pipedaSubject: true });
  montreal = await createCluster(b, quebec.id, { name: 'Montreal', country: 'CA', apiUrl: bbb.target.url, secret: 'dst-secret-18' });
  await pollClusters(b.database.db, box(b), { outbound: b.outbound });
  prairie = await createCoop(c, { name: 'Prairie Co-op', jurisdiction: 'US', legalRegime: 'other' });
  await createCluster(c, prairie.id, { name: 'Omaha', country: 'US' });
  bAdmin = await coopAdminWithToken(b, quebec.id);
  await pin(a, B);
  await pin(a, C);
  await pin(b, A);
  await pin(c, A);
}, 120_000);

afterAll(async () => {
  armFailpoint(null);
  await bbb?.close();
  for (const s of [c, b, a]) await s?.stop();
});

async function ukTenancy(name: string) {
  const cluster = (globalThis as Record<string, unknown>).ukCluster as { id: string };
  return createTenancy(a, uk.id, cluster.id, { name, retentionDays: 3650 });
}

describe('the source decides on what the target states', () => {
  it('refuses a move to a US co-op not listed under the DPF, naming the rule, and sends it nothing', async () => {
    const t = await ukTenancy('Prairie-bound school');
    const res = await offerTo(C, prairie.slug, 'omaha', t.id);
    expect(res.status, res.text).toBe(201);
    expect(res.json.state).toBe('rejected');
    expect(res.json.decision.policyIds).toContain('dp-destination-dpf-not-listed');
    expect(res.json.delivery.attempts).toBe(0);
    expect((await c.api('GET', '/api/v1/peer-transfers')).json.items).toEqual([]);
    expect(await actions(c)).not.toContain('peer-transfer.offer-received');
    expect(await actions(a)).toContain('peer-transfer.reject');
  });

  it('offers the same move once the US co-op states it is DPF-listed (the stated fact is what decided)', async () => {
    const etag = (await c.api('GET', `/api/v1/coops/${prairie.id}`)).headers.get('etag')!;
    expect((await c.api('PATCH', `/api/v1/coops/${prairie.id}`, { body: { dpfListed: true }, headers: { 'if-match': etag } })).status).toBe(200);
    const t = await ukTenancy('Second prairie school');
    const res = await offerTo(C, prairie.slug, 'omaha', t.id);
    expect(res.status, res.text).toBe(201);
    expect(res.json.state, JSON.stringify(res.json)).toBe('offered');
    const atC = (await c.api('GET', '/api/v1/peer-transfers')).json.items;
    expect(atC.map((x: { id: string }) => x.id)).toEqual([res.json.id]);
  });

  it('refuses an instance it does not trust, and a co-op or cluster the target does not state', async () => {
    const t = await ukTenancy('Nowhere school');
    const stranger = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: 'http://127.0.0.1:9', targetCoop: 'x', targetCluster: 'y', processingAgreement: agreement } });
    expect(stranger.status).toBe(403);
    expect(stranger.json.type).toMatch(/peer-not-trusted$/);
    const coop = await offerTo(B, 'no-such-coop', 'montreal', t.id);
    expect(coop.status).toBe(400);
    expect(coop.json.detail).toContain('hosts no co-op "no-such-coop"');
    const cluster = await offerTo(B, quebec.slug, 'toronto', t.id);
    expect(cluster.status).toBe(400);
    expect(cluster.json.detail).toContain('has no cluster "toronto"');
  });
});

describe('UK to Québec: offer, then the target co-op admin answers', () => {
  it("is offered to B, which shows it to its co-op's admin with the tenancy's size and no personal data", async () => {
    const t = await ukTenancy('Harbour School');
    const res = await offerTo(B, quebec.slug, montreal.slug, t.id);
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ side: 'source', state: 'offered', peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug });
    expect(res.json.decision.decision).toBe('allow');
    const atB = await b.api('GET', `/api/v1/peer-transfers/${res.json.id}`, { token: bAdmin.token });
    expect(atB.status, atB.text).toBe(200);
    expect(atB.json).toMatchObject({ side: 'target', state: 'offered', peer: A.entityId, tenancy: null });
    expect(atB.json.summary).toMatchObject({ name: 'Harbour School', slug: t.slug, members: 0, retention_days: 3650, residency: { kind: 'none' } });
    // Who offers it and on what basis, as the signed offer says.
    expect(atB.json.offer).toEqual({ sourceCoop: { name: 'Harbour Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' }, basis: 'adequacy', processingAgreement: agreement, sccsDocuments: [], impactAssessment: null, noticeDays: 0 });
    expect(await actions(b)).toContain('peer-transfer.offer-received');
    expect(await actions(a)).toEqual(expect.arrayContaining(['peer-transfer.offer', 'peer-transfer.offered']));
  });

  it("is answered only by an admin of the target co-op who approves transfers; the acceptance reaches A", async () => {
    const t = await ukTenancy('Harbour Primary');
    const offered = (await offerTo(B, quebec.slug, montreal.slug, t.id)).json;
    // A co-op admin whose grant does not approve transfers, and B's platform admin (no standing as target): refused by the role's rule.
    const noApproval = await coopAdminWithToken(b, quebec.id, { transferApproval: false });
    const refusedAnswer = await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { token: noApproval.token, body: { decision: 'accepted' } });
    expect(refusedAnswer.status).toBe(403);
    expect(refusedAnswer.json.policyIds).toContain('transfer-approve-as-target');
    const byPlatform = await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { body: { decision: 'accepted' } });
    expect(byPlatform.status).toBe(403);
    // A's admin of the source cannot see B's side at all (another instance); B's admin accepts.
    const accepted = await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.json).toMatchObject({ state: 'accepted', targetCluster: montreal.slug, delivery: { nextAttemptAt: null, lastError: null } });
    const atA = (await a.api('GET', `/api/v1/peer-transfers/${offered.id}`)).json;
    expect(atA.state).toBe('accepted');
    expect(atA.answer).toMatchObject({ decision: 'accepted', cluster: montreal.slug, approver: `${B.entityId}#${bAdmin.accountId}` });
    expect(await actions(a)).toContain('peer-transfer.accepted');
    // Answering twice is refused at B.
    const again = await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { token: bAdmin.token, body: { decision: 'refused', reason: 'changed our mind' } });
    expect(again.status).toBe(409);
  });

  it('is withdrawn by the source: the target is told and can no longer answer it', async () => {
    const t = await ukTenancy('Harbour Summer School');
    const offered = (await offerTo(B, quebec.slug, montreal.slug, t.id)).json;
    const withdrawn = await a.api('POST', `/api/v1/peer-transfers/${offered.id}/cancel`, { body: { reason: 'the members chose to stay' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.json.state).toBe('cancelled');
    expect((await b.api('GET', `/api/v1/peer-transfers/${offered.id}`, { token: bAdmin.token })).json.state).toBe('cancelled');
    expect((await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } })).status).toBe(409);
    // The target does not withdraw; it refuses.
    expect((await b.api('POST', `/api/v1/peer-transfers/${offered.id}/cancel`, { body: { reason: 'x' } })).status).toBe(409);
  });

  it("carries a refusal back to A with the rule id and the target's reason", async () => {
    const t = await ukTenancy('Harbour College');
    const offered = (await offerTo(B, quebec.slug, montreal.slug, t.id)).json;
    const refused = await b.api('POST', `/api/v1/peer-transfers/${offered.id}/answer`, { token: bAdmin.token, body: { decision: 'refused', reason: 'no room before spring' } });
    expect(refused.status, refused.text).toBe(200);
    const atA = (await a.api('GET', `/api/v1/peer-transfers/${offered.id}`)).json;
    expect(atA).toMatchObject({ state: 'refused', answer: { decision: 'refused', policyIds: ['peer-refused-by-target'], reasons: ['no room before spring'] } });
  });
});

describe('one transfer of a tenancy at a time', () => {
  it('refuses a second offer of a tenancy under offer, and a transfer to a local co-op meanwhile; and the reverse', async () => {
    const t = await ukTenancy('Harbour Choir');
    const first = await offerTo(B, quebec.slug, montreal.slug, t.id);
    expect(first.json.state).toBe('offered');
    const second = await offerTo(C, prairie.slug, 'omaha', t.id);
    expect(second.status).toBe(409);
    expect(second.json.type).toMatch(/transfer-in-progress$/);
    const local = await createCoop(a, { name: 'Local Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });
    const localCluster = await createCluster(a, local.id, { country: 'GB' });
    const toLocal = await a.api('POST', '/api/v1/transfers', { body: { tenancy: t.id, targetCoop: local.id, targetCluster: localCluster.id, noticeDays: 0 } });
    expect(toLocal.status, toLocal.text).toBe(409);
    expect(toLocal.json.detail).toMatch(/another instance/);
    // Withdrawn, the tenancy may move again; moving locally, it may not be offered.
    expect((await a.api('POST', `/api/v1/peer-transfers/${first.json.id}/cancel`, { body: { reason: 'moving locally instead' } })).status).toBe(200);
    expect((await a.api('POST', '/api/v1/transfers', { body: { tenancy: t.id, targetCoop: local.id, targetCluster: localCluster.id, noticeDays: 0 } })).status).toBe(201);
    expect((await offerTo(B, quebec.slug, montreal.slug, t.id)).status).toBe(409);
  });
});

describe('the target unreachable for a while', () => {
  it('keeps the offer, retries with growing waits, and delivers it once the target answers', async () => {
    const { deliverDueMessages } = await import('../../server/peer-transfers/due.js');
    const { transferDeps } = await import('../../server/transfers/deps.js');
    const { TrustChainResolver } = await import('../../federation/trust-chain.js');
    const at = (ms: number) => ({ db: a.database.db, box: box(a), publicUrl: a.url, outbound: a.outbound, resolver: new TrustChainResolver(a.outbound), transfer: { ...transferDeps(a.database.db, { transferMinNoticeDays: 0 }), now: () => new Date(Date.now() + ms) } });
    const t = await ukTenancy('Harbour Night School');
    armFailpoint('throw:peer-transfers.deliver');
    const first = await offerTo(B, quebec.slug, montreal.slug, t.id);
    expect(first.json).toMatchObject({ state: 'offering', delivery: { attempts: 1 } });
    expect(first.json.delivery.lastError).toMatch(/could not be reached/);
    const wait1 = new Date(first.json.delivery.nextAttemptAt).getTime() - Date.now();
    expect(wait1).toBeGreaterThan(3_000);
    // Not yet due: nothing is sent. Due, and failing again: the wait doubles.
    await deliverDueMessages(at(1_000));
    expect((await a.api('GET', `/api/v1/peer-transfers/${first.json.id}`)).json.delivery.attempts).toBe(1);
    armFailpoint('throw:peer-transfers.deliver');
    await deliverDueMessages(at(6_000));
    const second = (await a.api('GET', `/api/v1/peer-transfers/${first.json.id}`)).json;
    expect(second).toMatchObject({ state: 'offering', delivery: { attempts: 2 } });
    expect(new Date(second.delivery.nextAttemptAt).getTime() - Date.now()).toBeGreaterThan(wait1 + 3_000);
    expect((await b.api('GET', `/api/v1/peer-transfers/${first.json.id}`)).status).toBe(404);
    armFailpoint(null);
    await deliverDueMessages(at(30_000));
    expect((await a.api('GET', `/api/v1/peer-transfers/${first.json.id}`)).json).toMatchObject({ state: 'offered', delivery: { attempts: 3, nextAttemptAt: null } });
    expect((await b.api('GET', `/api/v1/peer-transfers/${first.json.id}`)).json.state).toBe('offered');
  });
});

describe('an offer outlasting its signed copy', () => {
  it('is signed afresh with the same terms when the target answers again after the copy expired', async () => {
    const { deliverDueMessages } = await import('../../server/peer-transfers/due.js');
    const { transferDeps } = await import('../../server/transfers/deps.js');
    const { TrustChainResolver } = await import('../../federation/trust-chain.js');
    const { peerTransfers } = await import('../../server/peer-transfers/table.js');
    const { eq } = await import('drizzle-orm');
    const t = await ukTenancy('Harbour Winter School');
    armFailpoint('throw:peer-transfers.deliver');
    const offered = (await offerTo(B, quebec.slug, montreal.slug, t.id)).json;
    armFailpoint(null);
    expect(offered.state).toBe('offering');
    // The copy kept for retries was signed 20 minutes ago (the target was away longer than a message lives).
    const [row] = await a.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, offered.id));
    const { iat: _i, exp: _e, jti: _j, ...claims } = decodeJwt(row!.offerJwt!) as unknown as OfferClaims;
    const old = await signMessage(OFFER_TYP, claims, await federationSigningKey(a.database.db, box(a)), Date.now() - 20 * 60_000);
    await a.database.db.update(peerTransfers).set({ offerJwt: old }).where(eq(peerTransfers.id, offered.id));
    const deps = { db: a.database.db, box: box(a), publicUrl: a.url, outbound: a.outbound, resolver: new TrustChainResolver(a.outbound), transfer: { ...transferDeps(a.database.db, { transferMinNoticeDays: 0 }), now: () => new Date(Date.now() + 60_000) } };
    await deliverDueMessages(deps);
    const atA = (await a.api('GET', `/api/v1/peer-transfers/${offered.id}`)).json;
    expect(atA.state, JSON.stringify(atA.delivery)).toBe('offered');
    const [atB] = await b.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, offered.id));
    expect(atB!.offerSha256).toBe(row!.offerSha256);
  });
});

describe('messages that are refused, and audited', () => {
  let offer: { id: string; jwt: string; claims: OfferClaims };

  beforeAll(async () => {
    const t = await ukTenancy('Harbour Academy');
    const offered = (await offerTo(B, quebec.slug, montreal.slug, t.id)).json;
    const { peerTransfers } = await import('../../server/peer-transfers/table.js');
    const { eq } = await import('drizzle-orm');
    const [row] = await a.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, offered.id));
    offer = { id: offered.id, jwt: row!.offerJwt!, claims: decodeJwt(row!.offerJwt!) as unknown as OfferClaims };
  });

  it('takes the very same message again (a retry), but not another message under its id', async () => {
    const again = await postMessage(b, offer.jwt);
    expect(again.status, again.text).toBe(202);
    const key = await federationSigningKey(a.database.db, box(a));
    const changed = await signTyped({ ...offer.claims, tenancy: { ...offer.claims.tenancy, rooms: 999 } }, key, OFFER_TYP);
    const replay = await postMessage(b, changed);
    expect(replay.status).toBe(409);
    expect(replay.json.type).toMatch(/message-replayed$/);
  });

  it('refuses changed terms under the same transfer id, even freshly signed', async () => {
    const key = await federationSigningKey(a.database.db, box(a));
    const { iat: _i, exp: _e, jti: _j, ...terms } = offer.claims;
    const changed = await signMessage(OFFER_TYP, { ...terms, tenancy: { ...terms.tenancy, recordings: 1 } }, key);
    const res = await postMessage(b, changed);
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/offer-changed$/);
  });

  it('refuses an offer from an instance outside its trust, one addressed to another instance, and one signed by a key A does not publish', async () => {
    const { iat: _i, exp: _e, jti: _j, ...terms } = offer.claims;
    // C is trusted by A, but B neither pins C nor shares an anchor with it.
    const fromC = await signMessage(OFFER_TYP, { ...terms, iss: C.entityId, transfer_id: randomUUID() }, await federationSigningKey(c.database.db, box(c)));
    const outside = await postMessage(b, fromC);
    expect(outside.status).toBe(403);
    expect(outside.json.type).toMatch(/peer-not-trusted$/);
    const toC = await signMessage(OFFER_TYP, { ...terms, aud: C.entityId, transfer_id: randomUUID() }, await federationSigningKey(a.database.db, box(a)));
    const misaddressed = await postMessage(b, toC);
    expect(misaddressed.status).toBe(401);
    expect(misaddressed.json.detail).toMatch(/aud/);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const forged = await signMessage(OFFER_TYP, { ...terms, transfer_id: randomUUID() }, { ...(await exportJWK(privateKey)), kid: 'forged', alg: 'ES256' });
    const forgedAnswer = await postMessage(b, forged);
    expect(forgedAnswer.status).toBe(401);
    const refusals = (await b.api('GET', '/api/v1/audit/entries?action=peer-transfer.message-refused&limit=1000')).json.items as Array<{ json: { details: { issuer: string; status: number } } }>;
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    expect(refusals.map((e) => e.json.details.issuer)).toContain(C.entityId);
  });

  it('refuses an answer that answers other terms than A offered', async () => {
    const key = await federationSigningKey(b.database.db, box(b));
    const answer = await signMessage(
      ANSWER_TYP,
      { iss: B.entityId, aud: A.entityId, transfer_id: offer.id, offer_sha256: '0'.repeat(64), decision: 'accepted', cluster: montreal.slug, cluster_country: 'CA', policy_ids: [], reasons: [], approver: `${B.entityId}#x` },
      key,
    );
    const res = await postMessage(a, answer);
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/answer-for-other-terms$/);
    expect((await a.api('GET', `/api/v1/peer-transfers/${offer.id}`)).json.state).toBe('offered');
  });

  it('refuses what is not a signed message, with a problem document', async () => {
    expect((await postMessage(b, 'not a jwt')).status).toBe(401);
    const wrongType = await b.api('POST', '/federation/transfers', { token: null, body: offer.jwt, headers: { 'content-type': 'application/json' } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});
