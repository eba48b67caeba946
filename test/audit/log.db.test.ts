// The verifiable audit log through the REST API, as an auditor uses it:
// checkpoints opened with the published key, proofs checked with the same
// verifier the CLI uses, pseudonymous actors, erasure of a pseudonym.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop, memberWithToken } from '../support/fixtures.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../server/audit/merkle.js';
import { openCheckpoint, fromB64 } from '../../cli/audit/verifier.js';

let s: TestServer;
let vkey: string;
beforeAll(async () => {
  s = await startTestServer();
  vkey = (await s.api('GET', '/api/v1/audit/key')).text.trim();
});
afterAll(async () => {
  await s?.stop();
});

async function checkpoint() {
  const res = await s.api('GET', '/api/v1/audit/checkpoint');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return { note: res.text, cp: openCheckpoint(res.text, vkey) };
}

describe('audit log', () => {
  it('publishes a C2SP verifier key and signed checkpoints whose origin is this instance', async () => {
    expect(vkey).toMatch(/^127\.0\.0\.1:\d+\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$|^localhost:\d+\/audit\+[0-9a-f]{8}\+/);
    await createCoop(s);
    const { note, cp } = await checkpoint();
    expect(note.split('\n')[0]).toBe(cp.origin);
    expect(note).toContain('\n\u2014 ');
    expect(cp.size).toBeGreaterThanOrEqual(2); // bootstrap account + token + co-op
  });

  it('proves every entry is included, by index and by leaf hash', async () => {
    for (let i = 0; i < 5; i++) await createCoop(s);
    const { cp } = await checkpoint();
    const entries = (await s.api('GET', `/api/v1/audit/entries?from=0&to=${cp.size}&limit=1000`)).json.items;
    expect(entries.map((e: { index: number }) => e.index)).toEqual([...Array(cp.size).keys()]);
    for (const e of entries) {
      const bytes = fromB64(e.entry);
      expect(Buffer.from(leafHash(bytes)).toString('base64')).toBe(e.leafHash);
      const proof = (await s.api('GET', `/api/v1/audit/proof/inclusion?index=${e.index}&treeSize=${cp.size}`)).json;
      expect(verifyInclusion(leafHash(bytes), e.index, cp.size, proof.hashes.map(fromB64), cp.rootHash)).toBe(true);
      // The same proof does not verify for another leaf.
      if (e.index > 0) expect(verifyInclusion(leafHash(bytes), e.index - 1, cp.size, proof.hashes.map(fromB64), cp.rootHash)).toBe(false);
    }
    const last = entries[entries.length - 1];
    const byLeaf = await s.api('GET', `/api/v1/audit/proof/inclusion?leafHash=${encodeURIComponent(last.leafHash)}&treeSize=${cp.size}`);
    expect(byLeaf.json.index).toBe(last.index);
  });

  it('proves each checkpoint consistent with every earlier one', async () => {
    const first = (await checkpoint()).cp;
    await createCoop(s);
    await createCoop(s);
    const second = (await checkpoint()).cp;
    expect(second.size).toBe(first.size + 2);
    const proof = (await s.api('GET', `/api/v1/audit/proof/consistency?from=${first.size}&to=${second.size}`)).json;
    expect(verifyConsistency(first.size, second.size, proof.hashes.map(fromB64), first.rootHash, second.rootHash)).toBe(true);
    expect(verifyConsistency(first.size, second.size, proof.hashes.map(fromB64), second.rootHash, first.rootHash)).toBe(false);
    const all = (await s.api('GET', '/api/v1/audit/checkpoints')).json.items;
    expect(all.map((c: { size: number }) => c.size)).toEqual([...all.map((c: { size: number }) => c.size)].sort((a, b) => a - b));
    expect(all.at(-1).size).toBe(second.size);
  });

  it('serves an entry with its proof and an offline bundle that verifies on its own', async () => {
    const coop = await createCoop(s);
    const found = (await s.api('GET', `/api/v1/audit/entries?subject=${coop.id}`)).json.items;
    expect(found).toHaveLength(1);
    const bundle = await s.api('GET', `/api/v1/audit/bundle/${found[0].index}`);
    expect(bundle.headers.get('content-disposition')).toContain('attachment');
    const b = bundle.json;
    const cp = openCheckpoint(b.checkpoint, b.vkey);
    expect(verifyInclusion(leafHash(fromB64(b.entry)), b.index, cp.size, b.proof.hashes.map(fromB64), cp.rootHash)).toBe(true);
    expect(b.json).toMatchObject({ action: 'coop.create', subject: { type: 'coop', id: coop.id } });
  });

  it('keeps people pseudonymous, lets auditors find them by account, and forgets them on erasure', async () => {
    const coop = await createCoop(s);
    const member = await memberWithToken(s, coop.id);
    await s.api('POST', '/api/v1/tokens', { token: member.token, body: { name: 'second' } });
    const byActor = (await s.api('GET', `/api/v1/audit/entries?actor=${member.accountId}`)).json.items;
    expect(byActor.map((e: { json: { action: string } }) => e.json.action)).toEqual(['token.create']);
    const raw = Buffer.from(fromB64(byActor[0].entry)).toString();
    expect(raw).not.toContain(member.accountId);
    expect(byActor[0].json.actor.ref).toMatch(/^p:[0-9a-f]{32}$/);

    expect((await s.api('POST', `/api/v1/audit/forget/${member.accountId}`)).status).toBe(204);
    expect((await s.api('GET', `/api/v1/audit/entries?actor=${member.accountId}`)).json.items).toEqual([]);
    // The entries themselves are untouched: the log still verifies.
    const { cp } = await checkpoint();
    const proof = (await s.api('GET', `/api/v1/audit/proof/inclusion?index=${byActor[0].index}&treeSize=${cp.size}`)).json;
    expect(verifyInclusion(fromB64(byActor[0].leafHash), byActor[0].index, cp.size, proof.hashes.map(fromB64), cp.rootHash)).toBe(true);
  });

  it('filters entries by action and time, and refuses bad ranges with problems', async () => {
    const res = await s.api('GET', `/api/v1/audit/entries?action=coop.create&since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`);
    expect(res.json.items.length).toBeGreaterThan(0);
    expect(res.json.items.every((e: { json: { action: string } }) => e.json.action === 'coop.create')).toBe(true);
    for (const bad of ['/audit/proof/inclusion?index=0&treeSize=999999', '/audit/proof/consistency?from=0&to=1', '/audit/proof/consistency?from=3&to=2', '/audit/proof/inclusion?treeSize=1', '/audit/entries?from=-1', '/audit/proof/inclusion?leafHash=abc&treeSize=1']) {
      const r = await s.api('GET', '/api/v1' + bad);
      expect(r.status, bad).toBe(400);
      expect(r.headers.get('content-type'), bad).toContain('application/problem+json');
    }
    expect((await s.api('GET', '/api/v1/audit/entries/99999999')).status).toBe(404);
  });

  it('is for auditors only', async () => {
    const coop = await createCoop(s);
    const member = await memberWithToken(s, coop.id);
    for (const p of ['/audit/checkpoint', '/audit/key', '/audit/entries', '/audit/proof/consistency?from=1&to=1'])
      expect((await s.api('GET', '/api/v1' + p, { token: member.token })).status, p).toBe(403);
    expect((await s.api('GET', '/api/v1/audit/checkpoint', { token: null })).status).toBe(401);
  });

  it('refuses to UPDATE or DELETE entries, nodes and checkpoints', async () => {
    const { sql } = await import('drizzle-orm');
    for (const stmt of [sql`update audit_entries set action = 'x' where idx = 0`, sql`delete from audit_nodes`, sql`delete from audit_checkpoints`]) {
      await expect(s.database.db.execute(stmt)).rejects.toThrow();
    }
  });
});
