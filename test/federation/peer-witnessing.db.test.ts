// Two instances on loopback pin each other and, with no witness command typed, witness each
// other's audit logs from the federation metadata: A's checkpoint is served with B's cosignature,
// `meetplane audit verify --witnesses` passes with B's key, a rotated witness key is picked up on
// re-reading, unpinning stops it, and what an admin added by hand stays.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { freePort } from '../oidc/helpers.js';
import { runCli } from '../support/cli.js';
import { peekStatement } from '../../federation/entity-statement.js';
import { parseCosignerVkey, verifyCosignatures, cosignerVkey } from '../../federation/cosignature.js';
import { generateNoteKey, verifyNote } from '../../server/audit/note.js';
import { federationPeers, witnessKeys } from '../../server/federation/table.js';
import { applyPeerWitnessing, FEDERATION_ACTOR } from '../../server/federation/peer-witnessing.js';

let a: TestServer, b: TestServer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-peer-witnessing-'));

async function start(): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}
const at = (s: TestServer) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });
const self = async (s: TestServer) => (await s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };
const witnessOf = async (s: TestServer) => (await s.api('GET', '/api/v1/federation/witness')).json as { vkey: string; logs: Array<{ origin: string; size: number; viaEntity: string | null }> };
const cosigners = async (s: TestServer) => (await s.api('GET', '/api/v1/audit/witnesses')).json.items as Array<{ url: string; vkey: string; viaEntity: string | null }>;
const logKey = async (s: TestServer) => (await s.api('GET', '/api/v1/audit/key')).text.trim();
const metadataOf = async (s: TestServer) => {
  const ec = peekStatement(await (await fetch(`${(await self(s)).entityId}/.well-known/openid-federation`)).text());
  return ec.metadata!.meetplane as { audit_log: { origin: string; verifier_key: string }; witness: { add_checkpoint_url: string; vkey: string } };
};
const entries = async (s: TestServer, action: string) =>
  ((await s.api('GET', `/api/v1/audit/entries?action=${action}&limit=1000`)).json.items as Array<{ json: Record<string, unknown> }>).map((e) => e.json);
let coop = 0;
/** Any audited change: the instance signs a checkpoint soon after and asks its witnesses. */
const write = async (s: TestServer) => {
  const r = await s.api('POST', '/api/v1/coops', { body: { slug: `c${++coop}`, name: `Co-op ${coop}`, jurisdiction: 'DE', contactEmail: 'a@b.example', legalRegime: 'eu_gdpr' } });
  expect(r.status, r.text).toBe(201);
};
/** Polls the served checkpoint until `accept` holds (cosigning runs in the background after a checkpoint). */
async function checkpointUntil(s: TestServer, accept: (note: string) => boolean): Promise<string> {
  let note = '';
  for (let i = 0; i < 100; i++) {
    note = (await s.api('GET', '/api/v1/audit/checkpoint')).text;
    if (accept(note)) return note;
    await new Promise((r) => setTimeout(r, 200));
  }
  return note;
}
const cosignedBy = (note: string, vkey: string) => {
  try {
    return verifyCosignatures(note, [parseCosignerVkey(vkey)]).length > 0;
  } catch {
    return false;
  }
};
const sizeOf = (note: string) => Number(note.split('\n')[1]);

beforeAll(async () => {
  [a, b] = [await start(), await start()];
}, 120_000);
afterAll(async () => {
  for (const s of [a, b]) await s?.stop();
});

describe('witnessing between pinned peers', () => {
  it("names the instance's witness in its meetplane metadata, beside the log's checkpoint key", async () => {
    const m = await metadataOf(a);
    const { entityId } = await self(a);
    expect(m.witness).toEqual({ add_checkpoint_url: `${entityId}/witness/add-checkpoint`, vkey: (await witnessOf(a)).vkey });
    expect(parseCosignerVkey(m.witness.vkey).name).toBe(`${new URL(entityId).host}/witness`);
    // audit_log.verifier_key is the key the served checkpoint verifies with, named after its origin.
    expect(m.audit_log.verifier_key).toBe(await logKey(a));
    await write(a);
    const note = await checkpointUntil(a, (n) => n.startsWith(m.audit_log.origin));
    expect(() => verifyNote(note, m.audit_log.verifier_key)).not.toThrow();
  });

  it('pinned with --no-witness, nothing is witnessed; pinned again with witnessing, both ways', async () => {
    const [A, B] = [await self(a), await self(b)];
    const off = await runCli(['peers', 'add', B.entityId, '--thumbprint', B.thumbprint, '--no-witness'], at(a));
    expect(off.code, off.stderr).toBe(0);
    expect((await witnessOf(a)).logs).toEqual([]);
    expect(await cosigners(a)).toEqual([]);

    // B's admin had witnessed A's log by hand before: that entry stays the admin's.
    const byHand = await runCli(['federation', 'witness', 'add', (await metadataOf(a)).audit_log.origin, '--vkey', await logKey(a)], at(b));
    expect(byHand.code, byHand.stderr).toBe(0);

    const on = await runCli(['peers', 'add', B.entityId, '--thumbprint', B.thumbprint], at(a));
    expect(on.code, on.stderr).toBe(0);
    const bMeta = await metadataOf(b);
    expect(on.stdout).toContain(`witnessing its log ${bMeta.audit_log.origin}`);
    expect(on.stdout).toContain(`its witness ${B.entityId}/witness/add-checkpoint is asked`);
    expect((await b.api('POST', '/api/v1/federation/peers', { body: A })).status).toBe(201);

    expect((await witnessOf(a)).logs).toEqual([expect.objectContaining({ origin: bMeta.audit_log.origin, viaEntity: B.entityId })]);
    expect(await cosigners(a)).toEqual([expect.objectContaining({ url: bMeta.witness.add_checkpoint_url, vkey: bMeta.witness.vkey, viaEntity: B.entityId })]);
    expect((await witnessOf(b)).logs).toEqual([expect.objectContaining({ origin: (await metadataOf(a)).audit_log.origin, viaEntity: null })]);
    expect((await cosigners(b)).map((w) => w.viaEntity)).toEqual([A.entityId]);
    const added = await entries(a, 'witness.cosigner.add');
    expect(added.at(-1)).toMatchObject({ subject: { type: 'cosigning-witness', id: bMeta.witness.add_checkpoint_url }, details: { viaEntity: B.entityId } });
  });

  it("serves A's new checkpoint with B's cosignature, and audit verify --witnesses passes with B's key", async () => {
    const bWitness = (await metadataOf(b)).witness.vkey;
    await write(a);
    const note = await checkpointUntil(a, (n) => cosignedBy(n, bWitness));
    expect(cosignedBy(note, bWitness)).toBe(true);
    // B holds A's log at the size it cosigned.
    const origin = (await metadataOf(a)).audit_log.origin;
    expect((await witnessOf(b)).logs.find((l) => l.origin === origin)!.size).toBe(sizeOf(note));

    // And the other way: B's checkpoints are cosigned by A.
    const aWitness = (await metadataOf(a)).witness.vkey;
    await write(b);
    expect(cosignedBy(await checkpointUntil(b, (n) => cosignedBy(n, aWitness)), aWitness)).toBe(true);

    const policy = path.join(dir, 'policy.txt');
    const aLog = await logKey(a); // as read from A's metadata by an auditor who trusts it
    writeFileSync(policy, `log ${aLog}\nwitness B ${bWitness}\nquorum B\n`);
    const verified = await runCli(['audit', 'verify', '--key', aLog, '--witnesses', policy], { ...at(a), MEETPLANE_CONFIG: path.join(dir, 'config.json') });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('cosigned by B');
  });

  it("picks up a peer's new witness key when it re-reads the peer (audit cosign does it at once)", async () => {
    const B = await self(b);
    const before = (await metadataOf(b)).witness.vkey;
    // B's witness key replaced (what it cosigned for A stays): its configuration names the new one.
    await b.database.db.delete(witnessKeys);
    const after = (await metadataOf(b)).witness.vkey;
    expect(after).not.toBe(before);
    await write(a);
    const cosign = await runCli(['--json', 'audit', 'cosign'], at(a));
    expect(cosign.code, cosign.stdout + cosign.stderr).toBe(0);
    expect(JSON.parse(cosign.stdout).items).toEqual([expect.objectContaining({ url: `${B.entityId}/witness/add-checkpoint`, outcome: 'cosigned' })]);
    expect((await cosigners(a))[0]!.vkey).toBe(after);
    expect(cosignedBy((await a.api('GET', '/api/v1/audit/checkpoint')).text, after)).toBe(true);
    const rekeyed = (await entries(a, 'witness.cosigner.add')).at(-1)!;
    expect(rekeyed).toMatchObject({ before: { vkey: before }, after: { vkey: after }, details: { viaEntity: B.entityId } });
  });

  it('stops both when a peer is unpinned, keeps what was added by hand, and resumes from what it cosigned', async () => {
    const [A, B] = [await self(a), await self(b)];
    const bMeta = await metadataOf(b);
    // A's admin also asks a witness of their own choosing, by hand.
    const own = generateNoteKey('own.example/witness');
    const ownVkey = cosignerVkey(own.name, own.publicKey);
    const ownUrl = 'http://127.0.0.1:9/witness/add-checkpoint';
    expect((await runCli(['audit', 'witnesses', 'add', ownUrl, '--vkey', ownVkey], at(a))).code).toBe(0);
    const cosignedSize = (await witnessOf(a)).logs.find((l) => l.origin === bMeta.audit_log.origin)!.size;
    expect(cosignedSize).toBeGreaterThan(0);

    const removed = await runCli(['peers', 'remove', B.entityId], at(a));
    expect(removed.code, removed.stderr).toBe(0);
    expect((await witnessOf(a)).logs).toEqual([]);
    expect(await cosigners(a)).toEqual([expect.objectContaining({ url: ownUrl, viaEntity: null })]);
    expect((await entries(a, 'witness.log.stop')).at(-1)).toMatchObject({ subject: { id: bMeta.audit_log.origin }, details: { viaEntity: B.entityId, reason: 'unpinned' } });
    expect((await entries(a, 'witness.cosigner.remove')).at(-1)).toMatchObject({ subject: { id: bMeta.witness.add_checkpoint_url }, details: { viaEntity: B.entityId, reason: 'unpinned' } });

    // B's next checkpoint finds no witness at A; A's next checkpoint is not sent to B.
    await write(b);
    const fromB = await runCli(['--json', 'audit', 'cosign'], at(b));
    expect(JSON.parse(fromB.stdout).items).toEqual([expect.objectContaining({ url: `${A.entityId}/witness/add-checkpoint`, outcome: 'refused', detail: expect.stringMatching(/^404/) })]);
    await write(a);
    const fromA = await runCli(['--json', 'audit', 'cosign'], at(a));
    const items = JSON.parse(fromA.stdout).items as Array<{ url: string; size: number }>;
    expect(items.map((i) => i.url)).toEqual([ownUrl]);
    const served = (await a.api('GET', '/api/v1/audit/checkpoint')).text;
    expect(sizeOf(served)).toBe(items[0]!.size);
    expect(cosignedBy(served, bMeta.witness.vkey)).toBe(false);

    // B unpins A: B's hand-added witnessing of A's log stays; B stops asking A.
    expect((await b.api('DELETE', `/api/v1/federation/peers?entityId=${encodeURIComponent(A.entityId)}`)).status).toBe(204);
    expect((await witnessOf(b)).logs).toEqual([expect.objectContaining({ origin: (await metadataOf(a)).audit_log.origin, viaEntity: null })]);
    expect(await cosigners(b)).toEqual([]);

    // Pinned again, A witnesses B's log from the size it had cosigned: no rollback past it.
    expect((await a.api('POST', '/api/v1/federation/peers', { body: B })).status).toBe(201);
    expect((await witnessOf(a)).logs).toEqual([expect.objectContaining({ origin: bMeta.audit_log.origin, size: cosignedSize, viaEntity: B.entityId })]);
  });

  it("does not let one peer's metadata take over another peer's log or witness", async () => {
    const B = await self(b);
    const bMeta = await metadataOf(b);
    const mallory = 'https://mallory.example';
    await a.database.db.insert(federationPeers).values({ entityId: mallory, thumbprint: B.thumbprint });
    const forged = generateNoteKey(bMeta.audit_log.origin);
    const view = await applyPeerWitnessing(a.database.db, FEDERATION_ACTOR, mallory, {
      log: { origin: bMeta.audit_log.origin, vkey: forged.vkey },
      witness: { url: bMeta.witness.add_checkpoint_url, vkey: bMeta.witness.vkey },
      notes: [],
    });
    expect(view).toEqual({ log: null, witness: null, notes: [`${bMeta.audit_log.origin} is witnessed for ${B.entityId}; not taken over`, `${bMeta.witness.add_checkpoint_url} is asked for ${B.entityId}; not taken over`] });
    expect((await witnessOf(a)).logs).toEqual([expect.objectContaining({ origin: bMeta.audit_log.origin, vkey: await logKey(b), viaEntity: B.entityId })]);
  });
});
