// REST for platform hand-overs (/api/v1/handovers...): plan, approve, run the
// waves, custody, the owners' answers, the checklist, delegated operators,
// cut-over, completion and the signed report. Permissions are decided by the
// Cedar policies (policies/handover.cedar); an owner answers on their
// tenancy's transfer, with the transfer's own actions deciding (its ETag as
// If-Match). Every change answers the hand-over's new ETag.
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { router, type Deps } from '../http/env.js';
import { IdOrSlug, IfMatchHeader, Name, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { ProblemError, problems } from '../http/problem.js';
import { authorized, type Principal } from '../auth/principal.js';
import { forbidden } from '../authz/authz.js';
import { coopFor } from '../authz/objects.js';
import { findCoop } from '../coops/service.js';
import { PLATFORM, transferRef } from '../authz/guard.js';
import { findTransfer } from '../transfers/service.js';
import { isoOrNull } from '../time.js';
import type { HandoverDeps } from './deps.js';
import { handoverDepsOf } from './build-deps.js';
import { handoverRef } from './refs.js';
import { handoverApprovals, handoverTenancies } from './table.js';
import { createPlan, findHandover, listHandovers, planParts, setRunWaves, type Handover } from './plan.js';
import { approvePlan } from './approvals.js';
import { answerHandover } from './answers.js';
import { retryTenancy, runWave } from './waves.js';
import { transferCustody } from './custody.js';
import { delegateOperators } from './operators.js';
import { addTask, commentOnTask, findTask, tasksOf, updateTask } from './tasks.js';
import { completeHandover, cutOver } from './cutover.js';
import { progressOf } from './progress.js';
import { guideSettingsOf, operationsGuide } from './guide.js';
import { cancelHandover } from './cancel.js';

const DateTime = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/, 'must be an ISO 8601 date and time with a time zone, e.g. 2026-12-31T20:00Z')
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'no such date and time' });
const Day = z.iso.date();
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex');

const RunWaves = z
  .enum(['automatic', 'by-hand'])
  .openapi({ description: "automatic: each wave runs on its own while its freeze window is open (the window members were told); by-hand: only when an admin runs it" });

const PlanIn = z
  .object({
    name: Name,
    sourceCoop: IdOrSlug,
    targetCoop: IdOrSlug,
    clusters: z
      .array(z.object({ cluster: Uuid, mode: z.enum(['data-move', 'custody']), targetCluster: Uuid.optional() }).strict())
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'The source clusters the plan covers, each data-move (its tenancies move; target cluster chosen by room if not named) or custody (the cluster changes hands). Default: every cluster of the source co-op, data-move' }),
    noticeDays: z.number().int().min(0).max(365).optional().openapi({ description: 'Days of notice every member gets before their wave (default and least: the policy minimum)' }),
    announceAt: DateTime,
    waves: z
      .array(
        z
          .object({
            freezeFrom: DateTime,
            freezeUntil: DateTime,
            concurrency: z.number().int().min(1).max(50).default(4),
            tenancies: z.array(Uuid).max(10_000).optional().openapi({ description: 'Tenancies put in this wave; the others fill the waves evenly' }),
          })
          .strict(),
      )
      .min(1)
      .max(50),
    cutoverAt: DateTime,
    decommissionAt: DateTime,
    agreement: z.object({ documentSha256: Sha256, signedOn: Day }).strict().optional().openapi({ description: 'The Art. 28 agreement (by SHA-256) recorded for every tenancy that moves' }),
    runWaves: RunWaves.default('automatic'),
    greenlights: z
      .array(z.object({ source: IdOrSlug, target: IdOrSlug.nullable() }).strict())
      .max(50)
      .optional()
      .openapi({
        description:
          "Where members' Greenlight rooms go: each Greenlight of the source co-op (slug or id) its tenancies name, to a Greenlight of the target co-op (v3, SECRET_KEY_BASE set), or null to leave those rooms behind. Every Greenlight whose database meetplane can read must be mapped.",
      }),
  })
  .strict()
  .openapi('HandoverPlan');

const HandoverOut = z
  .object({
    id: z.string(),
    name: z.string(),
    sourceCoopId: z.string(),
    targetCoopId: z.string(),
    state: z.string(),
    noticeDays: z.number().int(),
    runWaves: RunWaves,
    greenlights: z.array(z.object({ sourceId: z.string(), targetId: z.string().nullable() })).openapi({ description: "Where members' Greenlight rooms go (targetId null: they stay)" }),
    announceAt: Timestamp,
    cutoverAt: Timestamp,
    decommissionAt: Timestamp,
    cutOverAt: Timestamp.nullable(),
    version: z.number().int(),
    approvals: z.array(z.object({ role: z.string(), accountId: z.string(), at: Timestamp })),
    clusters: z.array(z.any()),
    waves: z.array(z.any()),
    tenancies: z.object({ total: z.number().int(), byState: z.record(z.string(), z.number().int()) }),
  })
  .openapi('Handover');

const idParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const preconditions = { 412: jsonContent(z.any(), 'Changed meanwhile (If-Match does not match)'), 428: jsonContent(z.any(), 'If-Match missing') };
const conflictAnswer = { 409: jsonContent(z.any(), 'Not in a state for this') };
const APPROVE_AS = { source_admin: 'handover.approveAsSource', target_admin: 'handover.approveAsTarget' } as const;

export function handoverRoutes({ db, box, log, signer, config, guard }: Deps) {
  const app = router();
  const deps: HandoverDeps = handoverDepsOf({ db, box, log, signer, config, guard });

  async function handoverFor(p: Principal, id: string, action: string) {
    const h = await findHandover(db, id);
    if (!h) throw problems.notFound('hand-over');
    return { h, actor: await guard.allow(p, action, handoverRef(h), 'hand-over', 'handover.read') };
  }

  async function view(h: Handover) {
    const parts = await planParts(db, h.id);
    const approvals = await db.select().from(handoverApprovals).where(eq(handoverApprovals.handoverId, h.id));
    const byState: Record<string, number> = {};
    for (const t of parts.tenancies) byState[t.state] = (byState[t.state] ?? 0) + 1;
    return {
      id: h.id,
      name: h.name,
      sourceCoopId: h.sourceCoopId,
      targetCoopId: h.targetCoopId,
      state: h.state,
      noticeDays: h.noticeDays,
      runWaves: h.runWaves,
      greenlights: h.greenlights,
      announceAt: h.announceAt.toISOString(),
      cutoverAt: h.cutoverAt.toISOString(),
      decommissionAt: h.decommissionAt.toISOString(),
      cutOverAt: isoOrNull(h.cutOverAt),
      version: h.version,
      approvals: approvals.map((a) => ({ role: a.role, accountId: a.accountId, at: a.createdAt.toISOString() })),
      clusters: parts.clusters.map((c) => ({ clusterId: c.clusterId, mode: c.mode, targetClusterId: c.targetClusterId, placement: c.placement, custodyDoneAt: isoOrNull(c.custodyDoneAt) })),
      waves: parts.waves.map((w) => ({
        n: w.n,
        freezeFrom: w.freezeFrom.toISOString(),
        freezeUntil: w.freezeUntil.toISOString(),
        concurrency: w.concurrency,
        startedAt: isoOrNull(w.startedAt),
        tenancies: parts.tenancies.filter((t) => t.wave === w.n).length,
      })),
      tenancies: { total: parts.tenancies.length, byState },
    };
  }

  /** Answers the hand-over after a change, with its ETag. */
  async function answer(c: { header(n: string, v: string): void }, h: Handover) {
    const now = (await findHandover(db, h.id))!;
    c.header('ETag', etagOf(now));
    return view(now);
  }

  app.openapi(
    createRoute({ method: 'get', path: '/handovers', tags: ['handovers'], summary: 'Hand-overs you may see', request: { query: PageQuery }, responses: { 200: jsonContent(pageSchema(z.any()), 'A page of hand-overs'), ...commonErrors } }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      await guard.allow(c.var.principal, 'handover.list', PLATFORM, 'hand-overs');
      const pg = page(await listHandovers(db, { limit, after: decodeCursor(cursor) }), limit);
      const items = await guard.visible(c.var.principal, pg.items, 'handover.read', handoverRef);
      return c.json({ items: await Promise.all(items.map(view)), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers',
      tags: ['handovers'],
      summary: "Plan the hand-over of a co-op's platform to another co-op (a draft until an admin of each co-op approves)",
      request: { body: jsonBody(PlanIn) },
      responses: { 201: jsonContent(HandoverOut, 'Planned'), ...commonErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { coop: source, actor } = await coopFor(db, guard, c.var.principal, body.sourceCoop, 'handover.create');
      const target = await findCoop(db, body.targetCoop);
      if (!target) throw problems.validation([{ path: 'targetCoop', message: 'no such co-op' }]);
      const h = await createPlan(
        db,
        actor,
        {
          name: body.name,
          sourceCoopId: source.id,
          targetCoopId: target.id,
          ...(body.clusters ? { clusters: body.clusters.map((x) => ({ clusterId: x.cluster.toLowerCase(), mode: x.mode, ...(x.targetCluster ? { targetClusterId: x.targetCluster.toLowerCase() } : {}) })) } : {}),
          noticeDays: body.noticeDays ?? config.transferMinNoticeDays,
          announceAt: new Date(body.announceAt),
          waves: body.waves.map((w) => ({ freezeFrom: new Date(w.freezeFrom), freezeUntil: new Date(w.freezeUntil), concurrency: w.concurrency, ...(w.tenancies ? { tenancyIds: w.tenancies.map((t) => t.toLowerCase()) } : {}) })),
          cutoverAt: new Date(body.cutoverAt),
          decommissionAt: new Date(body.decommissionAt),
          agreement: body.agreement ? { sha256: body.agreement.documentSha256, signedOn: body.agreement.signedOn } : null,
          runWaves: body.runWaves,
          ...(body.greenlights ? { greenlights: body.greenlights } : {}),
        },
        { now: new Date(), minNoticeDays: config.transferMinNoticeDays },
      );
      c.header('Location', `/api/v1/handovers/${h.id}`);
      c.header('ETag', etagOf(h));
      return c.json(await view(h), 201);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/handovers/{id}', tags: ['handovers'], summary: 'The plan: clusters and their placement, waves, approvals, tenancies by state', request: { params: idParam }, responses: { 200: jsonContent(HandoverOut, 'The plan'), ...commonErrors } }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      c.header('ETag', etagOf(h));
      return c.json(await view(h), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/handovers/{id}/status',
      tags: ['handovers'],
      summary: 'Progress for both co-ops: each tenancy with its wave, answer, transfer state, bytes copied and failure; open tasks',
      request: { params: idParam },
      responses: { 200: jsonContent(z.any(), 'Progress'), ...commonErrors },
    }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      c.header('ETag', etagOf(h));
      return c.json(await progressOf(db, h), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/handovers/{id}/guide',
      tags: ['handovers'],
      summary: "The platform's one-page operations guide, generated from meetplane's own records: clusters, versions, storage, jobs, secrets and their rotation, thresholds, contacts, checklist, runbook",
      request: { params: idParam },
      responses: { 200: { description: 'Markdown', content: { 'text/markdown': { schema: z.string() } } }, ...commonErrors },
    }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      const md = await operationsGuide(db, h, guideSettingsOf(config));
      return c.body(md, 200, { 'Content-Type': 'text/markdown; charset=utf-8' });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/approve',
      tags: ['handovers'],
      summary: "Approve as the source or the target co-op's admin; the second approval makes every tenancy's transfer",
      request: { params: idParam, headers: IfMatchHeader, body: jsonBody(z.object({ as: z.enum(['source_admin', 'target_admin']) }).strict()) },
      responses: { 200: jsonContent(HandoverOut, 'After the approval'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      const { as } = c.req.valid('json');
      const p = c.var.principal;
      const d = await guard.authz.decide(p, APPROVE_AS[as], handoverRef(h));
      if (d.decision !== 'allow') {
        await guard.authz.auditDenial(p, APPROVE_AS[as], handoverRef(h), d);
        throw forbidden(APPROVE_AS[as], d);
      }
      requireIfMatch(c.req.valid('header')['if-match'], h);
      const after = await approvePlan(deps, authorized(p, { decision: 'allow', policyIds: d.policyIds, policySetHash: d.policySetHash }), h, as);
      return c.json(await answer(c, after), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/waves/{n}/run',
      tags: ['handovers'],
      summary: "Run a wave: its tenancies' transfers move on, at most the wave's concurrency at once; each tenancy's result (a failure is reported, never blocks the others)",
      request: { params: idParam.extend({ n: z.coerce.number().int().min(1).max(50).openapi({ param: { name: 'n', in: 'path' } }) }), headers: IfMatchHeader },
      responses: { 200: jsonContent(z.any(), 'The wave after the run'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { id, n } = c.req.valid('param');
      const { h, actor } = await handoverFor(c.var.principal, id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      const run = await runWave(deps, actor, h, n);
      c.header('ETag', etagOf((await findHandover(db, h.id))!));
      return c.json(run, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/handovers/{id}/run-waves',
      tags: ['handovers'],
      summary: 'Whether the waves run on their own in their windows (automatic) or only when an admin runs them (by-hand); If-Match required',
      request: { params: idParam, headers: IfMatchHeader, body: jsonBody(z.object({ runWaves: RunWaves }).strict()) },
      responses: { 200: jsonContent(HandoverOut, 'The plan'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      const updated = await setRunWaves(db, actor, h, c.req.valid('json').runWaves);
      c.header('ETag', etagOf(updated));
      return c.json(await view(updated), 200);
    },
  );

  const tenancyParams = idParam.extend({ tenancyId: Uuid.openapi({ param: { name: 'tenancyId', in: 'path' } }) });
  async function handoverTenancy(h: Handover, tenancyId: string) {
    const [ht] = await db.select().from(handoverTenancies).where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.tenancyId, tenancyId.toLowerCase())));
    if (!ht) throw problems.notFound('tenancy of this hand-over');
    return ht;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/tenancies/{tenancyId}/answer',
      tags: ['handovers'],
      summary: "The owner's answer for their tenancy: accept (approves its transfer), object (stay, export, or another host: the transfer stops) or ask for the next wave",
      description: "If-Match is the tenancy's transfer's ETag (owners read their transfer, not the plan). accept asks transfer.approve and transfer.approveAsOwner; object asks transfer.object; later asks handover.askLater.",
      request: {
        params: tenancyParams,
        headers: IfMatchHeader,
        body: jsonBody(
          z.discriminatedUnion('answer', [
            z.object({ answer: z.literal('accept') }).strict(),
            z.object({ answer: z.literal('object'), choice: z.enum(['stay', 'export', 'other-host']) }).strict(),
            z.object({ answer: z.literal('later') }).strict(),
          ]),
        ),
      },
      responses: { 200: jsonContent(z.object({ tenancyId: z.string(), state: z.string(), transferId: z.string().nullable(), wave: z.number().int() }), 'The tenancy in the hand-over'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { id, tenancyId } = c.req.valid('param');
      const h = await findHandover(db, id);
      if (!h) throw problems.notFound('hand-over');
      const ht = await handoverTenancy(h, tenancyId);
      const t = ht.transferId ? await findTransfer(db, ht.transferId) : undefined;
      if (!t) throw problems.notFound('transfer of this tenancy');
      const body = c.req.valid('json');
      const action = body.answer === 'accept' ? 'transfer.approve' : body.answer === 'object' ? 'transfer.object' : 'handover.askLater';
      const actor = await guard.allow(c.var.principal, action, transferRef(t), 'transfer', 'transfer.read');
      requireIfMatch(c.req.valid('header')['if-match'], t);
      await answerHandover(deps, actor, h, ht, body);
      const after = await handoverTenancy(h, tenancyId);
      return c.json({ tenancyId: after.tenancyId, state: after.state, transferId: after.transferId, wave: after.wave }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/tenancies/{tenancyId}/retry',
      tags: ['handovers'],
      summary: "Retry a failed tenancy: its failed step again, or a new transfer carrying the plan's approvals (and the owner's acceptance)",
      request: { params: tenancyParams },
      responses: { 200: jsonContent(z.object({ tenancyId: z.string(), state: z.string(), transferId: z.string().nullable() }), 'The tenancy after the retry'), ...commonErrors, ...conflictAnswer },
    }),
    async (c) => {
      const { id, tenancyId } = c.req.valid('param');
      const { h, actor } = await handoverFor(c.var.principal, id, 'handover.run');
      await retryTenancy(deps, actor, h, await handoverTenancy(h, tenancyId));
      const after = await handoverTenancy(h, tenancyId);
      return c.json({ tenancyId: after.tenancyId, state: after.state, transferId: after.transferId }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/clusters/{clusterId}/custody',
      tags: ['handovers'],
      summary: 'Custody transfer of a cluster: re-registered under the target co-op with its new secret, roles on it revoked, its tenancies moved with it (no data copied)',
      request: {
        params: idParam.extend({ clusterId: Uuid.openapi({ param: { name: 'clusterId', in: 'path' } }) }),
        headers: IfMatchHeader,
        body: jsonBody(z.object({ secret: z.string().min(16).max(200).openapi({ description: 'The new shared secret, already set on the server' }) }).strict()),
      },
      responses: { 200: jsonContent(z.object({ clusterId: z.string(), tenancies: z.number().int(), grantsRevoked: z.array(z.string()) }), 'Done'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { id, clusterId } = c.req.valid('param');
      const { h, actor } = await handoverFor(c.var.principal, id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      return c.json(await transferCustody(deps, box, actor, h, clusterId.toLowerCase(), c.req.valid('json').secret), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/operators',
      tags: ['handovers'],
      summary: "Delegate cluster_operator on the plan's source clusters to a member of the target co-op's team, expiring with the plan",
      request: { params: idParam, body: jsonBody(z.object({ account: Uuid }).strict()) },
      responses: { 201: jsonContent(z.object({ grants: z.array(z.object({ grantId: z.string(), clusterId: z.string(), expiresAt: Timestamp })) }), 'Delegated'), ...commonErrors, ...conflictAnswer },
    }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.delegateOperators');
      const grants = await delegateOperators({ ...deps, maxDepth: config.delegationMaxDepth }, actor, h, c.req.valid('json').account.toLowerCase());
      return c.json({ grants }, 201);
    },
  );

  const Task = z
    .object({ title: Name, assignee: Uuid.nullable().optional(), dueOn: Day.nullable().optional(), blocking: z.boolean().optional() })
    .strict()
    .openapi('HandoverTaskIn');
  const taskOut = (t: Awaited<ReturnType<typeof tasksOf>>[number] | (Omit<Awaited<ReturnType<typeof tasksOf>>[number], 'comments'> & { comments?: never })) => ({
    id: t.id,
    title: t.title,
    assigneeId: t.assigneeId,
    dueOn: t.dueOn,
    status: t.status,
    blocking: t.blocking,
    version: t.version,
    comments: (t.comments ?? []).map((x) => ({ id: x.id, accountId: x.accountId, body: x.body, at: x.createdAt.toISOString() })),
  });

  app.openapi(
    createRoute({ method: 'get', path: '/handovers/{id}/tasks', tags: ['handovers'], summary: 'The shared operations checklist, with comments', request: { params: idParam }, responses: { 200: jsonContent(z.any(), 'Tasks'), ...commonErrors } }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      return c.json({ items: (await tasksOf(db, h.id)).map(taskOut) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/handovers/{id}/tasks', tags: ['handovers'], summary: 'Add a task (assignee from either co-op; blocking holds the cut-over)', request: { params: idParam, body: jsonBody(Task) }, responses: { 201: jsonContent(z.any(), 'Added'), ...commonErrors, ...conflictAnswer } }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.tasks');
      const b = c.req.valid('json');
      const t = await addTask(db, actor, h, { title: b.title, assigneeId: b.assignee?.toLowerCase() ?? null, dueOn: b.dueOn ?? null, blocking: b.blocking ?? false });
      c.header('ETag', etagOf(t));
      return c.json(taskOut(t), 201);
    },
  );

  const taskParams = idParam.extend({ taskId: Uuid.openapi({ param: { name: 'taskId', in: 'path' } }) });
  async function taskFor(p: Principal, id: string, taskId: string) {
    const { h, actor } = await handoverFor(p, id, 'handover.tasks');
    const t = await findTask(db, h, taskId.toLowerCase());
    if (!t) throw problems.notFound('task');
    return { h, t, actor };
  }

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/handovers/{id}/tasks/{taskId}',
      tags: ['handovers'],
      summary: "Change a task's status, assignee, due date or blocking flag (If-Match: the task's ETag)",
      request: { params: taskParams, headers: IfMatchHeader, body: jsonBody(Task.partial().extend({ status: z.enum(['open', 'in-progress', 'done', 'dropped']).optional() }).strict()) },
      responses: { 200: jsonContent(z.any(), 'The task'), ...commonErrors, ...preconditions },
    }),
    async (c) => {
      const { id, taskId } = c.req.valid('param');
      const { h, t, actor } = await taskFor(c.var.principal, id, taskId);
      requireIfMatch(c.req.valid('header')['if-match'], t);
      const b = c.req.valid('json');
      const after = await updateTask(db, actor, h, t, {
        ...(b.title !== undefined ? { title: b.title } : {}),
        ...(b.assignee !== undefined ? { assigneeId: b.assignee?.toLowerCase() ?? null } : {}),
        ...(b.dueOn !== undefined ? { dueOn: b.dueOn } : {}),
        ...(b.blocking !== undefined ? { blocking: b.blocking } : {}),
        ...(b.status !== undefined ? { status: b.status } : {}),
      });
      c.header('ETag', etagOf(after));
      return c.json(taskOut(after), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/tasks/{taskId}/comments',
      tags: ['handovers'],
      summary: "Add to a task's comment trail",
      request: { params: taskParams, body: jsonBody(z.object({ body: z.string().trim().min(1).max(4000) }).strict()) },
      responses: { 201: jsonContent(z.object({ id: z.string() }), 'Added'), ...commonErrors },
    }),
    async (c) => {
      const { id, taskId } = c.req.valid('param');
      const { t, actor } = await taskFor(c.var.principal, id, taskId);
      const comment = await commentOnTask(db, actor, t, c.req.valid('json').body);
      return c.json({ id: comment.id }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/cut-over',
      tags: ['handovers'],
      summary: 'Cut over: refused (409 blocking-tasks, naming them) while a blocking task is open, and while tenancies are on the way or custody clusters wait',
      request: { params: idParam, headers: IfMatchHeader },
      responses: { 200: jsonContent(HandoverOut, 'Cut over'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      return c.json(await answer(c, await cutOver(deps, actor, h)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/complete',
      tags: ['handovers'],
      summary: 'Complete: the final report is signed by both co-ops',
      request: { params: idParam, headers: IfMatchHeader },
      responses: { 200: jsonContent(HandoverOut, 'Completed'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      return c.json(await answer(c, await completeHandover(deps, box, actor, h)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/handovers/{id}/cancel',
      tags: ['handovers'],
      summary: "Cancel a hand-over before its waves run: its transfers are cancelled, its tenancies stay, the operator roles it delegated are revoked",
      request: { params: idParam, headers: IfMatchHeader, body: jsonBody(z.object({ reason: z.string().trim().min(1).max(500) }).strict()) },
      responses: { 200: jsonContent(HandoverOut, 'Cancelled'), ...commonErrors, ...preconditions, ...conflictAnswer },
    }),
    async (c) => {
      const { h, actor } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.run');
      requireIfMatch(c.req.valid('header')['if-match'], h);
      return c.json(await answer(c, await cancelHandover(deps, actor, h, c.req.valid('json').reason)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/handovers/{id}/report',
      tags: ['handovers'],
      summary: "The final report, signed by the source co-op and countersigned by the target (verify with both co-ops' /coops/{id}/jwks)",
      request: { params: idParam },
      responses: { 200: { description: 'JWS, General JSON Serialization', content: { 'application/jose+json': { schema: z.any() } } }, ...commonErrors },
    }),
    async (c) => {
      const { h } = await handoverFor(c.var.principal, c.req.valid('param').id, 'handover.read');
      if (!h.report) throw new ProblemError(404, 'not-found', 'Not found', `the hand-over has no report: it is ${h.state}, not completed`, { state: h.state });
      return c.json(h.report, 200, { 'Content-Type': 'application/jose+json' });
    },
  );

  return app;
}
