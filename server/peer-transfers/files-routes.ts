// The source serves a packaged transfer to its target, and to nobody else. Public routes under
// /federation/transfers/{id}: `capability` hands a short-lived capability to whoever proves (a DPoP
// proof) it holds one of the target instance's federation keys, as the federation's trust vouches
// for them; `manifest`, `tenancy` (the tenancy's content, with its secret: never logged) and
// `files/<path>` answer only a request carrying that capability and a fresh DPoP proof by the same
// key, for the very manifest packaged, and only for files it names. Bytes from an offset (Range:
// bytes=N-) so a pull resumes. `POST files` with `{"files": [path, ...]}` answers many files in one
// request: their bytes one after the other, each exactly the size the manifest names, in the order
// asked (batch-source.ts cuts them apart at the target).
import { Readable, type Writable } from 'node:stream';
import { and, eq, getTableColumns, inArray, isNotNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../http/env.js';
import { ProblemError } from '../http/problem.js';
import { findTenancy } from '../tenancies/service.js';
import { openClusterStorage } from '../transfers/cluster-storage.js';
import { federationPublicKeys, federationSigningKey } from '../federation/keys.js';
import { publicJwks, thumbprints } from '../../federation/entity-statement.js';
import { DpopError, verifyDpopProof } from '../../federation/dpop.js';
import { CapabilityError, checkCapability, issueCapability } from '../../federation/transfer-capability.js';
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import type { Manifest } from '../../federation/transfer-messages.js';
import { resolvePeer } from './peer.js';
import { firstUse, forgetExpiredIds } from './inbox.js';
import { peerTransfers, tenancyContentLabel } from './table.js';
import { peerTransferDeps } from './routes.js';
import type { PeerTransfer } from './deps.js';
import { PULL_BATCH } from './batch-source.js';
import type { RecordingStorage } from '../storage/types.js';

const SERVED = ['packaged', 'verified'] as const;
const refused = (detail: string) => new ProblemError(401, 'pull-refused', 'Pull refused', detail, {}, { 'WWW-Authenticate': 'DPoP algs="ES256 EdDSA"' });
const notServed = () => new ProblemError(404, 'not-found', 'Not found', 'no package of this transfer is served here');

export function peerTransferFileRoutes(deps: Deps, resolver: TrustChainResolver) {
  const app = new Hono<AppEnv>();
  const d = peerTransferDeps(deps, resolver);
  const base = (id: string) => `${deps.config.publicUrl}/federation/transfers/${id}`;
  /** The URL a proof must name: this instance's public URL, not the address the request reached. */
  const publicHtu = (c: { req: { path: string } }) => `${deps.config.publicUrl}${c.req.path}`;

  /** The transfer if its package is served, without the manifest's text (read once per manifest: see indexOf). */
  async function packaged(id: string): Promise<Served> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw notServed();
    const [row] = await deps.db.select(servedColumns).from(peerTransfers).where(and(eq(peerTransfers.id, id), eq(peerTransfers.side, 'source'), inArray(peerTransfers.state, [...SERVED]), isNotNull(peerTransfers.manifest)));
    if (!row) throw notServed();
    return row;
  }

  // A packaged manifest never changes (the source signed its SHA-256), so its files are looked up in an
  // index kept by that SHA-256, not read and parsed again for each of the pull's requests.
  const indexes = new Map<string, Map<string, ManifestFile>>();
  async function indexOf(row: Served): Promise<Map<string, ManifestFile>> {
    let index = indexes.get(row.manifestSha256!);
    if (!index) {
      index = new Map((JSON.parse(await manifestText(row)) as Manifest).files.map((f) => [f.path, f]));
      if (indexes.size >= 16) indexes.delete(indexes.keys().next().value!);
      indexes.set(row.manifestSha256!, index);
    }
    return index;
  }
  async function manifestText(row: Served): Promise<string> {
    const [m] = await deps.db.select({ manifest: peerTransfers.manifest }).from(peerTransfers).where(eq(peerTransfers.id, row.id));
    if (!m?.manifest) throw notServed();
    return m.manifest;
  }

  /** The capability and proof of a request for `row`'s package; refusals name what is wrong, never a secret. */
  async function authorise(c: { req: { header(n: string): string | undefined; method: string; path: string } }, row: Served): Promise<void> {
    const auth = c.req.header('authorization');
    const proof = c.req.header('dpop');
    if (!auth?.startsWith('DPoP ') || !proof) throw refused('send the capability as Authorization: DPoP <capability> with a DPoP proof');
    const token = auth.slice(5).trim();
    try {
      const cap = await checkCapability(token, { issuer: deps.config.publicUrl, keys: publicJwks(await federationPublicKeys(deps.db)), transferId: row.id });
      if (cap.manifest_sha256 !== row.manifestSha256) throw refused('the capability is for another manifest');
      const p = await verifyDpopProof(proof, { htm: c.req.method, htu: publicHtu(c), accessToken: token });
      if (p.jkt !== cap.cnf.jkt) throw refused('the DPoP proof is signed by another key than the capability is bound to');
      if (!(await firstUse(d, `dpop:${p.jkt}`, p.jti, p.iat + 120))) throw refused('the DPoP proof was used already');
    } catch (err) {
      if (err instanceof CapabilityError || err instanceof DpopError) throw refused(err.message);
      throw err;
    }
  }

  app.post('/federation/transfers/:id/capability', async (c) => {
    const row = await packaged(c.req.param('id'));
    const proof = c.req.header('dpop');
    if (!proof) throw refused('prove the target instance\'s federation key with a DPoP proof');
    try {
      const p = await verifyDpopProof(proof, { htm: 'POST', htu: `${base(row.id)}/capability` });
      const peer = await resolvePeer(deps.db, resolver, row.peer);
      if (!(await thumbprints(peer.keys)).includes(p.jkt)) throw refused(`the proof is not signed by a federation key of ${row.peer}`);
      if (!(await firstUse(d, `dpop:${p.jkt}`, p.jti, p.iat + 120))) throw refused('the DPoP proof was used already');
      await forgetExpiredIds(d); // a pull's file requests each leave a proof id: cleared once per capability
      const { token, expiresIn } = await issueCapability(await federationSigningKey(deps.db, deps.box), { issuer: deps.config.publicUrl, transferId: row.id, manifestSha256: row.manifestSha256!, jkt: p.jkt });
      return c.json({ capability: token, token_type: 'DPoP', expires_in: expiresIn, manifest_sha256: row.manifestSha256 }, 200, { 'Cache-Control': 'no-store' });
    } catch (err) {
      if (err instanceof DpopError) throw refused(err.message);
      throw err;
    }
  });

  app.get('/federation/transfers/:id/manifest', async (c) => {
    const row = await packaged(c.req.param('id'));
    await authorise(c, row);
    return c.body(await manifestText(row), 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  });

  app.get('/federation/transfers/:id/tenancy', async (c) => {
    const row = await packaged(c.req.param('id'));
    await authorise(c, row);
    if (!row.tenancyContentSealed) throw notServed();
    return c.body(deps.box.open(row.tenancyContentSealed, tenancyContentLabel(row.id)), 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  });

  app.post('/federation/transfers/:id/files', async (c) => {
    const row = await packaged(c.req.param('id'));
    await authorise(c, row);
    const asked = filesAsked.safeParse(await c.req.json().catch(() => null));
    if (!asked.success) throw new ProblemError(400, 'bad-request', 'Bad request', `send {"files": [path, ...]}: 1 to ${PULL_BATCH.files * 16} distinct paths of the manifest`);
    const named = await indexOf(row);
    const files = asked.data.files.map((p) => named.get(p));
    const missing = asked.data.files.find((p) => !named.has(p));
    if (missing !== undefined) throw new ProblemError(404, 'not-in-manifest', 'Not found', 'the manifest names no such file', { path: missing });
    const tenancy = await findTenancy(deps.db, row.tenancyId!);
    const storage = await openClusterStorage(deps.db, deps.box, tenancy!.clusterId);
    // A file changed since packaging: said in this instance's log, and the answer cut off (the target
    // retries) right there. The bytes before the cut are still on their way to the socket (in this
    // stream's buffers and the server's): the body ends short, and the connection is closed only once
    // they are written, so the target's cut falls inside the changed file, not in one sent before it.
    const cutOff = (err: Error) => {
      c.var.log.warn({ transfer: row.id, reason: err.message }, 'a file of the package changed since packaging: the answer to the target is cut off');
      const outgoing = (c.env as { outgoing?: Writable } | undefined)?.outgoing;
      outgoing?.once('finish', () => outgoing.destroy());
    };
    const stream = Readable.from(endingQuietly(oneAfterAnother(storage, files as ManifestFile[]), cutOff), { objectMode: false });
    stream.once('close', () => void storage.close());
    const bytes = files.reduce((n, f) => n + f!.size, 0);
    return c.body(Readable.toWeb(stream) as ReadableStream, 200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes), 'Cache-Control': 'no-store' });
  });

  app.get('/federation/transfers/:id/files/*', async (c) => {
    const row = await packaged(c.req.param('id'));
    await authorise(c, row);
    const prefix = `/federation/transfers/${row.id}/files/`;
    const path = decodeURIComponent(c.req.path.slice(prefix.length));
    const file = (await indexOf(row)).get(path);
    if (!file) throw new ProblemError(404, 'not-in-manifest', 'Not found', 'the manifest names no such file');
    const start = rangeStart(c.req.header('range'));
    if (start > file.size) throw new ProblemError(416, 'range-not-satisfiable', 'Range not satisfiable', `the file has ${file.size} bytes`, {}, { 'Content-Range': `bytes */${file.size}` });
    const tenancy = await findTenancy(deps.db, row.tenancyId!);
    const storage = await openClusterStorage(deps.db, deps.box, tenancy!.clusterId);
    const stream = await storage.createReadStream(path, { start });
    stream.once('close', () => void storage.close());
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.size - start), 'Cache-Control': 'no-store', 'Accept-Ranges': 'bytes' };
    if (start > 0) headers['Content-Range'] = `bytes ${start}-${file.size - 1}/${file.size}`;
    return c.body(Readable.toWeb(stream) as ReadableStream, start > 0 ? 206 : 200, headers);
  });

  return app;
}

// Every column but the manifest's text (hundreds of KB for thousands of files).
const { manifest: _manifestText, ...servedColumns } = getTableColumns(peerTransfers);
type Served = Omit<PeerTransfer, 'manifest'>;

const filesAsked = z.object({ files: z.array(z.string().min(1).max(1000)).min(1).max(PULL_BATCH.files * 16).refine((ps) => new Set(ps).size === ps.length, 'each path once') }).strict();
type ManifestFile = Manifest['files'][number];
const OPEN_AHEAD = 4;

/**
 * Each file's bytes in turn, exactly as many as the manifest names: a file that has more or fewer
 * (changed since packaging) breaks the answer off there, so the target sees a cut, never a shift.
 */
async function* oneAfterAnother(storage: Pick<RecordingStorage, 'createReadStream'>, files: ManifestFile[]): AsyncGenerator<Buffer> {
  // The next files are opened while one is sent: an open waits on the disk (or a round trip to an SFTP server).
  const opening: Array<Promise<Readable>> = [];
  const open = (f: ManifestFile) => {
    const stream = storage.createReadStream(f.path);
    stream.catch(() => {}); // reported when its turn comes, if it comes
    return stream;
  };
  try {
    for (let i = 0; i < files.length; i++) {
      while (opening.length < OPEN_AHEAD && i + opening.length < files.length) opening.push(open(files[i + opening.length]!));
      yield* fileBytes(await opening.shift()!, files[i]!);
    }
  } finally {
    for (const stream of opening) stream.then((s) => s.destroy(), () => {});
  }
}

/** The bytes of `source` until it fails; then `onError` (which arranges the cut) and an end instead of an error the HTTP server would print, and would answer by dropping the bytes not yet written. */
async function* endingQuietly(source: AsyncGenerator<Buffer>, onError: (err: Error) => void): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (err) {
    onError(err as Error);
  }
}

/** One file's bytes, exactly as many as the manifest names. */
async function* fileBytes(stream: Readable, f: ManifestFile): AsyncGenerator<Buffer> {
  let sent = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      sent += chunk.length;
      if (sent > f.size) throw new Error(`${f.path} has grown since it was packaged`);
      yield chunk;
    }
  } finally {
    stream.destroy();
  }
  if (sent !== f.size) throw new Error(`${f.path} has shrunk since it was packaged`);
}

/** The N of `bytes=N-` (what a resuming puller sends); 0 for none or any other form. */
function rangeStart(range: string | undefined): number {
  const m = range ? /^bytes=(\d{1,15})-$/.exec(range.trim()) : null;
  return m ? Number(m[1]) : 0;
}
