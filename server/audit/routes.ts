// REST for auditors: checkpoints, the verifier key, entries, proofs and
// offline bundles. Everything served here can be checked by the client
// against a signed checkpoint; nothing needs to be trusted.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { Uuid, commonErrors, jsonContent } from '../http/schemas.js';
import { problems } from '../http/problem.js';
import type { Principal } from '../auth/principal.js';
import { PLATFORM } from '../authz/guard.js';
import { findAccount } from '../accounts/service.js';
import { appendAudit } from './trail.js';
import { consistencyProof, inclusionProof } from './merkle.js';
import { buildBundle } from './bundle.js';
import { DbNodeReader, findEntries, indexOfLeaf, listCheckpoints, treeSize } from './store.js';
import { existingPersonRef, forgetPersonKey, person } from './subjects.js';
import { tileRoutes } from './tile-routes.js';
import { sequenceAudit } from './sequencer.js';
import { withCosignatures } from '../federation/cosigning.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const Index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 hash');

const EntryOut = z
  .object({
    index: z.number().int(),
    entry: z.string().openapi({ description: 'The canonical JSON bytes exactly as hashed, base64' }),
    leafHash: z.string().openapi({ description: 'SHA-256(0x00 || entry), base64' }),
    json: z.any().openapi({ description: 'The entry decoded, for reading (verify against `entry`)' }),
  })
  .openapi('AuditEntry');
const ProofOut = z.object({ index: z.number().int(), treeSize: z.number().int(), hashes: z.array(z.string()) }).openapi('InclusionProof');
const ConsistencyOut = z.object({ from: z.number().int(), to: z.number().int(), hashes: z.array(z.string()) }).openapi('ConsistencyProof');


function entryOut(row: { idx: number; entry: Uint8Array; leafHash: Uint8Array }) {
  return { index: row.idx, entry: b64(row.entry), leafHash: b64(row.leafHash), json: JSON.parse(Buffer.from(row.entry).toString('utf8')) };
}

export function auditRoutes(deps: Deps) {
  const { db, signer, guard } = deps;
  // Reading the log is the auditor's (and platform admin's) action on the platform.
  const ensureAuditor = (p: Principal) => guard.allow(p, 'audit.read', PLATFORM, 'audit log');
  const app = router();
  // The read barrier: entries committed before this request are in the log it reads.
  app.use('/audit/*', async (_c, next) => {
    await sequenceAudit(db);
    await next();
  });

  // With the cosignatures witnesses returned for it (C2SP tlog-witness), ready for a witness policy.
  const currentCheckpoint = async () => {
    const { size, note } = await signer.issue(db);
    return withCosignatures(db, size, note);
  };

  async function checkSize(size: number, what: string) {
    const n = await treeSize(db);
    if (size > n) throw problems.badRequest(`${what} ${size} is beyond the log's size ${n}`);
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/checkpoint',
      tags: ['audit'],
      summary: 'The latest signed checkpoint (C2SP signed note); signs a new one if the log grew',
      responses: { 200: { description: 'Signed note', content: { 'text/plain': { schema: z.string() } } }, ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      return c.text(await currentCheckpoint(), 200, { 'Content-Type': 'text/plain; charset=utf-8' });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/checkpoints',
      tags: ['audit'],
      summary: 'Every checkpoint ever signed, by size',
      request: { query: z.object({ after: Index.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: jsonContent(z.object({ items: z.array(z.object({ size: z.number(), rootHash: z.string(), note: z.string(), createdAt: z.string() })) }), 'Checkpoints'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const { after, limit } = c.req.valid('query');
      const rows = await listCheckpoints(db, { after, limit });
      return c.json({ items: rows.map((r) => ({ size: r.size, rootHash: b64(r.rootHash), note: r.note, createdAt: r.createdAt.toISOString() })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/key',
      tags: ['audit'],
      summary: 'The key that signs new checkpoints (C2SP vkey): pin it out of band; it changes only by an announced rotation',
      responses: { 200: { description: 'vkey', content: { 'text/plain': { schema: z.string() } } }, ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      return c.text((await signer.vkey(db)) + '\n', 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/entries',
      tags: ['audit'],
      summary: 'Entries by index range and filters, in log order',
      request: {
        query: z.object({
          from: Index.optional(),
          to: Index.optional().openapi({ description: 'exclusive' }),
          subjectType: z.string().max(64).optional(),
          subject: z.string().max(200).optional().openapi({ description: 'subject id (an account id is matched through its pseudonym)' }),
          actor: Uuid.optional().openapi({ description: 'account id of the actor' }),
          action: z.string().max(100).optional(),
          since: z.iso.datetime().optional(),
          until: z.iso.datetime().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
      responses: { 200: jsonContent(z.object({ items: z.array(EntryOut), nextFrom: z.number().nullable() }), 'Entries'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const q = c.req.valid('query');
      let actorRef: string | undefined;
      if (q.actor) {
        actorRef = await existingPersonRef(db, q.actor);
        if (!actorRef) return c.json({ items: [], nextFrom: null }, 200);
      }
      let subjectIds: string[] | undefined;
      if (q.subject) {
        const ref = await existingPersonRef(db, q.subject).catch(() => undefined);
        subjectIds = ref ? [q.subject, ref] : [q.subject];
      }
      const rows = await findEntries(db, {
        from: q.from,
        to: q.to,
        subjectType: q.subjectType,
        subjectIds,
        actorRef,
        action: q.action,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit).map(entryOut);
      return c.json({ items, nextFrom: rows.length > q.limit ? rows[q.limit]!.idx : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/entries/{index}',
      tags: ['audit'],
      summary: 'One entry with its inclusion proof against the latest checkpoint',
      request: { params: z.object({ index: Index.openapi({ param: { name: 'index', in: 'path' } }) }) },
      responses: { 200: jsonContent(EntryOut.extend({ checkpoint: z.string(), proof: ProofOut }), 'Entry and proof'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const { format: _f, vkey: _k, ...b } = await bundle(c.req.valid('param').index);
      return c.json(b, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/bundle/{index}',
      tags: ['audit'],
      summary: 'Offline bundle for one entry: entry, proof, checkpoint and verifier key, as a download',
      request: { params: z.object({ index: Index.openapi({ param: { name: 'index', in: 'path' } }) }) },
      responses: { 200: jsonContent(z.any(), 'Bundle'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const index = c.req.valid('param').index;
      const b = await bundle(index);
      c.header('Content-Disposition', `attachment; filename="meetplane-audit-${index}.json"`);
      return c.json(b, 200);
    },
  );

  async function bundle(index: number) {
    const b = await buildBundle(db, signer, index);
    if (!b) throw problems.notFound('audit entry');
    return b;
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/proof/inclusion',
      tags: ['audit'],
      summary: 'Inclusion proof (leaf to root) for an index or a leaf hash in a tree of the given size',
      request: { query: z.object({ index: Index.optional(), leafHash: Base64Hash.optional(), treeSize: Index }) },
      responses: { 200: jsonContent(ProofOut, 'Proof'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const q = c.req.valid('query');
      if ((q.index === undefined) === (q.leafHash === undefined)) throw problems.badRequest('give exactly one of index and leafHash');
      await checkSize(q.treeSize, 'treeSize');
      const index = q.index ?? (await indexOfLeaf(db, Buffer.from(q.leafHash!, 'base64'), q.treeSize));
      if (index === undefined) throw problems.notFound('leaf in a tree of that size');
      if (index >= q.treeSize) throw problems.badRequest('index must be below treeSize');
      const hashes = await inclusionProof(new DbNodeReader(db), index, q.treeSize);
      return c.json({ index, treeSize: q.treeSize, hashes: hashes.map(b64) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/proof/consistency',
      tags: ['audit'],
      summary: 'Consistency proof between two tree sizes (0 < from <= to)',
      request: { query: z.object({ from: Index.pipe(z.number().min(1)), to: Index }) },
      responses: { 200: jsonContent(ConsistencyOut, 'Proof'), ...commonErrors },
    }),
    async (c) => {
      await ensureAuditor(c.var.principal);
      const { from, to } = c.req.valid('query');
      if (from > to) throw problems.badRequest('from must not be larger than to');
      await checkSize(to, 'to');
      const hashes = await consistencyProof(new DbNodeReader(db), from, to);
      return c.json({ from, to, hashes: hashes.map(b64) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/audit/forget/{accountId}',
      tags: ['audit'],
      summary: 'Erasure: destroy the key behind a person\'s pseudonym, so no entry can be linked to them any more',
      request: { params: z.object({ accountId: Uuid.openapi({ param: { name: 'accountId', in: 'path' } }) }) },
      responses: { 204: { description: 'Forgotten' }, ...commonErrors },
    }),
    async (c) => {
      const accountId = c.req.valid('param').accountId;
      const account = await findAccount(db, accountId);
      const actor = await guard.allow(c.var.principal, 'audit.forget', { type: 'Account', id: accountId, coopId: account?.coopId ?? null }, 'account');
      // Decided before looking: whoever may not erase gets the same refusal for
      // an unknown id; whoever may learns it is unknown, and nothing is written.
      if (!account) throw problems.notFound('account');
      await db.transaction(async (tx) => {
        // Record first (this uses the pseudonym one last time), then destroy the key.
        await appendAudit(tx, { actor, action: 'audit.forget-person', subject: { type: 'account', id: person(accountId) } });
        await forgetPersonKey(tx, accountId);
      });
      return c.body(null, 204);
    },
  );

  app.route('/', tileRoutes(deps));
  return app;
}
