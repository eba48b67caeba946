// REST for transfers: request, check, approve, object, cancel, status, receipt, and an
// operator's retry or resolution of a failed one; and the
// processing agreements the data-protection rules look for. Permissions are
// decided by the Cedar policies (server/authz); whether the transfer may
// proceed by the data-protection rules (policies/data-protection). Like every
// resource, a transfer answers its ETag and every action on it needs If-Match.
import { roomLink } from '../greenlight/transfer-move.js';
import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { router, type Deps } from '../http/env.js';
import { FreezeAtIn, IdOrSlug, IfMatchHeader, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { ProblemError, problems } from '../http/problem.js';
import { authorized, type Principal } from '../auth/principal.js';
import { forbidden } from '../authz/authz.js';
import { PLATFORM, tenancyRef, transferRef } from '../authz/guard.js';
import { findTenancy } from '../tenancies/service.js';
import { findCoop } from '../coops/service.js';
import { outboxStatus } from '../mail/outbox.js';
import { loadReceipt } from '../receipts/receipt.js';
import { transferDeps } from './deps.js';
import { HAPPY_PATH } from './lifecycle.js';
import { greenlightAtNotice, recordTold, startNotice, TOLD_HOW } from './notice.js';
import { freezeNotBefore, memberNotices, reachOf, undeliverable, type NoticeReach } from './notice-delivery.js';
import { sourceDeletionDue } from './source-deletion.js';
import {
  approveTransfer,
  refuseTargetApprovalHere,
  cancelTransfer,
  checkTransfer,
  createTransfer,
  findTransfer,
  listTransfers,
  objectToTransfer,
  recordProcessingAgreement,
  transferDetails,
  type Transfer,
} from './service.js';
import { explainRules } from '../../policies/explanations.js';
import { isoOrNull } from '../time.js';
import { outboundFor } from '../net/outbound.js';
import { resolveTransfer, retryTransfer } from './recovery.js';
import { receiptWait } from './receipt-overdue.js';
import type { ExecutionDeps } from './step-kit.js';
import { peerTransfers } from '../peer-transfers/table.js';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex');
const Day = z.iso.date();

const Evidence = z
  .object({
    claimedBasis: z.enum(['adequacy', 'sccs', 'art49', 'domestic']).default('adequacy'),
    dpfListed: z.boolean().default(false),
    pipedaSubject: z.boolean().default(false),
    sccsDocuments: z.array(Sha256).max(20).default([]),
    impactAssessment: Sha256.nullable().default(null),
  })
  .strict()
  .openapi('TransferEvidence', { description: 'What the transfer rests on; documents as their SHA-256' });

const TransferCreate = z
  .object({
    tenancy: IdOrSlug,
    targetCoop: IdOrSlug,
    targetCluster: IdOrSlug.openapi({ description: 'A cluster of the target co-op, id or slug' }),
    evidence: Evidence.default({ claimedBasis: 'adequacy', dpfListed: false, pipedaSubject: false, sccsDocuments: [], impactAssessment: null }),
    noticeDays: z.number().int().min(0).max(365).optional().openapi({ description: 'Days between notice and freeze (default: the policy minimum)' }),
    freezeAt: FreezeAtIn,
    targetGreenlight: IdOrSlug.nullable()
      .optional()
      .openapi({
        description:
          "The target co-op's Greenlight front end (slug or id) the members' Greenlight rooms, links and shares move to; null leaves them behind. Required when the tenancy names a Greenlight whose database meetplane can read.",
      }),
  })
  .strict()
  .openapi('TransferCreate');

const Approval = z.object({ as: z.enum(['source_admin', 'target_admin', 'owner']) }).strict();
/** The Cedar action each approval role asks for. */
const APPROVE_AS = { source_admin: 'transfer.approveAsSource', target_admin: 'transfer.approveAsTarget', owner: 'transfer.approveAsOwner' } as const;

const GreenlightOut = z
  .object({
    sourceGreenlightId: z.string(),
    targetGreenlightId: z.string(),
    readAt: Timestamp.nullable().openapi({ description: "When the source Greenlight's rooms were last read (at the notice, again at the import); null before the notice" }),
    rooms: z.array(z.object({ friendlyId: z.string(), name: z.string(), recordings: z.number().int(), link: z.string() })).openapi({ description: 'The rooms that move and their links at the target' }),
    counts: z.object({ roles: z.number().int(), users: z.number().int(), rooms: z.number().int(), shares: z.number().int(), recordings: z.number().int() }).nullable(),
    roomsLeftOut: z.number().int().openapi({ description: 'Rooms that stay: their owner objected or does not move' }),
    sharesDropped: z.number().int().openapi({ description: 'Shares not carried: to an objector or to someone outside the tenancy' }),
    imported: z
      .object({ at: Timestamp, created: z.number().int(), arrived: z.number().int(), alreadyThere: z.number().int(), roomsResolving: z.number().int(), resyncCommand: z.string().nullable() })
      .nullable()
      .openapi({ description: "The import's outcome once every object arrived and every room's link resolved; resyncCommand is what the target's operator runs so the rooms list their recordings" }),
  })
  .openapi('TransferGreenlight');

const TransferOut = z
  .object({
    id: z.string(),
    tenancyId: z.string(),
    sourceCoopId: z.string(),
    sourceClusterId: z.string(),
    targetCoopId: z.string().nullable().openapi({ description: 'The target co-op on this instance; null when the target is on another instance (`peer`)' }),
    targetClusterId: z.string().nullable(),
    peer: z.string().nullable().openapi({ description: "The target instance's entity id when the tenancy moves to another meetplane instance (the protocol's state: GET /peer-transfers/{id})" }),
    state: z.string(),
    noticeDays: z.number().int(),
    noticeSentAt: Timestamp.nullable(),
    freezeAt: Timestamp.nullable().openapi({ description: 'The planned freeze date and time, if one was asked for' }),
    freezeNotBefore: Timestamp.nullable().openapi({
      description: 'The earliest freeze: the planned date, and the end of the notice period of the member reached last (while some are not reached, counted from the notice start: a lower bound)',
    }),
    decision: z.any().nullable().openapi({
      description: 'The last data-protection decision: allow or deny, the rules (policyIds) and, for a deny, `rules`: what each refusing rule means and what to do about it',
    }),
    greenlight: GreenlightOut.nullable().openapi({ description: 'What moves at Greenlight, when the transfer moves rooms between Greenlight front ends' }),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Transfer');

const Progress = z
  .object({
    recordingsDone: z.number().int(),
    recordingsTotal: z.number().int(),
    filesDone: z.number().int(),
    filesTotal: z.number().int(),
    bytesDone: z.number(),
    bytesTotal: z.number(),
    bytesPerSecond: z.number(),
    etaSeconds: z.number().nullable().openapi({ description: 'null while unknown' }),
    at: Timestamp,
  })
  .openapi('TransferProgress', { description: 'What the copy has done so far (written about once a second while copying, kept after)' });

const ReceiptJwsOut = z
  .object({ payload: z.string(), signatures: z.array(z.object({ protected: z.string(), signature: z.string() })) })
  .openapi('TransferReceipt', { description: "JWS in General JSON Serialization: the source co-op's signature, then the target co-op's countersignature" });

const Failure = z
  .object({
    step: z.string().openapi({ description: 'copy, switch, verify-files, verify-listing, verify-playback, receipt, complete, source-delete, ...' }),
    reason: z.string(),
    at: Timestamp,
    servedBy: z.enum(['source', 'target']).openapi({ description: 'where the tenancy is active meanwhile: the side that holds its complete data' }),
    recordId: z.string().optional().openapi({ description: 'the recording that stopped it, when one did' }),
    actions: z.array(z.string()).openapi({ description: 'what an operator can do (the commands to type)' }),
  })
  .openapi('TransferFailure', { description: 'Why the transfer stopped; cleared by a retry or a resolution' });

const MemberNoticeOut = z
  .object({
    accountId: z.string(),
    email: z.string(),
    mail: z.enum(['sent', 'refused', 'queued', 'failing', 'none']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    undeliverable: z.boolean().openapi({ description: 'the mail was refused for good, or still not accepted after NOTICE_UNDELIVERABLE_ATTEMPTS tries: tell them another way and record it' }),
  })
  .openapi('UnreachedMember');

const NoticeDelivery = z
  .object({
    members: z.number().int(),
    reached: z.number().int(),
    notReached: z.number().int(),
    undeliverable: z.number().int(),
    allReachedAt: Timestamp.nullable().openapi({ description: 'when the last member was reached, once all are: the notice period counts from here' }),
    waiting: z.enum(['notice-delivery', 'freeze-date']).nullable().openapi({ description: 'during the notice: what the freeze waits for' }),
    unreached: z
      .array(MemberNoticeOut)
      .optional()
      .openapi({ description: 'the members not reached yet; only for those who may list the tenancy\'s members (others get the counts)' }),
  })
  .openapi('TransferNoticeDelivery', {
    description: "Whom the notice reached: a member is reached when the mail server accepted their mail, the notice was shown on their member page, an admin recorded another way they were told, or they objected",
  });

const ToldIn = z
  .object({
    how: z.enum(TOLD_HOW),
    note: z.string().trim().min(1).max(500).optional().openapi({ description: 'kept with the record; the audit log holds its SHA-256 only' }),
  })
  .strict()
  .openapi('NoticeTold');

const TransferStatus = TransferOut.extend({
  stateSince: Timestamp,
  failure: Failure.nullable(),
  receiptWait: z
    .object({ awaitedSince: Timestamp, overdueAt: Timestamp, action: z.string() })
    .nullable()
    .openapi({ description: 'A transfer to another instance after its switch: the receipt both instances sign is awaited since then; from overdueAt an operator may complete the transfer without it (action)' }),
  progress: Progress.nullable(),
  sourceDeletion: z
    .object({ dueAt: Timestamp, doneAt: Timestamp.nullable() })
    .nullable()
    .openapi({ description: 'Once completed: when the source copy is deleted (TRANSFER_SOURCE_GRACE_DAYS after completion), and when it was' }),
  steps: z.array(z.object({ step: z.string(), status: z.enum(['done', 'current', 'pending', 'skipped']) })),
  approvals: z.array(z.object({ role: z.string(), accountId: z.string(), at: Timestamp })),
  objections: z.array(z.object({ kind: z.string(), accountId: z.string(), at: Timestamp })),
  notices: z.object({ queued: z.number(), sent: z.number(), failing: z.number(), refused: z.number() }).openapi({ description: 'The notice mails: to send (failing: tried at least once), accepted by the mail server, refused for good' }),
  noticeDelivery: NoticeDelivery.nullable(),
  peerTransfer: z
    .object({ state: z.string(), attempts: z.number().int(), nextAttemptAt: Timestamp.nullable(), lastError: z.string().nullable() })
    .nullable()
    .openapi({
      description:
        "To another instance: where the protocol is (offered, accepted, packaged: the target pulls and verifies, verified, switched) and the delivery of the message owed to the target (retried while it cannot be reached); the target's pull progress is shown there (GET /peer-transfers/{id})",
    }),
}).openapi('TransferStatus');

const AgreementIn = z
  .object({ tenancy: IdOrSlug, coop: IdOrSlug, documentSha256: Sha256, signedOn: Day, validUntil: Day.nullable().default(null) })
  .strict()
  .openapi('ProcessingAgreement');


/** For a refusal, what each refusing rule means and what to do about it (the words beside the rule in its policy file). */
function decisionRules(d: { decision: string; policyIds: string[] }) {
  return d.decision === 'deny' ? explainRules(d.policyIds).map(({ id, explain, remedy }) => ({ id, explain, remedy })) : [];
}

function greenlightOut(t: Transfer) {
  if (!t.sourceGreenlightId || !t.targetGreenlightId) return null;
  const m = t.greenlight;
  return {
    sourceGreenlightId: t.sourceGreenlightId,
    targetGreenlightId: t.targetGreenlightId,
    readAt: m?.readAt ?? null,
    rooms: (m?.rooms ?? []).map((r) => ({ friendlyId: r.friendlyId, name: r.name, recordings: r.recordings, link: roomLink(m!.targetBaseUrl, r.friendlyId) })),
    counts: m?.counts ?? null,
    roomsLeftOut: m?.roomsLeftOut ?? 0,
    sharesDropped: m?.sharesDropped ?? 0,
    imported: m?.imported ?? null,
  };
}

function out(t: Transfer, reach?: Pick<NoticeReach, 'allReachedAt'>) {
  return {
    id: t.id,
    tenancyId: t.tenancyId,
    sourceCoopId: t.sourceCoopId,
    sourceClusterId: t.sourceClusterId,
    targetCoopId: t.targetCoopId,
    targetClusterId: t.targetClusterId,
    peer: t.peer,
    state: t.state,
    noticeDays: t.noticeDays,
    noticeSentAt: isoOrNull(t.noticeSentAt),
    freezeAt: isoOrNull(t.freezeAt),
    freezeNotBefore: isoOrNull(freezeNotBefore(t, reach)),
    decision: t.lastDecision ? { ...t.lastDecision, rules: decisionRules(t.lastDecision) } : null,
    greenlight: greenlightOut(t),
    version: t.version,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

function steps(state: string) {
  const at = HAPPY_PATH.indexOf(state as (typeof HAPPY_PATH)[number]);
  return HAPPY_PATH.map((step, i) => ({
    step,
    status: at < 0 ? (i === 0 ? ('done' as const) : ('skipped' as const)) : i < at ? ('done' as const) : i === at ? ('current' as const) : ('pending' as const),
  }));
}

export function transferRoutes({ db, box, log, signer, config, guard }: Deps) {
  const app = router();
  const deps = transferDeps(db, config);
  // What resolving a failed transfer runs: the runner's own steps (verification, receipt, roll back).
  const execution: ExecutionDeps = { db, box, log, signer, outbound: outboundFor(config), publicUrl: config.publicUrl, timing: config.transferTiming, ...deps };

  /** The transfer, if the principal may do `action` on it (404 when it may not even read it). */
  async function transferFor(p: Principal, id: string, action: string) {
    const t = await findTransfer(db, id);
    if (!t) throw problems.notFound('transfer');
    return { t, actor: await guard.allow(p, action, transferRef(t), 'transfer', 'transfer.read') };
  }

  /** The transfer as the API shows it; during the notice its freeze date counts from the members' delivery. */
  async function peerProtocolView(id: string) {
    const [row] = await db
      .select({ state: peerTransfers.state, attempts: peerTransfers.attempts, nextAttemptAt: peerTransfers.nextAttemptAt, lastError: peerTransfers.lastError })
      .from(peerTransfers)
      .where(eq(peerTransfers.id, id));
    return row ? { ...row, nextAttemptAt: isoOrNull(row.nextAttemptAt) } : null;
  }

  async function view(t: Transfer) {
    return out(t, t.state === 'notice' ? reachOf(t, await memberNotices(db, t)) : undefined);
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/transfers',
      tags: ['transfers'],
      summary: 'Transfers you may see',
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageSchema(TransferOut), 'A page of transfers'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      await guard.allow(c.var.principal, 'transfer.list', PLATFORM, 'transfers');
      // Like every list: a page of candidates, of which the principal sees what the policies let it read.
      const pg = page(await listTransfers(db, { limit, after: decodeCursor(cursor) }), limit);
      const items = await guard.visible(c.var.principal, pg.items, 'transfer.read', transferRef);
      return c.json({ items: await Promise.all(items.map(view)), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/transfers',
      tags: ['transfers'],
      summary: 'Request the transfer of a tenancy to another co-op (starts as a draft)',
      request: { body: jsonBody(TransferCreate) },
      responses: { 201: jsonContent(TransferOut, 'Created'), ...commonErrors, 409: jsonContent(z.any(), 'A transfer of this tenancy is in progress') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const p = c.var.principal;
      const tenancy = await findTenancy(db, body.tenancy);
      if (!tenancy) throw problems.notFound('tenancy');
      const actor = await guard.allow(p, 'transfer.create', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      const target = await findCoop(db, body.targetCoop);
      if (!target) throw problems.validation([{ path: 'targetCoop', message: 'no such co-op' }]);
      // The rule dp-notice-period would reject it at check: say so now, naming the rule.
      if (body.noticeDays !== undefined && body.noticeDays < config.transferMinNoticeDays)
        throw new ProblemError(
          400,
          'validation',
          'The request is not valid',
          `noticeDays: must be at least ${config.transferMinNoticeDays} (the minimum notice period, TRANSFER_MIN_NOTICE_DAYS)`,
          { errors: [{ path: 'noticeDays', message: `must be at least ${config.transferMinNoticeDays} days` }], policyIds: ['dp-notice-period'] },
        );
      const t = await createTransfer(db, actor, {
        tenancyId: tenancy.id,
        targetCoopId: target.id,
        targetClusterId: body.targetCluster,
        evidence: body.evidence,
        noticeDays: body.noticeDays ?? config.transferMinNoticeDays,
        freezeAt: body.freezeAt ? new Date(body.freezeAt) : null,
        targetGreenlight: body.targetGreenlight,
      });
      c.header('Location', `/api/v1/transfers/${t.id}`);
      c.header('ETag', etagOf(t));
      return c.json(out(t), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/transfers/{id}',
      tags: ['transfers'],
      summary: 'Status of a transfer: state, steps, the last decision, approvals, objections, notices',
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: jsonContent(TransferStatus, 'Status'), ...commonErrors },
    }),
    async (c) => {
      const { t } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.read');
      const { approvals, objections } = await transferDetails(db, t.id);
      const notices = t.noticeSentAt ? await memberNotices(db, t) : undefined;
      const reach = notices ? reachOf(t, notices) : undefined;
      c.header('ETag', etagOf(t));
      return c.json(
        {
          ...out(t, t.state === 'notice' ? reach : undefined),
          stateSince: t.stateSince.toISOString(),
          failure: t.failure ?? null,
          receiptWait: receiptWait(t),
          progress: t.progress ?? null,
          sourceDeletion:
            t.state === 'completed'
              ? { dueAt: sourceDeletionDue(t, config.transferTiming.sourceGraceMs)!.toISOString(), doneAt: isoOrNull(t.sourceDeletedAt) }
              : null,
          steps: steps(t.state),
          approvals: approvals.map((a) => ({ role: a.role, accountId: a.accountId, at: a.createdAt.toISOString() })),
          objections: objections.map((o) => ({ kind: o.kind, accountId: o.accountId, at: o.createdAt.toISOString() })),
          notices: await outboxStatus(db, `transfer:${t.id}`),
          noticeDelivery: notices && reach ? await deliveryView(c.var.principal, t, notices, reach) : null,
          peerTransfer: t.peer ? await peerProtocolView(t.id) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/transfers/{id}/receipt',
      tags: ['transfers'],
      summary: 'The receipt of a completed transfer, signed by the source co-op and countersigned by the target',
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: {
        200: { description: 'The receipt (verify it with both co-ops\' /coops/{id}/jwks)', content: { 'application/jose+json': { schema: ReceiptJwsOut } } },
        ...commonErrors,
      },
    }),
    async (c) => {
      const { t } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.read');
      const jws = await loadReceipt(db, t.id);
      if (!jws)
        throw new ProblemError(
          404,
          'not-found',
          'Not found',
          t.state === 'completed' ? 'the transfer is completed but has no receipt' : `the transfer has no receipt: it is not completed (it is ${t.state.replace('_', ' ')})`,
          { state: t.state },
        );
      return c.json(jws, 200, { 'Content-Type': 'application/jose+json' });
    },
  );

  const preconditions = { 412: jsonContent(z.any(), 'Changed meanwhile (If-Match does not match)'), 428: jsonContent(z.any(), 'If-Match missing') };

  /** Every action answers the transfer after it, with its ETag. */
  async function answer(t: Transfer) {
    return { etag: etagOf(t), body: await view(t) };
  }

  const action = (name: 'check' | 'object' | 'cancel', summary: string) =>
    createRoute({
      method: 'post',
      path: `/transfers/{id}/${name}`,
      tags: ['transfers'],
      summary,
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }), headers: IfMatchHeader },
      responses: { 200: jsonContent(TransferOut, 'The transfer after the action'), ...commonErrors, ...preconditions, 409: jsonContent(z.any(), 'Not in a state for this') },
    });

  app.openapi(action('check', 'Run the data-protection rules: checked, or rejected naming the rules'), async (c) => {
    const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.check');
    requireIfMatch(c.req.valid('header')['if-match'], t);
    const a = await answer(await checkTransfer(db, deps, actor, t));
    c.header('ETag', a.etag);
    return c.json(a.body, 200);
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/transfers/{id}/approve',
      tags: ['transfers'],
      summary: 'Approve as the source admin, the target admin or the owner; the third approval starts the notice',
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }), headers: IfMatchHeader, body: jsonBody(Approval) },
      responses: { 200: jsonContent(TransferOut, 'The transfer after the approval'), ...commonErrors, ...preconditions, 409: jsonContent(z.any(), 'Not in a state for this') },
    }),
    async (c) => {
      const { t } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.approve');
      const { as } = c.req.valid('json');
      // Before the policies: nobody here holds the target's role, and the caller is told where it is.
      if (as === 'target_admin') refuseTargetApprovalHere(t);
      const actor = await approverFor(c.var.principal, t, as);
      requireIfMatch(c.req.valid('header')['if-match'], t);
      await greenlightAtNotice(db, box, t);
      let after = await approveTransfer(db, actor, t, as);
      if (after.state === 'approved') after = await startNotice(db, actor, after, config.publicUrl, new Date(), box);
      const a = await answer(after);
      c.header('ETag', a.etag);
      return c.json(a.body, 200);
    },
  );

  app.openapi(action('object', 'Object as a member (your data stays out) or as the owner (stops the transfer)'), async (c) => {
    const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.object');
    requireIfMatch(c.req.valid('header')['if-match'], t);
    const a = await answer((await objectToTransfer(db, actor, t)).transfer);
    c.header('ETag', a.etag);
    return c.json(a.body, 200);
  });

  app.openapi(action('cancel', 'Cancel a transfer before the tenancy is frozen'), async (c) => {
    const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.cancel');
    requireIfMatch(c.req.valid('header')['if-match'], t);
    const a = await answer(await cancelTransfer(db, actor, t));
    c.header('ETag', a.etag);
    return c.json(a.body, 200);
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/transfers/{id}/notices/{accountId}/told',
      tags: ['transfers'],
      summary: "Record how a member the notice mail did not reach was told another way: their notice period counts from now",
      request: {
        params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }), accountId: Uuid.openapi({ param: { name: 'accountId', in: 'path' } }) }),
        headers: IfMatchHeader,
        body: jsonBody(ToldIn),
      },
      responses: { 200: jsonContent(TransferOut, 'The transfer after the record'), ...commonErrors, ...preconditions, 409: jsonContent(z.any(), 'Not in notice, or already recorded') },
    }),
    async (c) => {
      const { id, accountId } = c.req.valid('param');
      const { t, actor } = await transferFor(c.var.principal, id, 'transfer.recordNotice');
      requireIfMatch(c.req.valid('header')['if-match'], t);
      const { how, note } = c.req.valid('json');
      await recordTold(db, actor, t, accountId.toLowerCase(), how, note ?? null);
      const a = await answer(t);
      c.header('ETag', a.etag);
      return c.json(a.body, 200);
    },
  );

  /**
   * Whom the notice reached. Those who may list the tenancy's members (its
   * source co-op's admins, its owner and admins) see who is not reached, with
   * their e-mail address, to tell them another way; others see the counts.
   */
  async function deliveryView(p: Principal, t: Transfer, notices: Awaited<ReturnType<typeof memberNotices>>, reach: NoticeReach) {
    const attempts = config.noticeUndeliverableAttempts;
    const tenancy = await findTenancy(db, t.tenancyId);
    const mayList = tenancy ? await guard.canRead(p, 'membership.list', tenancyRef(tenancy)) : false;
    const unreached = reach.notReached.map((n) => ({
      accountId: n.accountId,
      email: n.email,
      mail: n.mail,
      attempts: n.attempts,
      lastError: n.lastError,
      undeliverable: undeliverable(n, attempts),
    }));
    const due = freezeNotBefore(t, reach);
    return {
      members: reach.members,
      reached: reach.reached,
      notReached: reach.notReached.length,
      undeliverable: unreached.filter((u) => u.undeliverable).length,
      allReachedAt: isoOrNull(reach.allReachedAt),
      waiting: t.state !== 'notice' ? null : reach.notReached.length ? ('notice-delivery' as const) : due && due.getTime() > Date.now() ? ('freeze-date' as const) : null,
      ...(mayList ? { unreached } : {}),
    };
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/transfers/{id}/retry',
      tags: ['transfers'],
      summary: 'Run the failed step of a transfer again (the background job or `transfers run` does the work)',
      description:
        'A transfer that failed after the switch with its tenancy at the target verifies again; one whose tenancy went back to the source is frozen there again (copy, switch and verification follow); a completed one whose source deletion failed deletes again.',
      request: { params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }), headers: IfMatchHeader },
      responses: { 200: jsonContent(TransferOut, 'The transfer, on its way again'), ...commonErrors, ...preconditions, 409: jsonContent(z.any(), 'Nothing to retry, or not now') },
    }),
    async (c) => {
      const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.retry');
      requireIfMatch(c.req.valid('header')['if-match'], t);
      const a = await answer(await retryTransfer(db, actor, t));
      c.header('ETag', a.etag);
      return c.json(a.body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/transfers/{id}/resolve',
      tags: ['transfers'],
      summary: 'Settle a failed transfer: roll it forward (complete it at the target) or back (the tenancy at the source, the transfer ended)',
      description:
        "roll-forward needs the tenancy at the target: its files are verified again (size and SHA-256), then the receipt is signed and the transfer completed, with your reason on record for the check that failed. roll-back moves the tenancy back to the source (which still holds everything), ends the transfer and removes the copies at the target; refused while the target holds recordings of the tenancy made since the switch. A transfer to another instance whose receipt is overdue (24 hours after the switch; the target verified every file before it) is completed by roll-forward without the receipt, recorded as missing.",
      request: {
        params: z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }),
        headers: IfMatchHeader,
        body: jsonBody(z.object({ direction: z.enum(['roll-forward', 'roll-back']), reason: z.string().trim().min(1).max(500) }).strict().openapi('TransferResolution')),
      },
      responses: { 200: jsonContent(TransferOut, 'The transfer, resolved'), ...commonErrors, ...preconditions, 409: jsonContent(z.any(), 'Not failed, or not resolvable that way') },
    }),
    async (c) => {
      const { t, actor } = await transferFor(c.var.principal, c.req.valid('param').id, 'transfer.resolve');
      requireIfMatch(c.req.valid('header')['if-match'], t);
      const a = await answer(await resolveTransfer(execution, actor, t, c.req.valid('json')));
      c.header('ETag', a.etag);
      return c.json(a.body, 200);
    },
  );

  /**
   * Each approval role needs its own standing, not just permission to approve:
   * the policies decide the role's action (policies/transfer-approval.cedar).
   * Allowed: the principal acting under that decision. Denied: on record as a
   * refused transfer.approve, and 403 naming the role's rule.
   */
  async function approverFor(p: Principal, t: Transfer, as: keyof typeof APPROVE_AS): Promise<Principal> {
    const action = APPROVE_AS[as];
    const d = await guard.authz.decide(p, action, transferRef(t));
    if (d.decision === 'allow') return authorized(p, { decision: 'allow', policyIds: d.policyIds, policySetHash: d.policySetHash });
    await guard.authz.auditDenial(p, 'transfer.approve', transferRef(t), d);
    throw forbidden(action, d);
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/processing-agreements',
      tags: ['transfers'],
      summary: 'Record an Art. 28 processing agreement between a tenancy and a co-op (the document by its SHA-256)',
      request: { body: jsonBody(AgreementIn) },
      responses: { 201: jsonContent(z.object({ id: z.string() }), 'Recorded'), ...commonErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const tenancy = await findTenancy(db, body.tenancy);
      if (!tenancy) throw problems.notFound('tenancy');
      const actor = await guard.allow(c.var.principal, 'tenancy.update', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
      const coop = await findCoop(db, body.coop);
      if (!coop) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
      const row = await recordProcessingAgreement(db, actor, { tenancyId: tenancy.id, coopId: coop.id, documentSha256: body.documentSha256, signedOn: body.signedOn, validUntil: body.validUntil });
      return c.json({ id: row.id }, 201);
    },
  );

  return app;
}
