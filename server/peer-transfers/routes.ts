// Transfers between instances over HTTP. Public: the transfer endpoint (POST /federation/transfers),
// where peers deliver signed messages; the signature and the federation's trust are its only check.
// Under /api/v1/peer-transfers: offering a tenancy (source), answering an offer (target), and the
// state on either side, each decided by the policies as for a transfer between local co-ops.
import { Hono } from 'hono';
import { asc, eq, gt } from 'drizzle-orm';
import { createRoute, z } from '@hono/zod-openapi';
import { router, type AppEnv, type Deps } from '../http/env.js';
import { commonErrors, FreezeAtIn, IdOrSlug, jsonBody, jsonContent, Timestamp, Uuid } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { PLATFORM, tenancyRef } from '../authz/guard.js';
import { authorized, type Principal } from '../auth/principal.js';
import { forbidden } from '../authz/authz.js';
import { problems, ProblemError } from '../http/problem.js';
import { findTenancy } from '../tenancies/service.js';
import { outboundFor } from '../net/outbound.js';
import { transferDeps } from '../transfers/deps.js';
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import { MESSAGE_CONTENT_TYPE, type OfferClaims } from '../../federation/transfer-messages.js';
import { decodeJwt } from 'jose';
import { offerTransfer } from './outgoing.js';
import { answerOffer } from './incoming.js';
import { cancelPeerTransfer } from './cancel.js';
import { receiveMessage } from './inbox.js';
import { peerTransferRef } from './refs.js';
import { peerTransfers } from './table.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/** A message is a few kilobytes; anything larger is not one. */
const MESSAGE_BODY_LIMIT = 64 * 1024;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex');

const PeerTransferOut = z
  .object({
    id: z.string(),
    side: z.enum(['source', 'target']),
    peer: z.string(),
    state: z.enum(['rejected', 'offering', 'offered', 'accepted', 'refused', 'cancelled', 'packaged', 'verified', 'switched', 'pulling', 'pulled', 'failed', 'completed']),
    tenancy: z.string().nullable(),
    targetCoop: z.string(),
    targetCluster: z.string(),
    summary: z.record(z.string(), z.unknown()).nullable(),
    offer: z
      .object({
        sourceCoop: z.object({ name: z.string(), jurisdiction: z.string(), legalRegime: z.string() }),
        basis: z.string(),
        processingAgreement: z.string(),
        sccsDocuments: z.array(z.string()),
        impactAssessment: z.string().nullable(),
        noticeDays: z.number().int(),
      })
      .nullable()
      .openapi({ description: 'What the signed offer says of who offers and on what basis (documents as SHA-256)' }),
    decision: z.record(z.string(), z.unknown()).nullable(),
    answer: z.record(z.string(), z.unknown()).nullable(),
    delivery: z.object({ attempts: z.number().int(), nextAttemptAt: Timestamp.nullable(), lastError: z.string().nullable() }),
    progress: z
      .object({ filesDone: z.number().int(), filesTotal: z.number().int(), bytesDone: z.number().int(), bytesTotal: z.number().int(), bytesPerSecond: z.number(), etaSeconds: z.number().nullable(), at: Timestamp })
      .nullable()
      .openapi({ description: "At the target: the pull's progress (files and bytes of the manifest's)" }),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('PeerTransfer');

const PeerTransferCreate = z
  .object({
    tenancy: IdOrSlug,
    peer: z.url({ protocol: /^https?$/ }).max(500).openapi({ description: "The target instance's entity id (its public URL)" }),
    targetCoop: z.string().min(1).max(100).openapi({ description: 'The co-op at the target instance, by the slug its metadata names' }),
    targetCluster: z.string().min(1).max(100).openapi({ description: 'A cluster of that co-op, by slug' }),
    evidence: z
      .object({
        claimedBasis: z.enum(['adequacy', 'sccs', 'art49', 'domestic']).default('adequacy'),
        sccsDocuments: z.array(Sha256).max(20).default([]),
        impactAssessment: Sha256.nullable().default(null),
      })
      .strict()
      .default({ claimedBasis: 'adequacy', sccsDocuments: [], impactAssessment: null }),
    processingAgreement: Sha256.openapi({ description: 'SHA-256 of the signed Art. 28 processing agreement with the target co-op' }),
    noticeDays: z.number().int().min(0).max(365).optional(),
    freezeAt: FreezeAtIn,
  })
  .strict()
  .openapi('PeerTransferCreate');

const PeerAnswerIn = z
  .discriminatedUnion('decision', [
    z.object({ decision: z.literal('accepted'), cluster: z.string().min(1).max(100).optional() }).strict(),
    z.object({ decision: z.literal('refused'), reason: z.string().trim().min(1).max(1000) }).strict(),
  ])
  .openapi('PeerTransferAnswer');

const PeerReceiptOut = z
  .object({ payload: z.string(), signatures: z.array(z.object({ protected: z.string(), signature: z.string() })) })
  .openapi('PeerTransferReceipt');
const IdPath = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

/** The terms of the offer as the signed message states them (read from our stored copy). */
function offerView(jwt: string | null) {
  if (!jwt) return null;
  const o = decodeJwt(jwt) as unknown as OfferClaims;
  const dp = o.data_protection;
  return {
    sourceCoop: { name: o.source.coop.name, jurisdiction: o.source.coop.jurisdiction, legalRegime: o.source.coop.legal_regime },
    basis: dp.basis,
    processingAgreement: dp.processing_agreement,
    sccsDocuments: dp.sccs_documents,
    impactAssessment: dp.impact_assessment,
    noticeDays: o.notice_days,
  };
}

function out(t: PeerTransfer) {
  return {
    id: t.id,
    side: t.side,
    peer: t.peer,
    state: t.state,
    tenancy: t.tenancyId,
    targetCoop: t.targetCoop,
    targetCluster: t.targetCluster,
    summary: t.summary ?? null,
    offer: offerView(t.offerJwt),
    decision: (t.decision as Record<string, unknown> | null) ?? null,
    answer: (t.answer as Record<string, unknown> | null) ?? null,
    delivery: { attempts: t.attempts, nextAttemptAt: t.nextAttemptAt?.toISOString() ?? null, lastError: t.lastError },
    progress: t.progress ?? null,
    version: t.version,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export function peerTransferDeps(deps: Deps, resolver: TrustChainResolver): PeerTransferDeps {
  return { db: deps.db, box: deps.box, publicUrl: deps.config.publicUrl, outbound: outboundFor(deps.config), resolver, transfer: transferDeps(deps.db, deps.config) };
}

/** POST /federation/transfers: the messages of peers' transfers. Answers are problem documents, also for refusals. */
export function peerTransferEndpoint(deps: Deps, resolver: TrustChainResolver) {
  const app = new Hono<AppEnv>();
  const d = peerTransferDeps(deps, resolver);
  app.post('/federation/transfers', async (c) => {
    if (c.req.header('content-type')?.split(';')[0]?.trim() !== MESSAGE_CONTENT_TYPE)
      throw new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', `send the signed message as ${MESSAGE_CONTENT_TYPE}`);
    const body = await c.req.text();
    if (body.length > MESSAGE_BODY_LIMIT) throw new ProblemError(413, 'too-large', 'Payload too large', 'a transfer message is at most 64 KiB');
    const t = await receiveMessage(d, body.trim());
    return c.json({ transfer: t.id, state: t.state }, 202);
  });
  return app;
}

export function peerTransferRoutes(deps: Deps, resolver: TrustChainResolver) {
  const app = router();
  const { db, guard, config } = deps;
  const d = peerTransferDeps(deps, resolver);

  async function transferFor(p: Principal, id: string, action: string) {
    const [t] = await db.select().from(peerTransfers).where(eq(peerTransfers.id, id));
    if (!t) throw problems.notFound('transfer');
    return { t, actor: await guard.allow(p, action, peerTransferRef(t), 'transfer', 'transfer.read') };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/peer-transfers',
      tags: ['peer-transfers'],
      summary: 'Transfers to and from other instances you may see',
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageSchema(PeerTransferOut), 'A page of transfers'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      await guard.allow(c.var.principal, 'transfer.list', PLATFORM, 'transfers');
      const after = decodeCursor(cursor);
      const rows = await db.select().from(peerTransfers).where(after ? gt(peerTransfers.id, after) : undefined).orderBy(asc(peerTransfers.id)).limit(limit + 1);
      const pg = page(rows, limit);
      const items = await guard.visible(c.var.principal, pg.items, 'transfer.read', peerTransferRef);
      return c.json({ items: items.map(out), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/peer-transfers',
      tags: ['peer-transfers'],
      summary: "Offer a tenancy to a co-op on another instance; refused here, naming the rules, when the target's stated facts do not allow it",
      request: { body: jsonBody(PeerTransferCreate) },
      responses: { 201: jsonContent(PeerTransferOut, 'Created (rejected, offering or offered)'), ...commonErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const tenancy = await findTenancy(db, body.tenancy);
      if (!tenancy) throw problems.notFound('tenancy');
      const actor = await guard.allow(c.var.principal, 'transfer.create', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      const noticeDays = body.noticeDays ?? config.transferMinNoticeDays;
      if (noticeDays < config.transferMinNoticeDays)
        throw new ProblemError(400, 'validation', 'The request is not valid', `noticeDays: must be at least ${config.transferMinNoticeDays} (the minimum notice period, TRANSFER_MIN_NOTICE_DAYS)`, {
          errors: [{ path: 'noticeDays', message: `must be at least ${config.transferMinNoticeDays} days` }],
          policyIds: ['dp-notice-period'],
        });
      const t = await offerTransfer(d, actor, {
        tenancyId: tenancy.id,
        peer: body.peer.replace(/\/+$/, ''),
        targetCoop: body.targetCoop,
        targetCluster: body.targetCluster,
        evidence: body.evidence,
        processingAgreement: body.processingAgreement,
        noticeDays,
        freezeAt: body.freezeAt ? new Date(body.freezeAt) : null,
      });
      c.header('Location', `/api/v1/peer-transfers/${t.id}`);
      return c.json(out(t), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/peer-transfers/{id}',
      tags: ['peer-transfers'],
      summary: 'A transfer to or from another instance: state, decision, answer, delivery',
      request: { params: IdPath },
      responses: { 200: jsonContent(PeerTransferOut, 'The transfer'), ...commonErrors },
    }),
    async (c) => {
      const { t } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.read');
      return c.json(out(t), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/peer-transfers/{id}/receipt',
      tags: ['peer-transfers'],
      summary: "The receipt of a transfer between instances, signed by both instances' federation keys, naming a checkpoint of each one's audit log cosigned by the other",
      request: { params: IdPath },
      responses: {
        200: { description: "The receipt (JWS, General JSON Serialization; verify it with both instances' federation keys)", content: { 'application/jose+json': { schema: PeerReceiptOut } } },
        ...commonErrors,
      },
    }),
    async (c) => {
      const { t } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.read');
      if (!t.receipt)
        throw new ProblemError(404, 'not-found', 'Not found', `the transfer has no receipt yet (it is ${t.state} between the instances)`, { state: t.state });
      return c.json(t.receipt, 200, { 'Content-Type': 'application/jose+json' });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/peer-transfers/{id}/answer',
      tags: ['peer-transfers'],
      summary: "Accept (on a cluster of the co-op) or refuse an offer from another instance, as the target co-op's admin",
      request: { params: IdPath, body: jsonBody(PeerAnswerIn) },
      responses: { 200: jsonContent(PeerTransferOut, 'Answered (the answer is sent to the source)'), ...commonErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      const { t } = await transferFor(p, c.req.valid('param').id, 'transfer.approve');
      // Answering is approving as the target: the role's own rule decides (policies/transfer-approval.cedar).
      const decision = await guard.authz.decide(p, 'transfer.approveAsTarget', peerTransferRef(t));
      if (decision.decision !== 'allow') {
        await guard.authz.auditDenial(p, 'transfer.approve', peerTransferRef(t), decision);
        throw forbidden('transfer.approveAsTarget', decision);
      }
      const actor = authorized(p, { decision: 'allow', policyIds: decision.policyIds, policySetHash: decision.policySetHash });
      const body = c.req.valid('json');
      return c.json(out(await answerOffer(d, actor, t, body)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/peer-transfers/{id}/cancel',
      tags: ['peer-transfers'],
      summary: 'Withdraw a transfer to another instance (the target is told and removes what it pulled)',
      request: { params: IdPath, body: jsonBody(z.object({ reason: z.string().trim().min(1).max(1000) }).strict().openapi('PeerTransferCancel')) },
      responses: { 200: jsonContent(PeerTransferOut, 'Withdrawn'), ...commonErrors },
    }),
    async (c) => {
      const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.cancel');
      return c.json(out(await cancelPeerTransfer(d, actor, t, c.req.valid('json').reason)), 200);
    },
  );

  return app;
}
