// Three meetplane instances on loopback, each on its own database: a trust anchor (TA) and two
// co-op instances (A, B). A and B trust TA; TA enrols them with metadata policies; A resolves B's
// trust chain through TA, and the refusals a user would rely on are checked both ways.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from '../support/server.js';
import { freePort } from '../oidc/helpers.js';
import { runCli } from '../support/cli.js';
import { peekStatement } from '../../federation/entity-statement.js';

let ta: TestServer, a: TestServer, b: TestServer;

async function start(): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}
const self = async (s: TestServer) => (await s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };
const resolveAt = (s: TestServer, sub: string) => s.api('GET', `/api/v1/federation/resolve?sub=${encodeURIComponent(sub)}`);
const enrolAt = (s: TestServer, body: Record<string, unknown>) => s.api('POST', '/api/v1/federation/subordinates', { body });

beforeAll(async () => {
  [ta, a, b] = [await start(), await start(), await start()];
  const anchor = await self(ta);
  for (const s of [a, b]) {
    const r = await s.api('POST', '/api/v1/federation/anchors', { body: anchor });
    expect(r.status, r.text).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  for (const s of [ta, a, b]) await s?.stop();
});

describe('federation between three instances', () => {
  it('publishes a signed entity configuration naming its anchor, provider and audit log', async () => {
    const res = await fetch(`${a.url}/.well-known/openid-federation`);
    expect(res.headers.get('content-type')).toBe('application/entity-statement+jwt');
    const jwt = await res.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('entity-statement+jwt');
    const ec = peekStatement(jwt);
    const { entityId } = await self(a);
    expect([ec.iss, ec.sub]).toEqual([entityId, entityId]);
    expect(ec.authority_hints).toEqual([(await self(ta)).entityId]);
    const key = ec.jwks.keys.find((k) => k.kid === decodeProtectedHeader(jwt).kid)!;
    await jwtVerify(jwt, await importJWK(key, 'ES256'));
    // openid_provider says what the provider's own discovery says.
    const discovery = (await (await fetch(`${entityId}/oidc/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(ec.metadata!.openid_provider!.issuer).toBe(`${entityId}/oidc`);
    const { jwks, ...discovered } = ec.metadata!.openid_provider! as Record<string, unknown>;
    for (const [name, value] of Object.entries(discovered)) expect([name, discovery[name]]).toEqual([name, value]);
    // Its sign-on keys are in the signed statement, as its jwks_uri publishes them.
    expect(jwks).toEqual(await (await fetch(`${entityId}/oidc/jwks`)).json());
    expect(ec.metadata!.federation_entity!.federation_fetch_endpoint).toBe(`${entityId}/federation/fetch`);
    const audit = (ec.metadata!.meetplane as { audit_log: { verifier_key: string; tiles_url: string } }).audit_log;
    expect(audit.tiles_url).toBe(`${entityId}/api/v1/audit`);
    expect(audit.verifier_key).toBe((await a.api('GET', '/api/v1/audit/key')).text.trim());
    // The federation key is not a sign-on key.
    const signOn = (await (await fetch(`${entityId}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(signOn.keys.map((k) => k.kid)).not.toContain(key.kid);
  });

  it('refuses an enrolment whose thumbprint does not match the configuration key', async () => {
    const r = await enrolAt(ta, { entityId: (await self(a)).entityId, thumbprint: (await self(b)).thumbprint });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/does not publish the pinned key/);
  });

  it('resolves B through the anchor, refusing it while the anchor policy forbids its metadata', async () => {
    const A = await self(a);
    const B = await self(b);
    const TA = await self(ta);
    expect((await enrolAt(ta, { ...A })).status).toBe(201);
    // The anchor demands clusters in Canada: B has none, so its metadata is refused.
    const algs = { entityType: 'openid_provider', parameter: 'id_token_signing_alg_values_supported', operators: { subset_of: ['ES256'] } };
    const canada = { entityType: 'meetplane', parameter: 'cluster_jurisdictions', operators: { superset_of: ['CA'] } };
    expect((await enrolAt(ta, { ...B, metadataPolicy: [algs, canada] })).status).toBe(201);
    const refused = await resolveAt(a, B.entityId);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/^invalid_metadata: .*cluster_jurisdictions/);

    // Without the forbidding operator, the same chain resolves and the policy shapes the metadata.
    expect((await enrolAt(ta, { ...B, metadataPolicy: [algs] })).status).toBe(201);
    const ok = await resolveAt(a, B.entityId);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.trustAnchor).toBe(TA.entityId);
    expect(ok.json.chain.map((s: { iss: string; sub: string }) => [s.iss, s.sub])).toEqual([
      [B.entityId, B.entityId],
      [TA.entityId, B.entityId],
      [TA.entityId, TA.entityId],
    ]);
    const discovered = (await (await fetch(`${B.entityId}/oidc/.well-known/openid-configuration`)).json()) as { id_token_signing_alg_values_supported: string[] };
    expect(discovered.id_token_signing_alg_values_supported).toContain('RS256');
    expect(ok.json.metadata.openid_provider.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(new Date(ok.json.expiresAt).getTime()).toBeGreaterThan(Date.now());

    // The public resolve endpoint answers the same, signed by A's federation key.
    const res = await fetch(`${a.url}/federation/resolve?sub=${encodeURIComponent(B.entityId)}&trust_anchor=${encodeURIComponent(TA.entityId)}`);
    expect(res.headers.get('content-type')).toBe('application/resolve-response+jwt');
    const signed = decodeJwt(await res.text()) as { iss: string; trust_chain: string[] };
    expect(signed.iss).toBe(A.entityId);
    expect(signed.trust_chain).toHaveLength(3);

    // The anchor lists what it vouches for.
    expect(await (await fetch(`${ta.url}/federation/list`)).json()).toEqual([A.entityId, B.entityId].sort());
  });

  it('meetplane federation enrol / resolve / show from the command line', async () => {
    const A = await self(a);
    const TA = await self(ta);
    const at = (s: TestServer) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });
    const shown = await runCli(['federation', 'show'], at(a));
    expect(shown.stdout).toContain(`federation key thumbprint ${A.thumbprint}`);
    // The policy file is a metadata_policy as the specification writes it.
    const policy = path.join(mkdtempSync(path.join(os.tmpdir(), 'fed-policy-')), 'policy.json');
    writeFileSync(policy, JSON.stringify({ openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256'] }, subject_types_supported: { superset_of: ['public'] } } }));
    const enrolled = await runCli(['federation', 'enrol', A.entityId, '--thumbprint', A.thumbprint, '--policy', policy], at(ta));
    expect(enrolled.stdout, enrolled.stderr).toBe(`enrolled ${A.entityId} (key ${A.thumbprint})\n`);
    const wrong = await runCli(['federation', 'enrol', A.entityId, '--thumbprint', TA.thumbprint], at(ta));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('does not publish the pinned key');
    const resolved = await runCli(['federation', 'resolve', A.entityId], at(b));
    expect(resolved.stdout, resolved.stderr).toContain(`${A.entityId}: trusted through ${TA.entityId}`);
    const asJson = JSON.parse((await runCli(['--json', 'federation', 'resolve', A.entityId], at(b))).stdout) as { metadata: { openid_provider: Record<string, unknown> } };
    expect(asJson.metadata.openid_provider.id_token_signing_alg_values_supported).toEqual(['ES256']);

    // Unenrolled, A has no statement at the anchor: an instance that resolves it afresh refuses it.
    expect((await runCli(['federation', 'unenrol', A.entityId], at(ta))).stdout).toBe(`${A.entityId} is no longer enrolled\n`);
    expect((await fetch(`${TA.entityId}/federation/fetch?sub=${encodeURIComponent(A.entityId)}`)).status).toBe(404);
    await ta.api('POST', '/api/v1/federation/anchors', { body: TA });
    const refused = await resolveAt(ta, A.entityId);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/answered 404/);
    expect((await enrolAt(ta, { ...A })).status).toBe(201);
  });

  it("refuses a configuration signed by a key the anchor never vouched for, until the anchor vouches for it", async () => {
    const B = await self(b);
    // A has B's chain cached until it expires: a second instance that never resolved B shows the refusal.
    const c = ta; // the anchor itself, trusting its own key as anchor, resolves B afresh
    const rotation = await runCli(['federation', 'rotate-key'], { MEETPLANE_URL: b.url, MEETPLANE_TOKEN: b.adminToken });
    const rotated = await self(b);
    expect(rotation.stdout, rotation.stderr).toContain(`new federation key thumbprint ${rotated.thumbprint}`);
    expect(rotated.thumbprint).not.toBe(B.thumbprint);
    await c.api('POST', '/api/v1/federation/anchors', { body: await self(ta) });
    const refused = await resolveAt(c, B.entityId);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.json.detail).toMatch(/signed by key .* which its verifier does not hold/);

    // A pinned peer's configuration must be signed by the pinned key too: B's old key is still published, but no longer signs.
    const pin = await a.api('POST', '/api/v1/federation/peers', { body: { entityId: B.entityId, thumbprint: B.thumbprint } });
    expect(pin.status).toBe(400);
    expect(pin.json.detail).toMatch(/not signed by the pinned key/);
    expect((await a.api('POST', '/api/v1/federation/peers', { body: rotated })).status).toBe(201);

    expect((await enrolAt(ta, { ...rotated })).status).toBe(201);
    const ok = await resolveAt(c, B.entityId);
    expect(ok.status, ok.text).toBe(200);
  });

  it('lets only platform admins change what the instance trusts, and audits it', async () => {
    const audit = await ta.api('GET', '/api/v1/audit/entries?subjectType=federation_entity&limit=1000');
    const actions = audit.json.items.map((e: { json: { action: string } }) => e.json.action);
    expect(actions).toEqual(expect.arrayContaining(['federation.enrol', 'federation.anchor.add']));
    const member = await ta.api('POST', '/api/v1/federation/subordinates', { token: null, body: await self(a) });
    expect(member.status).toBe(401);
  });
});
