// Co-op signing keys and transfer receipts: keys are made once and kept sealed,
// the JWKS is public and public-only, a receipt needs both co-ops' signatures in
// their roles, rotation keeps old receipts verifiable, and the CLI checks a
// receipt offline (exit 3 on a bad one).
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { base64url, calculateJwkThumbprint, GeneralSign } from 'jose';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';
import { rowsOf } from '../../server/db/index.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { ProblemError } from '../../server/http/problem.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { uuidv7 } from '../../server/ids.js';
import { canonicalBytes } from '../../server/audit/canonical.js';
import { coopJwks, coopSigningKey, rotateCoopKey } from '../../server/receipts/keys.js';
import { loadReceipt, signReceipt, storeReceipt, type ReceiptJws, type ReceiptSummaryInput } from '../../server/receipts/receipt.js';
import { verifyReceipt } from '../../federation/receipt-verify.js';
import { sampleReceiptSummary } from '../support/receipts.js';
import { existingPersonRef, person, personRefs } from '../../server/audit/subjects.js';

let s: TestServer;
let box: SecretBox;
let A: string, B: string, C: string;

beforeAll(async () => {
  s = await startTestServer();
  box = new SecretBox(Buffer.from(s.masterKey, 'base64'));
  [A, B, C] = [(await createCoop(s)).id, (await createCoop(s)).id, (await createCoop(s)).id];
});
afterAll(async () => {
  await s?.stop();
});

const db = () => s.database.db;

const summary = (over: Partial<ReceiptSummaryInput> = {}) => sampleReceiptSummary({ sourceCoopId: A, targetCoopId: B, ...over });

async function jwksOf(coop: string) {
  const res = await s.api('GET', `/api/v1/coops/${coop}/jwks`, { token: null });
  expect(res.status).toBe(200);
  return res.json as { keys: Array<Record<string, string>> };
}

async function jwksFor(r: ReceiptJws | { sourceCoopId: string; targetCoopId: string }) {
  const p = 'payload' in r ? decode(r) : r;
  return { sourceJwks: await jwksOf(p.sourceCoopId), targetJwks: await jwksOf(p.targetCoopId) };
}

const decode = (r: ReceiptJws) => JSON.parse(new TextDecoder().decode(base64url.decode(r.payload)));
const header = (r: ReceiptJws, i: number) => JSON.parse(new TextDecoder().decode(base64url.decode(r.signatures[i]!.protected)));

/** Signs any payload with the given keys and roles, as a forger holding those keys would. */
async function forge(payload: Uint8Array, signers: Array<{ coop: string; role: string }>): Promise<ReceiptJws> {
  const g = new GeneralSign(payload);
  for (const { coop, role } of signers) {
    const key = await coopSigningKey(db(), box, coop);
    g.addSignature(key.privateKey).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'meetplane-receipt+jws', 'meetplane-role': role });
  }
  return (await g.sign()) as ReceiptJws;
}

describe('co-op signing keys', () => {
  it('creates one key on first use, even under concurrent callers, and reuses it', async () => {
    const coop = (await createCoop(s)).id;
    const keys = await Promise.all([1, 2, 3].map(() => coopSigningKey(db(), box, coop)));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    expect((await coopSigningKey(db(), box, coop)).kid).toBe(keys[0]!.kid);
    const rows = rowsOf<{ n: number }>(await db().execute(sql`select count(*)::int as n from coop_keys where coop_id = ${coop}`));
    expect(Number(rows[0]!.n)).toBe(1);
    // kid is the RFC 7638 thumbprint of the public key.
    expect(keys[0]!.kid).toBe(await calculateJwkThumbprint(keys[0]!.publicJwk, 'sha256'));
    await sequenceAudit(db()); // the key was made in this process, not through a request
    const audited = rowsOf<{ n: number }>(
      await db().execute(sql`select count(*)::int as n from audit_entries where action = 'coop.key.create' and subject_id = ${coop}`),
    );
    expect(Number(audited[0]!.n)).toBe(1);
  });

  it('refuses a co-op that does not exist', async () => {
    await expect(coopSigningKey(db(), box, uuidv7())).rejects.toMatchObject({ status: 404 });
  });

  it('keeps the private key sealed: its d parameter is nowhere in plain text', async () => {
    const key = await coopSigningKey(db(), box, A);
    const [row] = rowsOf<{ private_sealed: string; public_jwk: Record<string, string>; coop_id: string }>(
      await db().execute(sql`select * from coop_keys where kid = ${key.kid}`),
    );
    const label = `coop-signing-key:${row!.coop_id}:${key.kid}`;
    const d = (JSON.parse(box.open(row!.private_sealed, label)) as { d: string }).d;
    expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const everything = rowsOf<{ t: string }>(await db().execute(sql`select row_to_json(k)::text as t from coop_keys k`)).map((r) => r.t).join('\n');
    expect(everything).not.toContain(d);
    expect(row!.public_jwk).not.toHaveProperty('d');
    // Bound to its row: opened under another co-op's label it fails.
    expect(() => box.open(row!.private_sealed, `coop-signing-key:${B}:${key.kid}`)).toThrow();
    // The loaded key signs but cannot be exported.
    expect(key.privateKey.extractable).toBe(false);
    await sequenceAudit(db());
    const audit = rowsOf<{ t: string }>(await db().execute(sql`select convert_from(entry, 'UTF8') as t from audit_entries`)).map((r) => r.t).join('\n');
    expect(audit).not.toContain(d);
    expect(s.logs()).not.toContain(d);
  });

  it('publishes public keys only, without a token, by id or slug', async () => {
    const coop = await createCoop(s);
    expect((await jwksOf(coop.id)).keys).toEqual([]);
    const key = await coopSigningKey(db(), box, coop.id);
    const res = await s.api('GET', `/api/v1/coops/${coop.slug}/jwks`, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(res.json).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x, kid: key.kid, alg: 'EdDSA', use: 'sig' }] });
    expect(res.text).not.toMatch(/"d"/);
    // The rest of /api/v1 still needs a token.
    expect((await s.api('GET', `/api/v1/coops/${coop.id}`, { token: null })).status).toBe(401);
  });

  it('answers 404 and 400 as problems', async () => {
    const missing = await s.api('GET', `/api/v1/coops/${uuidv7()}/jwks`, { token: null });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.json.type).toBe('https://meetplane.org/problems/not-found');
    const bad = await s.api('GET', `/api/v1/coops/${'x'.repeat(80)}/jwks`, { token: null });
    expect(bad.status).toBe(400);
    expect(bad.json.type).toBe('https://meetplane.org/problems/validation');
  });
});

describe('transfer receipts', () => {
  it('signs with the source key, then the target key, and verifies', async () => {
    const input = summary();
    const r = await signReceipt(db(), box, input);
    expect(r.signatures).toHaveLength(2);
    expect(header(r, 0)).toEqual({ alg: 'EdDSA', kid: (await coopSigningKey(db(), box, A)).kid, typ: 'meetplane-receipt+jws', 'meetplane-role': 'source' });
    expect(header(r, 1)).toMatchObject({ kid: (await coopSigningKey(db(), box, B)).kid, 'meetplane-role': 'target' });
    // The payload is the canonical JSON of the summary, in the current format (version 2).
    expect(new TextDecoder().decode(base64url.decode(r.payload))).toBe(
      new TextDecoder().decode(canonicalBytes({ version: 2, ...input, completedAt: '2025-03-01T12:00:00.000Z' })),
    );
    const { summary: got, kids } = await verifyReceipt(r, await jwksFor(r));
    expect(got).toEqual({ version: 2, ...input, completedAt: '2025-03-01T12:00:00.000Z' });
    expect(kids.source).toBe(header(r, 0).kid);
    // The JSON text of the receipt verifies too.
    await expect(verifyReceipt(JSON.stringify(r), await jwksFor(r))).resolves.toBeTruthy();
  });

  it('stores a receipt once per transfer', async () => {
    const input = summary();
    const first = await signReceipt(db(), box, input);
    const second = await signReceipt(db(), box, { ...input, completedAt: new Date('2025-03-02T00:00:00Z') });
    expect(await storeReceipt(db(), input.transferId, first)).toEqual(first);
    expect(await storeReceipt(db(), input.transferId, second)).toEqual(first);
    expect(await loadReceipt(db(), input.transferId)).toEqual(first);
    await expect(storeReceipt(db(), uuidv7(), first)).rejects.toMatchObject({ status: 400 });
  });

  it('refuses a bad summary with a validation problem naming the fields', async () => {
    const err = await signReceipt(db(), box, summary({ inventoryManifestSha256: 'nope', targetCoopId: A })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    const paths = ((err as ProblemError).extensions.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['inventoryManifestSha256', 'targetCoopId']));
    await expect(signReceipt(db(), box, { ...summary(), extra: 1 } as ReceiptSummaryInput)).rejects.toMatchObject({ status: 400 });
  });

  it('rejects a tampered payload', async () => {
    const r = await signReceipt(db(), box, summary());
    const keys = await jwksFor(r);
    const changed = { ...decode(r), tenancyId: uuidv7() };
    const tampered = { ...r, payload: base64url.encode(canonicalBytes(changed)) };
    await expect(verifyReceipt(tampered, keys)).rejects.toThrow(/source signature does not match the payload/);
  });

  it('rejects a receipt without the countersignature', async () => {
    const r = await signReceipt(db(), box, summary());
    await expect(verifyReceipt({ ...r, signatures: r.signatures.slice(0, 1) }, await jwksFor(r))).rejects.toThrow(/expected 2 signatures/);
    // Two source signatures are no better.
    await expect(verifyReceipt({ ...r, signatures: [r.signatures[0]!, r.signatures[0]!] }, await jwksFor(r))).rejects.toThrow(/claims role "source"/);
  });

  it('rejects swapped roles', async () => {
    const r = await signReceipt(db(), box, summary());
    const keys = await jwksFor(r);
    await expect(verifyReceipt({ ...r, signatures: [...r.signatures].reverse() }, keys)).rejects.toThrow(/should be the source co-op's, but claims role "target"/);
    await expect(verifyReceipt(r, { sourceJwks: keys.targetJwks, targetJwks: keys.sourceJwks })).rejects.toThrow(/not in the source co-op's JWKS/);
    // Each co-op signing under the other's role.
    const forged = await forge(base64url.decode(r.payload), [
      { coop: B, role: 'source' },
      { coop: A, role: 'target' },
    ]);
    await expect(verifyReceipt(forged, keys)).rejects.toThrow(/not in the source co-op's JWKS/);
    // One co-op signing both roles, verified by someone who passed its JWKS twice.
    const alone = await forge(base64url.decode(r.payload), [
      { coop: A, role: 'source' },
      { coop: A, role: 'target' },
    ]);
    await expect(verifyReceipt(alone, { sourceJwks: keys.sourceJwks, targetJwks: keys.sourceJwks })).rejects.toThrow(/same key/);
  });

  it("rejects a third co-op's signature in place of the target's", async () => {
    const payload = canonicalBytes({ ...summary(), completedAt: '2025-03-01T12:00:00.000Z' });
    const forged = await forge(payload, [
      { coop: A, role: 'source' },
      { coop: C, role: 'target' },
    ]);
    const keys = await jwksFor({ sourceCoopId: A, targetCoopId: B });
    await expect(verifyReceipt(forged, keys)).rejects.toThrow(/target signature: key .* is not in the target co-op's JWKS/);
    // A third co-op's JWKS offered as the target's does not help a genuine receipt either.
    const genuine = await signReceipt(db(), box, summary());
    await expect(verifyReceipt(genuine, { ...keys, targetJwks: await jwksOf(C) })).rejects.toThrow(/not in the target co-op's JWKS/);
  });

  it('rejects a non-canonical payload and a JWKS carrying private keys', async () => {
    const text = JSON.stringify({ ...summary(), completedAt: '2025-03-01T12:00:00.000Z' }, null, 1);
    const forged = await forge(new TextEncoder().encode(text), [
      { coop: A, role: 'source' },
      { coop: B, role: 'target' },
    ]);
    const keys = await jwksFor({ sourceCoopId: A, targetCoopId: B });
    await expect(verifyReceipt(forged, keys)).rejects.toThrow(/not RFC 8785 canonical/);
    const r = await signReceipt(db(), box, summary());
    const leaky = { keys: keys.sourceJwks.keys.map((k) => ({ ...k, d: 'AAAA' })) };
    await expect(verifyReceipt(r, { ...keys, sourceJwks: leaky })).rejects.toThrow(/private key material/);
  });

  it('retires a rotated key for signing but keeps it for verifying old receipts', async () => {
    const coop = (await createCoop(s)).id;
    const old = await signReceipt(db(), box, summary({ sourceCoopId: coop }));
    const before = await jwksOf(coop);
    const oldKid = header(old, 0).kid as string;
    const { kid, retiredKid } = await rotateCoopKey(db(), box, LOCAL_OPERATOR, coop);
    expect(retiredKid).toBe(oldKid);
    expect(kid).not.toBe(oldKid);
    expect((await coopSigningKey(db(), box, coop)).kid).toBe(kid);
    const after = await jwksOf(coop);
    expect(after.keys.map((k) => k.kid)).toEqual([oldKid, kid]);
    expect((await coopJwks(db(), coop)).keys).toHaveLength(2);
    // The old receipt still verifies against the current JWKS; a new one uses the new key.
    await expect(verifyReceipt(old, await jwksFor(old))).resolves.toBeTruthy();
    const fresh = await signReceipt(db(), box, summary({ sourceCoopId: coop }));
    expect(header(fresh, 0).kid).toBe(kid);
    await expect(verifyReceipt(fresh, await jwksFor(fresh))).resolves.toBeTruthy();
    // A verifier holding only the JWKS from before the rotation cannot accept the new key.
    await expect(verifyReceipt(fresh, { ...(await jwksFor(fresh)), sourceJwks: before })).rejects.toThrow(/not in the source co-op's JWKS/);
    // Rotating twice at once: both succeed, one active key remains.
    await Promise.all([rotateCoopKey(db(), box, LOCAL_OPERATOR, coop), rotateCoopKey(db(), box, LOCAL_OPERATOR, coop)]);
    const active = rowsOf<{ n: number }>(await db().execute(sql`select count(*)::int as n from coop_keys where coop_id = ${coop} and retired_at is null`));
    expect(Number(active[0]!.n)).toBe(1);
    expect((await jwksOf(coop)).keys).toHaveLength(4);
  });
});

describe('meetplane receipts verify', () => {
  async function files() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-receipt-'));
    const r = await signReceipt(db(), box, summary());
    const keys = await jwksFor(r);
    const write = (name: string, v: unknown) => {
      const f = path.join(dir, name);
      writeFileSync(f, JSON.stringify(v));
      return f;
    };
    return { r, receipt: write('receipt.json', r), source: write('source.json', keys.sourceJwks), target: write('target.json', keys.targetJwks), write };
  }

  it('verifies a receipt offline with saved JWKS files, and by JWKS URLs', async () => {
    const f = await files();
    const ok = await runCli(['receipts', 'verify', f.receipt, '--source-jwks', f.source, '--target-jwks', f.target]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK: transfer ${decode(f.r).transferId} `));
    const json = await runCli(['--json', 'receipts', 'verify', f.receipt, '--source-jwks', `${s.url}/api/v1/coops/${A}/jwks`, '--target-jwks', `${s.url}/api/v1/coops/${B}/jwks`]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).summary.sourceCoopId).toBe(A);
  });

  it('rejects a tampered receipt with one line and exit code 3', async () => {
    const f = await files();
    const tampered = f.write('tampered.json', { ...f.r, payload: base64url.encode(canonicalBytes({ ...decode(f.r), targetCoopId: C })) });
    const bad = await runCli(['receipts', 'verify', tampered, '--source-jwks', f.source, '--target-jwks', f.target]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^meetplane: VERIFICATION FAILED: source signature does not match the payload \(key [\w-]+\)\n$/);
    const half = f.write('half.json', { ...f.r, signatures: f.r.signatures.slice(0, 1) });
    const missing = await runCli(['receipts', 'verify', half, '--source-jwks', f.source, '--target-jwks', f.target]);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('people in receipts', () => {
  it('names approvers by the pseudonymous references the audit log uses, never by account id', async () => {
    const people = [uuidv7(), uuidv7(), uuidv7()];
    const refs = await db().transaction((tx) => personRefs(tx, people));
    const r = await signReceipt(db(), box, summary({ approvals: people.map((id, i) => ({ role: ['source_admin', 'target_admin', 'owner'][i]!, ref: person(id) })) }));
    const payload = new TextDecoder().decode(base64url.decode(r.payload));
    for (const id of people) expect(payload).not.toContain(id);
    const { summary: verified } = await verifyReceipt(r, await jwksFor(r));
    expect(verified.version).toBe(2);
    expect(verified.approvals.map((a) => a.ref)).toEqual(people.map((id) => refs.get(id)));
    // The same reference the audit log would write for that person, and it is linkable only while their key lives.
    expect(verified.approvals[0]!.ref).toBe(await existingPersonRef(db(), people[0]!));
  });

  it('refuses to sign or accept a version 2 receipt that names someone by account id', async () => {
    const raw = summary({ approvals: [{ role: 'owner', ref: uuidv7() }] });
    await expect(signReceipt(db(), box, raw)).rejects.toMatchObject({ status: 400, extensions: { errors: [expect.objectContaining({ path: 'approvals.0.ref' })] } });
    const forged = await forge(canonicalBytes({ ...decode(await signReceipt(db(), box, summary())), approvals: [{ role: 'owner', ref: uuidv7() }] }), [
      { coop: A, role: 'source' },
      { coop: B, role: 'target' },
    ]);
    await expect(verifyReceipt(forged, await jwksFor(forged))).rejects.toThrow(/pseudonymous reference/);
  });

  it('still verifies a version 1 receipt, which named approvers by account id, offline in the CLI too', async () => {
    const { version: _v2, ...v1 } = decode(await signReceipt(db(), box, summary()));
    const approver = uuidv7();
    const old = await forge(canonicalBytes({ ...v1, approvals: [{ role: 'owner', ref: approver }] }), [
      { coop: A, role: 'source' },
      { coop: B, role: 'target' },
    ]);
    const { summary: verified } = await verifyReceipt(old, await jwksFor(old));
    expect(verified).not.toHaveProperty('version');
    expect(verified.approvals).toEqual([{ role: 'owner', ref: approver }]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-receipt-v1-'));
    const keys = await jwksFor(old);
    const [file, source, target] = [['receipt.json', old], ['source.json', keys.sourceJwks], ['target.json', keys.targetJwks]].map(([name, v]) => {
      const f = path.join(dir, name as string);
      writeFileSync(f, JSON.stringify(v));
      return f;
    }) as [string, string, string];
    const cli = await runCli(['receipts', 'verify', file, '--source-jwks', source, '--target-jwks', target]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`approved by owner ${approver} (a version 1 receipt: account ids)`);
  });
});
