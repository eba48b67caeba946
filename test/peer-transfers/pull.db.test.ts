// The package of a transfer between instances, pulled by the target: A (a UK co-op, its recordings on
// a BBB double's disk) packages an accepted transfer of a frozen tenancy; B (a Québec co-op, its
// cluster on another double's disk) pulls every file the manifest names with capabilities bound to
// its federation key (DPoP), resuming a file cut off mid-way, checks each SHA-256, and tells A.
// Refused: a capability for another key, a capability used with another key's proof, a proof used
// twice, a file the manifest does not name, bytes that differ from the manifest (the file is not
// kept, the pull fails, audited), a manifest changed after it was sent.
// The freeze between instances belongs to the lifecycle (members' notice first), not built yet:
// these tests freeze the tenancy at A directly in its database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile, writeFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair } from 'jose';
import { startSsoServer } from '../oidc/helpers.js';
import { startBbbPair, type BbbPair } from '../support/bbb/pair.js';
import { writeRecording } from '../support/bbb/recordings.js';
import { createTenancy } from '../support/fixtures.js';
import { boxOf as box, entityOf as self, peerDepsOf as deps, pinEachOther, ukAndQuebec, type Entity } from '../support/peer-pair.js';
import type { TestServer } from '../support/server.js';
import { federationSigningKey } from '../../server/federation/keys.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { armFailpoint } from '../../server/failpoints.js';
import { createDpopProof } from '../../federation/dpop.js';
import { MANIFEST_TYP, signMessage } from '../../federation/transfer-messages.js';
import { peerTransfers, peerTransferFiles } from '../../server/peer-transfers/table.js';
import { packageTransfer } from '../../server/peer-transfers/package.js';
import { deliverDueMessages } from '../../server/peer-transfers/due.js';

let a: TestServer, b: TestServer;
let A: Entity, B: Entity;
let bbb: BbbPair;
let uk: { id: string };
let ukCluster: { id: string };
let quebec: { id: string; slug: string };
let montreal: { id: string; slug: string };
let bAdmin: { token: string };
const agreement = createHash('sha256').update('dpa').digest('hex');
const big = Buffer.alloc(3 * 1024 * 1024, 7); // a file large enough to be read from an offset

const rowAt = async (s: TestServer, id: string) => (await s.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, id)))[0]!;
const actions = async (s: TestServer, id: string) =>
  (await s.api('GET', `/api/v1/audit/entries?subjectType=peer-transfer&subject=${id}&limit=100`)).json.items.map((e: { json: { action: string } }) => e.json.action) as string[];
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function filesUnder(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, sha(await readFile(join(dir, e.name))));
    }
  };
  await walk(root, '');
  return out;
}

/**
 * The files at B are the manifest's: the source's bytes, except each metadata.xml, which links B's
 * cluster's playback host and nothing of A's, and is recorded with its own SHA-256 and the source's.
 */
async function expectRelinked(files: Array<{ path: string; sha256: string }>, recorded: Array<typeof peerTransferFiles.$inferSelect>) {
  const atTarget = await filesUnder(bbb.dirs.target);
  const metadata = files.filter((f) => f.path.endsWith('/metadata.xml'));
  expect(metadata.length).toBeGreaterThan(0);
  for (const f of files) {
    const record = recorded.find((r) => r.path === f.path)!;
    if (!f.path.endsWith('/metadata.xml')) {
      expect(atTarget.get(f.path), f.path).toBe(f.sha256);
      expect(record).toMatchObject({ sha256: f.sha256, sourceSha256: null });
      continue;
    }
    const xml = await readFile(join(bbb.dirs.target, f.path), 'utf8');
    expect(xml).toContain(`<link>${bbb.target.origin}/playback/presentation/2.3/`);
    expect(xml).not.toContain(bbb.source.origin);
    expect(record).toMatchObject({ sha256: atTarget.get(f.path), size: Buffer.byteLength(xml), sourceSha256: f.sha256 });
  }
}

/** A tenancy of A with recordings, offered to B's co-op, accepted there, frozen at A. */
async function acceptedAndFrozen(name: string, recordings: number) {
  const t = await createTenancy(a, uk.id, ukCluster.id, { name, retentionDays: 3650 });
  const written = [];
  for (let i = 0; i < recordings; i++)
    written.push(
      await writeRecording(bbb.dirs.source, {
        meetingId: `${t.slug}-room-${i}`,
        name: `Lesson ${i}`,
        host: bbb.source.origin,
        meta: { 'meetplane-tenancy': t.id },
        state: i === 2 ? 'unpublished' : 'published',
        files: { 'shapes.svg': `<svg id="${t.slug}-${i}"/>`, 'video/webcams.webm': i === 0 ? big : `webm ${i}` },
      }),
    );
  const offered = await a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: B.entityId, targetCoop: quebec.slug, targetCluster: montreal.slug, processingAgreement: agreement } });
  expect(offered.json.state, offered.text).toBe('offered');
  const accepted = await b.api('POST', `/api/v1/peer-transfers/${offered.json.id}/answer`, { token: bAdmin.token, body: { decision: 'accepted' } });
  expect(accepted.status, accepted.text).toBe(200);
  await a.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${t.id}`);
  return { id: offered.json.id as string, tenancy: t, written };
}

beforeAll(async () => {
  [a, b] = [await startSsoServer({ WORKER: 'off', TRANSFER_MIN_NOTICE_DAYS: '0' }), await startSsoServer({ WORKER: 'off' })];
  [A, B] = [await self(a), await self(b)];
  bbb = await startBbbPair({ source: 'src-secret-18', target: 'dst-secret-18' });
  ({ uk, ukCluster, quebec, montreal, bAdmin } = await ukAndQuebec(a, b, bbb, { source: 'src-secret-18', target: 'dst-secret-18' }));
  await pinEachOther(a, b, { witness: false });
}, 120_000);

afterAll(async () => {
  armFailpoint(null);
  await bbb?.close();
  for (const s of [b, a]) await s?.stop();
});

describe('a package pulled by the target', () => {
  let t: Awaited<ReturnType<typeof acceptedAndFrozen>>;

  it('packages only a frozen tenancy of an accepted transfer, and tells the target where the manifest is', async () => {
    t = await acceptedAndFrozen('Harbour School', 3);
    await a.database.db.execute(sql`update tenancies set state = 'active' where id = ${t.tenancy.id}`);
    await expect(packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id))).rejects.toThrow(/must be frozen/);
    await a.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${t.tenancy.id}`);
    const packaged = await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    expect(packaged).toMatchObject({ state: 'packaged', nextAttemptAt: null, lastError: null });
    const manifest = JSON.parse(packaged.manifest!) as { files: Array<{ path: string; size: number; sha256: string }> };
    // Every file of the three recordings (two formats' files and metadata.xml each), with the bytes' SHA-256.
    const onDisk = await filesUnder(bbb.dirs.source);
    const mine = [...onDisk].filter(([p]) => t.written.some((w) => p.includes(w.recordId)));
    expect(manifest.files.map((f) => f.path).sort()).toEqual(mine.map(([p]) => p).sort());
    for (const f of manifest.files) expect(f.sha256).toBe(onDisk.get(f.path));
    const atB = await rowAt(b, t.id);
    expect(atB).toMatchObject({ state: 'pulling', manifestSha256: packaged.manifestSha256 });
  });

  it('pulls every file into the accepted cluster, continuing after a cut, and A learns it is verified', async () => {
    // The pull fails part of the way (as a dropped connection would); the next attempt continues it
    // (a file cut off inside is resumed with a Range request: the bytes from an offset are checked below).
    armFailpoint('throw:copy.chunk:6');
    await deliverDueMessages(deps(b));
    armFailpoint(null);
    const afterCut = await rowAt(b, t.id);
    expect(afterCut.state).toBe('pulling');
    expect(afterCut.lastError).toMatch(/failpoint copy.chunk/);
    await deliverDueMessages({ ...deps(b), transfer: { ...deps(b).transfer, now: () => new Date(Date.now() + 60_000) } });
    expect((await rowAt(b, t.id)).state).toBe('pulled');
    const manifest = JSON.parse((await rowAt(a, t.id)).manifest!) as { files: Array<{ path: string; sha256: string }> };
    const atTarget = await filesUnder(bbb.dirs.target);
    const recorded = await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id));
    expect(recorded.length).toBe(manifest.files.length);
    // Every file is the source's bytes, except metadata.xml: checked, then rewritten to link B's playback host.
    await expectRelinked(manifest.files.filter((f) => t.written.some((w) => f.path.includes(w.recordId))), recorded);
    expect([...atTarget.keys()].filter((p) => p.endsWith('.partial'))).toEqual([]);
    expect((await rowAt(a, t.id)).state).toBe('verified');
    const shown = (await b.api('GET', `/api/v1/peer-transfers/${t.id}`, { token: bAdmin.token })).json;
    expect(shown.progress).toMatchObject({ filesDone: manifest.files.length, filesTotal: manifest.files.length });
    expect(shown.progress.bytesDone).toBe(shown.progress.bytesTotal);
    expect(await actions(a, t.id)).toEqual(expect.arrayContaining(['peer-transfer.package', 'peer-transfer.verified']));
    expect(await actions(b, t.id)).toEqual(expect.arrayContaining(['peer-transfer.manifest-received', 'peer-transfer.pulled']));
  });

  it('serves capabilities only to the target instance\'s key, and files only with that key\'s fresh proofs', async () => {
    const capUrl = `${A.entityId}/federation/transfers/${t.id}/capability`;
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), alg: 'ES256' };
    const asStranger = await fetch(capUrl, { method: 'POST', headers: { dpop: await createDpopProof(stranger, { htm: 'POST', htu: capUrl }) } });
    expect(asStranger.status).toBe(401);
    expect(((await asStranger.json()) as { detail: string }).detail).toMatch(/not signed by a federation key of/);
    const bKey = await federationSigningKey(b.database.db, box(b));
    const proof = await createDpopProof(bKey, { htm: 'POST', htu: capUrl });
    const granted = await fetch(capUrl, { method: 'POST', headers: { dpop: proof } });
    expect(granted.status).toBe(200);
    const { capability } = (await granted.json()) as { capability: string };
    expect((await fetch(capUrl, { method: 'POST', headers: { dpop: proof } })).status).toBe(401); // the same proof twice
    const manifestUrl = `${A.entityId}/federation/transfers/${t.id}/manifest`;
    const get = async (url: string, key: typeof bKey, token = capability, headers: Record<string, string> = {}) =>
      fetch(url, { headers: { ...headers, authorization: `DPoP ${token}`, dpop: await createDpopProof(key, { htm: 'GET', htu: url, accessToken: token }) } });
    expect((await get(manifestUrl, bKey)).status).toBe(200);
    const stolen = await get(manifestUrl, stranger);
    expect(stolen.status).toBe(401);
    expect(((await stolen.json()) as { detail: string }).detail).toMatch(/another key/);
    // Without a capability, with a proof only: refused.
    expect((await fetch(manifestUrl, { headers: { dpop: await createDpopProof(bKey, { htm: 'GET', htu: manifestUrl }) } })).status).toBe(401);
    // The bytes of a file from an offset, as a resumed pull asks for them.
    const bigPath = `published/presentation/${t.written[0]!.recordId}/video/webcams.webm`;
    const from = await get(`${A.entityId}/federation/transfers/${t.id}/files/${bigPath}`, bKey, capability, { range: 'bytes=1000-' });
    expect(from.status).toBe(206);
    expect(from.headers.get('content-range')).toBe(`bytes 1000-${big.length - 1}/${big.length}`);
    expect(Buffer.from(await from.arrayBuffer()).equals(big.subarray(1000))).toBe(true);
    // A file the manifest does not name (another tenancy's, or any path at all) is not served.
    const other = await writeRecording(bbb.dirs.source, { meetingId: 'not-in-it', name: 'Other', host: bbb.source.origin, files: { 'shapes.svg': '<svg/>' } });
    const outside = await get(`${A.entityId}/federation/transfers/${t.id}/files/published/presentation/${other.recordId}/shapes.svg`, bKey);
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as { type: string }).type).toMatch(/not-in-manifest$/);

    // Many files in one request: their bytes one after the other, in the order asked, each the manifest's size.
    const filesUrl = `${A.entityId}/federation/transfers/${t.id}/files`;
    const post = async (body: unknown, key = bKey, htm = 'POST') =>
      fetch(filesUrl, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `DPoP ${capability}`, dpop: await createDpopProof(key, { htm, htu: filesUrl, accessToken: capability }) } });
    const listed = (JSON.parse((await rowAt(a, t.id)).manifest!) as { files: Array<{ path: string; size: number; sha256: string }> }).files;
    const asked = [listed[3]!, listed[0]!, listed[5]!];
    const many = await post({ files: asked.map((f) => f.path) });
    expect(many.status).toBe(200);
    expect(many.headers.get('content-length')).toBe(String(asked.reduce((n, f) => n + f.size, 0)));
    const body = Buffer.from(await many.arrayBuffer());
    let at = 0;
    for (const f of asked) expect(sha(body.subarray(at, (at += f.size))), f.path).toBe(f.sha256);
    expect(at).toBe(body.length);
    // Refused whole, before any byte: a path outside the manifest among them, a path twice, no paths,
    // a proof made for a GET, another key's proof.
    const mixed = await post({ files: [listed[0]!.path, `published/presentation/${other.recordId}/shapes.svg`] });
    expect(mixed.status).toBe(404);
    expect((await mixed.json()) as object).toMatchObject({ type: expect.stringMatching(/not-in-manifest$/), path: `published/presentation/${other.recordId}/shapes.svg` });
    expect((await post({ files: [listed[0]!.path, listed[0]!.path] })).status).toBe(400);
    expect((await post({ files: [] })).status).toBe(400);
    expect((await post({ files: [listed[0]!.path], more: 1 })).status).toBe(400);
    expect((await post({ files: [listed[0]!.path] }, bKey, 'GET')).status).toBe(401);
    expect((await post({ files: [listed[0]!.path] }, stranger)).status).toBe(401);
  });

  it('refuses a manifest changed after it was sent', async () => {
    const row = await rowAt(a, t.id);
    const changed = await signMessage(
      MANIFEST_TYP,
      { iss: A.entityId, aud: B.entityId, transfer_id: t.id, offer_sha256: row.offerSha256!, manifest_sha256: 'e'.repeat(64), files: 1, bytes: 1, manifest_url: `${A.entityId}/federation/transfers/${t.id}/manifest`, capability_url: `${A.entityId}/federation/transfers/${t.id}/capability` },
      await federationSigningKey(a.database.db, box(a)),
    );
    const res = await b.api('POST', '/federation/transfers', { token: null, body: changed, headers: { 'content-type': 'application/jwt' } });
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/manifest-changed$/);
    expect((await rowAt(b, t.id)).state).toBe('pulled');
  });
});

describe('bytes that are not what the manifest says', () => {
  it('are not kept: the pull fails, audited, and the source is never told the package verified', async () => {
    const t = await acceptedAndFrozen('Harbour College', 1);
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    // After packaging, one file at the source changes (same size, other bytes).
    const svg = join(t.written[0]!.dir, 'shapes.svg');
    const original = await readFile(svg, 'utf8');
    await writeFile(svg, original.replace('<svg', '<SVG'));
    expect((await stat(svg)).size).toBe(Buffer.byteLength(original));
    await deliverDueMessages(deps(b));
    const atB = await rowAt(b, t.id);
    expect(atB.state).toBe('failed');
    expect(atB.lastError).toMatch(/do not match the manifest/);
    const relative = `published/presentation/${t.written[0]!.recordId}/shapes.svg`;
    expect((await filesUnder(bbb.dirs.target)).has(relative)).toBe(false);
    expect(await actions(b, t.id)).toContain('peer-transfer.pull-failed');
    expect((await rowAt(a, t.id)).state).toBe('packaged');
  });

  it('of another length break the answer off there: nothing of that file is kept, and the pull waits to try again', async () => {
    const t = await acceptedAndFrozen('Harbour Academy', 2);
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    // After packaging, one file at the source grows by a byte (the next files' bytes would shift).
    const svg = join(t.written[0]!.dir, 'shapes.svg');
    await writeFile(svg, `${await readFile(svg, 'utf8')} `);
    await deliverDueMessages(deps(b));
    const atB = await rowAt(b, t.id);
    expect(atB.state).toBe('pulling');
    expect(atB.lastError).toMatch(/shapes\.svg/);
    expect(atB.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    const relative = `published/presentation/${t.written[0]!.recordId}/shapes.svg`;
    expect((await filesUnder(bbb.dirs.target)).has(relative)).toBe(false);
    expect((await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id))).map((r) => r.path)).not.toContain(relative);
    expect((await rowAt(a, t.id)).state).toBe('packaged');
  });
});


describe('a file grown since packaging, asked after others in the same request', () => {
  it('is where the answer breaks off: every byte of the files before it arrives first', async () => {
    const t = await acceptedAndFrozen('Harbour Institute', 2);
    // A file larger than the loopback socket's buffers, so when the source reaches the grown file the
    // bytes before it are still in its own buffers (a slow reader below keeps them full).
    await writeFile(join(t.written[1]!.dir, 'video', 'deskshare.webm'), Buffer.alloc(16 * 1024 * 1024, 3));
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    const svg = join(t.written[0]!.dir, 'shapes.svg');
    await writeFile(svg, `${await readFile(svg, 'utf8')} `);
    const grown = `published/presentation/${t.written[0]!.recordId}/shapes.svg`;
    const listed = (JSON.parse((await rowAt(a, t.id)).manifest!) as { files: Array<{ path: string; size: number; sha256: string }> }).files;
    // The small files first (their bytes race ahead of the socket in the source's buffers), the grown one last.
    const before = listed.filter((f) => f.path !== grown).sort((x, y) => x.size - y.size);
    const bKey = await federationSigningKey(b.database.db, box(b));
    const capUrl = `${A.entityId}/federation/transfers/${t.id}/capability`;
    const granted = await fetch(capUrl, { method: 'POST', headers: { dpop: await createDpopProof(bKey, { htm: 'POST', htu: capUrl }) } });
    const { capability } = (await granted.json()) as { capability: string };
    const filesUrl = `${A.entityId}/federation/transfers/${t.id}/files`;
    const res = await fetch(filesUrl, {
      method: 'POST',
      body: JSON.stringify({ files: [...before.map((f) => f.path), grown] }),
      headers: { 'content-type': 'application/json', authorization: `DPoP ${capability}`, dpop: await createDpopProof(bKey, { htm: 'POST', htu: filesUrl, accessToken: capability }) },
    });
    expect(res.status).toBe(200);
    const received: Buffer[] = [];
    const reader = res.body!.getReader();
    const ending = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        received.push(Buffer.from(value));
        await new Promise((r) => setTimeout(r, 2));
      }
    })().catch((err: Error) => `broke off: ${err.message}`);
    // Every file before the grown one arrives whole; nothing of the grown one does, and the answer
    // breaks off rather than ending as if complete.
    const body = Buffer.concat(received);
    let at = 0;
    for (const f of before) expect(sha(body.subarray(at, (at += f.size))), f.path).toBe(f.sha256);
    expect(body.length).toBe(at);
    expect(ending).toMatch(/^broke off/);
  });
});

describe('a pull cut after metadata.xml was rewritten', () => {
  it('goes on without fetching it again or taking it for a mismatch, and the tenancy links B', async () => {
    const t = await acceptedAndFrozen('Harbour Summer School', 2);
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    armFailpoint('throw:peer-transfers.relinked');
    await deliverDueMessages(deps(b));
    armFailpoint(null);
    const cut = await rowAt(b, t.id);
    expect(cut.state).toBe('pulling');
    expect(cut.lastError).toMatch(/failpoint peer-transfers.relinked/);
    const manifest = JSON.parse((await rowAt(a, t.id)).manifest!) as { files: Array<{ path: string; sha256: string }> };
    const before = await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id));
    await expectRelinked(manifest.files, before);
    // A no longer has the metadata.xml files as packaged: fetching one again would fail the next attempt.
    const originals = await Promise.all(t.written.map((w) => readFile(join(w.dir, 'metadata.xml'))));
    for (const w of t.written) await writeFile(join(w.dir, 'metadata.xml'), '');
    try {
      await deliverDueMessages({ ...deps(b), transfer: { ...deps(b).transfer, now: () => new Date(Date.now() + 60_000) } });
    } finally {
      for (const [i, w] of t.written.entries()) await writeFile(join(w.dir, 'metadata.xml'), originals[i]!);
    }
    const pulled = await rowAt(b, t.id);
    expect(pulled.state, pulled.lastError ?? '').toBe('pulled');
    const after = await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id));
    await expectRelinked(manifest.files, after);
    // Neither fetched nor rewritten again: recorded once, at the cut.
    const doneAt = (rows: typeof before) => new Map(rows.filter((r) => r.path.endsWith('/metadata.xml')).map((r) => [r.path, r.doneAt.getTime()]));
    expect(doneAt(after)).toEqual(doneAt(before));
    expect((await rowAt(a, t.id)).state).toBe('verified');
  });
});


describe('a transfer withdrawn by the source', () => {
  it('leaves nothing of the tenancy at the target: the files pulled so far are removed', async () => {
    const t = await acceptedAndFrozen('Harbour Evening Class', 2);
    await packageTransfer(deps(a), LOCAL_OPERATOR, await rowAt(a, t.id));
    armFailpoint('throw:copy.chunk:4');
    await deliverDueMessages(deps(b));
    armFailpoint(null);
    const pulledSoFar = await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id));
    expect(pulledSoFar.length).toBeGreaterThan(0);
    const cancelled = await a.api('POST', `/api/v1/peer-transfers/${t.id}/cancel`, { body: { reason: 'the members chose to stay' } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ state: 'cancelled', delivery: { nextAttemptAt: null, lastError: null } });
    expect((await rowAt(b, t.id)).state).toBe('cancelled');
    const atTarget = await filesUnder(bbb.dirs.target);
    for (const w of t.written) expect([...atTarget.keys()].filter((p) => p.includes(w.recordId))).toEqual([]);
    expect(await b.database.db.select().from(peerTransferFiles).where(eq(peerTransferFiles.transferId, t.id))).toEqual([]);
    expect(await actions(b, t.id)).toContain('peer-transfer.cancelled');
    // Nothing more is pulled, and nothing is served any more.
    await deliverDueMessages({ ...deps(b), transfer: { ...deps(b).transfer, now: () => new Date(Date.now() + 60_000) } });
    expect((await rowAt(b, t.id)).state).toBe('cancelled');
    expect((await fetch(`${A.entityId}/federation/transfers/${t.id}/manifest`)).status).toBe(404);
  });
});
