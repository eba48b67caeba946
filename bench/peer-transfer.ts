// npm run bench:peer-transfer [-- --quick]: a transfer between two meetplane instances on loopback
// (both real servers, in this process, on the embedded database and then on PostgreSQL), as
// test/peer-transfers/pull.db.test.ts sets them up: pinned peers, a co-op and a cluster with file://
// storage on each, a BBB double per cluster. Measured, on each backend:
//   pull        the target's pull of a frozen tenancy's package (capability, manifest, every file
//               over HTTP with a fresh DPoP proof each, SHA-256, durable, recorded in its database,
//               the tenancy created, the source told), MB/s of the files; baseline: the local copy
//               engine (copyFiles, the same files, disk to disk, durable, SHA-256) in the same round.
//               The 2,000-file recordings-like tree of bench:transfer, BENCH_PEER_MB (default 2048,
//               --quick 256) in 40 recordings; BENCH_RUNS rounds (default 3, --quick 1), median.
//   latency     one protocol step each, ms, median of BENCH_STEPS small transfers (default 9,
//               --quick 5; one recording of three small files): offer → offered at the target; the
//               target's answer → accepted at the source; package → manifest at the target (the
//               source hashing the files, its content and signature included); verified → the
//               source sees it. Baseline: one bare signed message, the floor of any step: signed
//               with the instance's federation key and POSTed over loopback HTTP to a server that
//               only reads it and answers 200, measured between the steps.
// Cases: pull-<files>-files-<MB>MB (MB/s, baseline the local copy engine), step-offer, step-answer,
// step-package, step-verified (ms, baseline one bare signed POST).
// BENCH_CPU_PROFILE=<folder> writes a CPU profile of each pull there (pull-<backend>-<round>.cpuprofile).
// Both instances share this process (one event loop, while the machine has more cores), so the
// figures are conservative. Prints one JSON line per figure {"bench","case","backend","value","unit",
// "baseline","ratio"} (ratio = value / baseline; higher is better for MB/s, lower for ms); asserts nothing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { FileStorage } from '../server/storage/file.js';
import { copyFiles, MemoryCopyState, type CopyFile } from '../server/transfers/copy.js';
import { pollClusters } from '../server/clusters/health.js';
import { federationSigningKey } from '../server/federation/keys.js';
import { LOCAL_OPERATOR } from '../server/auth/principal.js';
import { issueToken } from '../server/accounts/service.js';
import { armFailpoint } from '../server/failpoints.js';
import { peerTransfers } from '../server/peer-transfers/table.js';
import { packageTransfer } from '../server/peer-transfers/package.js';
import { pullTransfer } from '../server/peer-transfers/pull.js';
import { deliverDueMessages } from '../server/peer-transfers/due.js';
import { deliverOutgoing } from '../server/peer-transfers/outbox.js';
import { signMessage, VERIFIED_TYP } from '../federation/transfer-messages.js';
import { startBbbPair, type BbbPair } from '../test/support/bbb/pair.js';
import { internalMeetingId, writeRecording } from '../test/support/bbb/recordings.js';
import { generate, plan } from './recording-tree.js';
import { fmt, MB, QUICK, RUNS, settle, treeBytes } from './copy-support.js';
import { figure, profiled, scratchPostgres } from './support.js';
import { startInstance, type Instance } from './peer-instance.js';

const BENCH = 'peer-transfer';
const totalBytes = treeBytes('BENCH_PEER_MB', 256, 2048);
const rounds = QUICK ? Math.min(RUNS, Number(process.env.BENCH_RUNS ?? 1)) : RUNS;
const steps = Math.max(1, Number(process.env.BENCH_STEPS ?? (QUICK ? 5 : 9)));
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
const ms = async (work: () => Promise<unknown>) => {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
};

interface World {
  a: Instance;
  b: Instance;
  bbb: BbbPair;
  B: string;
  uk: string;
  ukCluster: string;
  quebec: string;
  montreal: string;
  bAdmin: string;
}

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;
/** A POST through the API that must answer 201 (as test/support/fixtures.ts creates things). */
async function created(s: Instance, p: string, body: Record<string, unknown>) {
  const res = await s.api('POST', p, { body });
  if (res.status !== 201) throw new Error(`POST ${p}: ${res.status} ${res.text}`);
  return res.json as { id: string; slug: string };
}
const createCoop = (s: Instance, over: Record<string, unknown>) => created(s, '/api/v1/coops', { slug: `coop-${uniq()}`, contactEmail: 'ops@north.example', ...over });
const createCluster = (s: Instance, coop: string, over: Record<string, unknown>) => created(s, '/api/v1/clusters', { coop, name: `bbb-${uniq()}`, capacity: 500, ...over });
const createTenancy = (s: Instance, coop: string, cluster: string, over: Record<string, unknown>) => created(s, '/api/v1/tenancies', { slug: `t-${uniq()}`, coop, cluster, ...over });

/** An admin of `coop` with a transfer-approval grant and an access token (who answers the offer at the target). */
async function coopAdminToken(s: Instance, coop: string): Promise<string> {
  const acc = await created(s, '/api/v1/accounts', { email: `m-${uniq()}@example.org`, name: 'Admin', coop });
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  await created(s, '/api/v1/grants', { from: root.id, account: acc.id, role: 'coop_admin', scope: { type: 'coop', id: coop }, transferApproval: true, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'runs the co-op' });
  return (await issueToken(s.database.db, LOCAL_OPERATOR, acc.id, 'bench', null)).token;
}

async function world(backend: 'pglite' | 'postgres'): Promise<World> {
  const a = await startInstance(backend, { TRANSFER_MIN_NOTICE_DAYS: '0' });
  const b = await startInstance(backend);
  const bbb = await startBbbPair({ source: 'src-secret-bench-18', target: 'dst-secret-bench-18' });
  const uk = await createCoop(a, { name: 'Harbour Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });
  const ukCluster = await createCluster(a, uk.id, { country: 'GB', apiUrl: bbb.source.url, secret: 'src-secret-bench-18' });
  const quebec = await createCoop(b, { name: 'Coop Érable', jurisdiction: 'CA', legalRegime: 'other', pipedaSubject: true });
  const montreal = await createCluster(b, quebec.id, { name: 'Montreal', country: 'CA', apiUrl: bbb.target.url, secret: 'dst-secret-bench-18' });
  for (const [s, id, dir] of [[a, ukCluster.id, bbb.dirs.source], [b, montreal.id, bbb.dirs.target]] as const) {
    const res = await s.api('PUT', `/api/v1/clusters/${id}/storage`, { body: { url: `file://${dir}` } });
    if (res.status !== 200) throw new Error(`storage: ${res.text}`);
  }
  await pollClusters(b.database.db, b.box, { outbound: b.outbound });
  const bAdmin = await coopAdminToken(b, quebec.id);
  const self = async (s: Instance) => (await s.api('GET', '/api/v1/federation')).json.self as { entityId: string; thumbprint: string };
  const [A, B] = [await self(a), await self(b)];
  for (const [s, e] of [[a, B], [b, A]] as const) {
    const res = await s.api('POST', '/api/v1/federation/peers', { body: { ...e, witness: false } });
    if (res.status !== 201) throw new Error(`pin: ${res.text}`);
  }
  return { a, b, bbb, B: B.entityId, uk: uk.id, ukCluster: ukCluster.id, quebec: quebec.slug, montreal: montreal.slug, bAdmin };
}

const rowAt = async (s: Instance, id: string) => (await s.database.db.select().from(peerTransfers).where(eq(peerTransfers.id, id)))[0]!;

/** A tenancy of A offered to B (timed), accepted there (timed), frozen at A. */
async function offeredAndAccepted(w: World, name: string) {
  const t = await createTenancy(w.a, w.uk, w.ukCluster, { name, retentionDays: 3650 });
  let offered!: { status: number; json: { id: string; state: string }; text: string };
  const offerMs = await ms(async () => (offered = await w.a.api('POST', '/api/v1/peer-transfers', { body: { tenancy: t.id, peer: w.B, targetCoop: w.quebec, targetCluster: w.montreal, processingAgreement: 'a'.repeat(64) } })));
  if (offered.json?.state !== 'offered') throw new Error(`offer: ${offered.text}`);
  const id = offered.json.id;
  const answerMs = await ms(async () => {
    const res = await w.b.api('POST', `/api/v1/peer-transfers/${id}/answer`, { token: w.bAdmin, body: { decision: 'accepted' } });
    if (res.status !== 200) throw new Error(`answer: ${res.text}`);
  });
  if ((await rowAt(w.a, id)).state !== 'accepted') throw new Error('the source did not see the acceptance when the answer returned');
  await w.a.database.db.execute(sql`update tenancies set state = 'frozen' where id = ${t.id}`);
  return { id, tenancy: t, offerMs, answerMs };
}

/** Packages at A; the time until B holds the manifest (pulling). */
async function packaged(w: World, id: string): Promise<number> {
  const row = await rowAt(w.a, id);
  const took = await ms(() => packageTransfer(w.a.deps, LOCAL_OPERATOR, row));
  if ((await rowAt(w.b, id)).state !== 'pulling') throw new Error('the target did not hold the manifest when packaging returned');
  return took;
}

/** The floor of a protocol step: one message signed with A's federation key, POSTed over loopback to a bare server. */
async function bareSignedPost(w: World, sink: string): Promise<number> {
  return ms(async () => {
    const jwt = await signMessage(VERIFIED_TYP, { iss: w.a.url, aud: w.B, transfer_id: crypto.randomUUID(), manifest_sha256: 'e'.repeat(64), files: 1, bytes: 1, gateway_url: `${w.B}/bigbluebutton/x` }, await federationSigningKey(w.a.database.db, w.a.box));
    const res = await w.a.outbound.fetch(sink, { method: 'POST', body: jwt, headers: { 'content-type': 'application/jwt' }, redirect: 'error' });
    await res.text();
  });
}

async function latencies(w: World, backend: string, sink: string): Promise<void> {
  const taken = { offer: [] as number[], answer: [] as number[], pkg: [] as number[], verified: [] as number[], floor: [] as number[] };
  for (let i = 0; i < steps; i++) {
    const t = await offeredAndAccepted(w, `Step School ${i}`);
    await writeRecording(w.bbb.dirs.source, { meetingId: `step-${t.tenancy.slug}`, name: 'Lesson', host: w.bbb.source.origin, meta: { 'meetplane-tenancy': t.tenancy.id }, files: { 'shapes.svg': `<svg id="${i}"/>`, 'video/webcams.webm': `webm ${i}` } });
    const pkg = await packaged(w, t.id);
    // The pull, with the verified message held back (as if A could not be reached), so its delivery is timed alone.
    armFailpoint('throw:peer-transfers.deliver');
    await deliverDueMessages(w.b.deps);
    armFailpoint(null);
    const atB = await rowAt(w.b, t.id);
    if (atB.state !== 'pulled') throw new Error(`small pull: ${atB.state} ${atB.lastError}`);
    const verified = await ms(() => deliverOutgoing(w.b.deps, atB));
    if ((await rowAt(w.a, t.id)).state !== 'verified') throw new Error('the source did not see the verification');
    taken.offer.push(t.offerMs);
    taken.answer.push(t.answerMs);
    taken.pkg.push(pkg);
    taken.verified.push(verified);
    for (let j = 0; j < 3; j++) taken.floor.push(await bareSignedPost(w, sink));
  }
  const floor = median(taken.floor);
  figure(BENCH, 'step-offer', backend, median(taken.offer), 'ms', floor);
  figure(BENCH, 'step-answer', backend, median(taken.answer), 'ms', floor);
  figure(BENCH, 'step-package', backend, median(taken.pkg), 'ms', floor);
  figure(BENCH, 'step-verified', backend, median(taken.verified), 'ms', floor);
}

/** The tree's 40 recordings at A, tagged with `tenancy`; moved (renamed, not rewritten) from the previous round's. */
async function placeTree(w: World, tenancyId: string, round: number, previous: string[] | null): Promise<string[]> {
  const byRecording = new Map<string, CopyFile[]>();
  for (const f of plan(totalBytes)) {
    const [, rec, ...rest] = f.path.split('/');
    const rel = rest.join('/');
    if (rel === 'metadata.xml') continue; // the recording's own metadata.xml is written below
    byRecording.set(rec!, [...(byRecording.get(rec!) ?? []), { path: rel, size: f.size }]);
  }
  const ids: string[] = [];
  let i = 0;
  for (const files of byRecording.values()) {
    const meetingId = `bench-${round}-${i}`;
    const startTime = Date.now() - 3_600_000;
    const recordId = internalMeetingId(meetingId, startTime);
    const dir = path.join(w.bbb.dirs.source, 'published', 'presentation', recordId);
    if (previous) await rename(path.join(w.bbb.dirs.source, 'published', 'presentation', previous[i]!), dir);
    else generate(dir, files);
    await writeRecording(w.bbb.dirs.source, { recordId, meetingId, name: `Lecture ${i}`, host: w.bbb.source.origin, meta: { 'meetplane-tenancy': tenancyId }, startTime });
    ids.push(recordId);
    i++;
  }
  return ids;
}

async function throughput(w: World, backend: string): Promise<void> {
  const results: { pull: number; copy: number; bytes: number; files: number }[] = [];
  let previous: string[] | null = null;
  for (let r = 0; r < rounds; r++) {
    const t = await offeredAndAccepted(w, `Lecture Hall ${r}`);
    previous = await placeTree(w, t.tenancy.id, r, previous);
    await packaged(w, t.id);
    const manifest = JSON.parse((await rowAt(w.a, t.id)).manifest!) as { files: CopyFile[] };
    const files = manifest.files.map((f) => ({ path: f.path, size: f.size }));
    const bytes = files.reduce((n, f) => n + f.size, 0);
    await settle();
    // Baseline: the local copy engine, same files, disk to disk, durable.
    const dst = mkdtempSync(path.join(tmpdir(), 'mp-bench-peer-copy-'));
    const copy = await ms(() => copyFiles({ from: new FileStorage(w.bbb.dirs.source), to: new FileStorage(dst, { fsync: true }), files, state: new MemoryCopyState() }));
    rmSync(dst, { recursive: true, force: true });
    await settle();
    const pull = await profiled(`pull-${backend}-${r}`, () => ms(async () => pullTransfer(w.b.deps, await rowAt(w.b, t.id))));
    const [atB, atA] = [await rowAt(w.b, t.id), await rowAt(w.a, t.id)];
    if (atB.state !== 'pulled' || atA.state !== 'verified') throw new Error(`pull: target ${atB.state} (${atB.lastError}), source ${atA.state}`);
    rmSync(path.join(w.bbb.dirs.target, 'published'), { recursive: true, force: true });
    await settle();
    results.push({ pull: pull / 1000, copy: copy / 1000, bytes, files: files.length });
    console.error(`${backend} round ${r + 1}: ${files.length} files ${fmt(bytes / MB, 0)} MB: local copy ${fmt(copy / 1000, 2)} s, pull ${fmt(pull / 1000, 2)} s`);
  }
  const m = [...results].sort((p, q) => p.copy / p.pull - q.copy / q.pull)[Math.floor(results.length / 2)]!;
  figure(BENCH, `pull-${m.files}-files-${fmt(m.bytes / MB, 0)}MB`, backend, m.bytes / MB / m.pull, 'MB/s', m.bytes / MB / m.copy);
}

async function main(): Promise<void> {
  const sinkServer: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => sinkServer.listen(0, '127.0.0.1', r));
  const sink = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}/federation/transfers`;
  const backends: ('pglite' | 'postgres')[] = ['pglite'];
  const probe = await scratchPostgres();
  if (probe) {
    await probe.drop();
    backends.push('postgres');
  } else console.error('postgres skipped: no server at BENCH_DATABASE_URL / DATABASE_URL / 127.0.0.1:5432');
  for (const backend of backends) {
    const w = await world(backend);
    try {
      await latencies(w, backend, sink);
      await throughput(w, backend);
    } finally {
      await w.bbb.close();
      await w.b.close();
      await w.a.close();
    }
  }
  sinkServer.close();
}

await main();
