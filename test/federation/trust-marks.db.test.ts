// Trust marks between three meetplane instances on loopback, each on its own database: a trust
// anchor (TA) grants "hosts in the EEA" to an enrolled co-op instance (A), A fetches the signed
// mark and publishes it, and a third instance (B) that trusts TA resolves A and sees the mark;
// revoked, TA's status endpoint says so and B drops it. Refusals are checked both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestServer, type TestServer } from '../support/server.js';
import { freePort } from '../oidc/helpers.js';
import { runCli } from '../support/cli.js';
import { peekStatement } from '../../federation/entity-statement.js';
import { TrustChainResolver } from '../../federation/trust-chain.js';
import { TrustMarkSync } from '../../server/federation/trust-mark-sync.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { resolveWithTrustMarks, trustMarksOf, trustMarksView } from '../../server/federation/resolution-marks.js';

let ta: TestServer, a: TestServer, b: TestServer;
let TA: { entityId: string; thumbprint: string }, A: { entityId: string; thumbprint: string };
let EEA: string;

async function start(): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}
const self = async (s: TestServer) => (await s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };
const at = (s: TestServer) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });
const configuration = async (s: TestServer) => peekStatement(await (await fetch(`${s.url}/.well-known/openid-federation`)).text()) as ReturnType<typeof peekStatement> & Record<string, unknown>;
type Marks = { valid: Array<{ trustMarkType: string; issuer: string }>; dropped: Array<{ trustMarkType: string; reason: string }> };
const marksSeenBy = async (s: TestServer, sub: string): Promise<Marks> => {
  const r = await s.api('GET', `/api/v1/federation/resolve?sub=${encodeURIComponent(sub)}`);
  expect(r.status, r.text).toBe(200);
  return r.json.trustMarks as Marks;
};
/** What an instance resolving A afresh sees (B's own resolver keeps A's configuration cached until it expires). */
const freshly = async (s: TestServer, sub: string) => resolveWithTrustMarks(s.database.db, new TrustChainResolver(s.outbound), sub);
const status = async (issuer: string, mark: string) => {
  const res = await fetch(`${issuer}/federation/trust_mark_status`, { method: 'POST', body: new URLSearchParams({ trust_mark: mark }) });
  return { code: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

beforeAll(async () => {
  [ta, a, b] = [await start(), await start(), await start()];
  [TA, A] = [await self(ta), await self(a)];
  EEA = `${TA.entityId}/trust-marks/hosts-in-eea`;
  for (const s of [a, b]) expect((await s.api('POST', '/api/v1/federation/anchors', { body: TA })).status).toBe(201);
  expect((await ta.api('POST', '/api/v1/federation/subordinates', { body: A })).status).toBe(201);
}, 120_000);
afterAll(async () => {
  for (const s of [ta, a, b]) await s?.stop();
});

describe('trust marks issued by a trust anchor', () => {
  it('grants a mark only to an enrolled entity, only by a platform admin, never already expired', async () => {
    const B = await self(b);
    const notEnrolled = await ta.api('POST', '/api/v1/federation/trust-marks', { body: { entityId: B.entityId, trustMarkType: EEA } });
    expect(notEnrolled.status).toBe(400);
    expect(notEnrolled.json.detail).toBe(`${B.entityId} is not enrolled here: only enrolled entities are given trust marks`);
    const past = await ta.api('POST', '/api/v1/federation/trust-marks', { body: { entityId: A.entityId, trustMarkType: EEA, expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    const anonymous = await ta.api('POST', '/api/v1/federation/trust-marks', { token: null, body: { entityId: A.entityId, trustMarkType: EEA } });
    expect(anonymous.status).toBe(401);
    expect((await ta.api('GET', '/api/v1/federation/trust-marks')).json.issued).toEqual([]);

    const granted = await runCli(['federation', 'marks', 'grant', A.entityId, '--type', EEA, '--expires', '30d'], at(ta));
    expect(granted.stdout, granted.stderr).toMatch(new RegExp(`^granted ${EEA} to ${A.entityId} until \\d{4}-`));
    const listed = (await ta.api('GET', '/api/v1/federation/trust-marks')).json.issued;
    expect(listed).toMatchObject([{ entityId: A.entityId, trustMarkType: EEA, status: 'active' }]);
    const shown = (await runCli(['federation', 'marks'], at(ta))).stdout;
    const row = shown.split('\n').find((l) => l.startsWith(A.entityId));
    expect(row?.split(/\s+/).slice(0, 3)).toEqual([A.entityId, EEA, 'active']);
  });

  it("names itself in trust_mark_issuers and serves the signed mark at its trust mark endpoint", async () => {
    const ec = await configuration(ta);
    expect(ec.trust_mark_issuers).toEqual({ [EEA]: [TA.entityId] });
    expect(ec.metadata!.federation_entity!.federation_trust_mark_status_endpoint).toBe(`${TA.entityId}/federation/trust_mark_status`);
    const q = (sub: string) => `${TA.entityId}/federation/trust_mark?${new URLSearchParams({ trust_mark_type: EEA, sub })}`;
    const res = await fetch(q(A.entityId));
    expect(res.headers.get('content-type')).toBe('application/trust-mark+jwt');
    const mark = await res.text();
    expect(decodeProtectedHeader(mark)).toMatchObject({ typ: 'trust-mark+jwt', kid: ec.jwks.keys[0]!.kid });
    expect(decodeJwt(mark)).toMatchObject({ iss: TA.entityId, sub: A.entityId, trust_mark_type: EEA });
    expect((await fetch(q((await self(b)).entityId))).status).toBe(404);
    expect(await (await fetch(`${TA.entityId}/federation/trust_mark_list?${new URLSearchParams({ trust_mark_type: EEA })}`)).json()).toEqual([A.entityId]);
  });

  it('the holder fetches its mark and publishes it; a resolver verifies it and shows it', async () => {
    // Not yet fetched: A's configuration carries no mark, and B sees none.
    expect((await configuration(a)).trust_marks).toBeUndefined();
    expect(trustMarksView((await freshly(b, A.entityId)).trustMarks)).toEqual({ valid: [], dropped: [] });

    const fetched = await runCli(['federation', 'marks', 'fetch'], at(a));
    expect(fetched.stdout, fetched.stderr).toContain(EEA);
    const published = (await configuration(a)).trust_marks as Array<{ trust_mark_type: string; trust_mark: string }>;
    expect(published.map((m) => m.trust_mark_type)).toEqual([EEA]);
    expect(decodeJwt(published[0]!.trust_mark)).toMatchObject({ iss: TA.entityId, sub: A.entityId });

    expect(await marksSeenBy(b, A.entityId)).toEqual({ valid: [expect.objectContaining({ trustMarkType: EEA, issuer: TA.entityId })], dropped: [] });
    const shown = await runCli(['federation', 'resolve', A.entityId], at(b));
    expect(shown.stdout, shown.stderr).toContain(`trust mark ${EEA} from ${TA.entityId} until `);
    // The public resolve endpoint carries the verified marks in its signed answer.
    const res = await fetch(`${b.url}/federation/resolve?${new URLSearchParams({ sub: A.entityId, trust_anchor: TA.entityId })}`);
    expect((decodeJwt(await res.text()) as { trust_marks: Array<{ trust_mark_type: string }> }).trust_marks.map((m) => m.trust_mark_type)).toEqual([EEA]);
    // The fact the data-protection rules can use.
    expect(trustMarksOf(await freshly(b, A.entityId))).toEqual([EEA]);

    const statusNow = await status(TA.entityId, published[0]!.trust_mark);
    expect(statusNow.type).toBe('application/trust-mark-status-response+jwt');
    expect(decodeProtectedHeader(statusNow.body).typ).toBe('trust-mark-status-response+jwt');
    expect(decodeJwt(statusNow.body)).toMatchObject({ iss: TA.entityId, trust_mark: published[0]!.trust_mark, status: 'active' });
  });

  it('revoked, the status endpoint says so and the resolver drops the mark; granted again, it counts again', async () => {
    const published = ((await configuration(a)).trust_marks as Array<{ trust_mark: string }>)[0]!.trust_mark;
    const revoked = await runCli(['federation', 'marks', 'revoke', A.entityId, '--type', EEA], at(ta));
    expect(revoked.stdout, revoked.stderr).toBe(`revoked ${EEA} of ${A.entityId}\n`);
    expect(decodeJwt((await status(TA.entityId, published)).body)).toMatchObject({ status: 'revoked' });
    // A still publishes the mark (it has not fetched since), and B has A's configuration cached: B drops the mark all the same.
    expect((await configuration(a)).trust_marks).toHaveLength(1);
    const seen = await marksSeenBy(b, A.entityId);
    expect(seen.valid).toEqual([]);
    expect(seen.dropped).toEqual([{ trustMarkType: EEA, issuer: TA.entityId, reason: "its issuer's status endpoint says revoked" }]);
    expect(trustMarksOf(await freshly(b, A.entityId))).toEqual([]);
    const dropped = await runCli(['federation', 'resolve', A.entityId], at(b));
    expect(dropped.stdout).toContain(`trust mark ${EEA} dropped: its issuer's status endpoint says revoked`);
    // Revoking twice finds nothing in force; the trust mark endpoint no longer issues it; A's next fetch unpublishes it.
    expect((await ta.api('DELETE', `/api/v1/federation/trust-marks?${new URLSearchParams({ entityId: A.entityId, trustMarkType: EEA })}`)).status).toBe(404);
    expect((await fetch(`${TA.entityId}/federation/trust_mark?${new URLSearchParams({ trust_mark_type: EEA, sub: A.entityId })}`)).status).toBe(404);
    expect((await runCli(['federation', 'marks', 'fetch'], at(a))).stdout).toBe('no trust marks held\n');
    expect((await configuration(a)).trust_marks).toBeUndefined();

    // Granted again (a new grant): the old mark stays revoked, the new one counts.
    expect((await ta.api('POST', '/api/v1/federation/trust-marks', { body: { entityId: A.entityId, trustMarkType: EEA } })).status).toBe(201);
    await runCli(['federation', 'marks', 'fetch'], at(a));
    expect(trustMarksOf(await freshly(b, A.entityId))).toEqual([EEA]);
    expect(decodeJwt((await status(TA.entityId, published)).body)).toMatchObject({ status: 'revoked' });
  });

  it("the holder's own sync replaces a revoked mark by the new grant's, and a refresh that learns nothing changes nothing", async () => {
    const refreshes = async () =>
      (await a.api('GET', '/api/v1/audit/entries?subjectType=federation_entity&limit=1000')).json.items.filter((e: { json: { action: string } }) => e.json.action === 'federation.trust_marks.refresh').length;
    const held = async () => ((await configuration(a)).trust_marks as Array<{ trust_mark: string }>)[0]!.trust_mark;
    const before = await refreshes();
    expect((await runCli(['federation', 'marks', 'fetch'], at(a))).stdout).toContain(EEA);
    expect(await refreshes()).toBe(before);

    // Revoked and granted again while A did not look: A still publishes the revoked grant's mark.
    const old = await held();
    await runCli(['federation', 'marks', 'revoke', A.entityId, '--type', EEA], at(ta));
    expect((await ta.api('POST', '/api/v1/federation/trust-marks', { body: { entityId: A.entityId, trustMarkType: EEA } })).status).toBe(201);
    expect(await held()).toBe(old);
    expect(trustMarksOf(await freshly(b, A.entityId))).toEqual([]);
    // A's background sync (every 10 minutes in a running instance; one round here) fetches the new one.
    const box = new SecretBox(decodeMasterKey(a.masterKey));
    await new TrustMarkSync({ db: a.database.db, box, publicUrl: A.entityId }, new TrustChainResolver(a.outbound), a.outbound, { warn: () => {} }).run();
    expect(await held()).not.toBe(old);
    expect(trustMarksOf(await freshly(b, A.entityId))).toEqual([EEA]);
    expect(await refreshes()).toBe(before + 1);
  });

  it("drops a mark from an issuer the anchor does not accept for the type, and answers 404 for marks it never issued", async () => {
    // B enrols A and grants it the same type; A trusts B as an anchor too, so it fetches and publishes B's mark.
    const B = await self(b);
    expect((await b.api('POST', '/api/v1/federation/subordinates', { body: A })).status).toBe(201);
    expect((await b.api('POST', '/api/v1/federation/trust-marks', { body: { entityId: A.entityId, trustMarkType: EEA } })).status).toBe(201);
    expect((await a.api('POST', '/api/v1/federation/anchors', { body: B })).status).toBe(201);
    const refreshed = await a.api('POST', '/api/v1/federation/trust-marks/held/refresh');
    expect(refreshed.json.held.map((h: { issuer: string }) => h.issuer).sort()).toEqual([B.entityId, TA.entityId].sort());
    // Resolved through TA, B is no issuer TA accepts: dropped; TA's own mark kept.
    const seen = trustMarksView((await freshly(b, A.entityId)).trustMarks);
    expect(seen.valid.map((m) => m.issuer)).toEqual([TA.entityId]);
    expect(seen.dropped).toEqual([{ trustMarkType: EEA, issuer: B.entityId, reason: `${B.entityId} is not an issuer the trust anchor accepts for ${EEA}` }]);
    // TA knows nothing of B's mark.
    const bMark = ((await configuration(a)).trust_marks as Array<{ trust_mark: string }>).map((m) => m.trust_mark).find((m) => decodeJwt(m).iss === B.entityId)!;
    expect((await status(TA.entityId, bMark)).code).toBe(404);
    expect((await status(TA.entityId, 'not-a-jwt')).code).toBe(404);
    expect((await fetch(`${TA.entityId}/federation/trust_mark_status`, { method: 'POST' })).status).toBe(400);
  });

  it('audits every grant, revocation and fetch', async () => {
    const actions = async (s: TestServer) =>
      (await s.api('GET', '/api/v1/audit/entries?subjectType=federation_entity&limit=1000')).json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(await actions(ta)).toEqual(expect.arrayContaining(['federation.trust_mark.grant', 'federation.trust_mark.revoke']));
    expect((await actions(ta)).filter((x: string) => x === 'federation.trust_mark.grant')).toHaveLength(3);
    expect(await actions(a)).toEqual(expect.arrayContaining(['federation.trust_marks.refresh']));
  });
});
