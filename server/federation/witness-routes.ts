// The witness over HTTP. Public, as C2SP tlog-witness wants it: POST /witness/add-checkpoint
// (the submission prefix is <PUBLIC_URL>/witness); its answers are the spec's status codes, the
// 200 body cosignature lines, the 409 body the recorded size as text/x.tlog.size, the others
// RFC 9457 problems. Under /api/v1/federation: the platform admins' and auditors' view
// (federation.read) and the logs to witness (federation.manage, audited).
import { Hono } from 'hono';
import { createRoute, z } from '@hono/zod-openapi';
import { router, type AppEnv, type Deps } from '../http/env.js';
import { commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PLATFORM } from '../authz/guard.js';
import { problems, ProblemError } from '../http/problem.js';
import { limitBody } from '../http/body-limit.js';
import { NoteError } from '../audit/note.js';
import { addCheckpoint, addWitnessedLog, listIncidents, listWitnessedLogs } from './witness.js';
import { witnessKey } from './witness-key.js';
import { addCosigningWitness, collectCosignatures } from './cosigning.js';
import { outboundFor } from '../net/outbound.js';
import { cosigningWitnesses } from './table.js';
import { syncAllPeers } from './peer-witnessing.js';
import { TrustChainResolver } from '../../federation/trust-chain.js';

/** 63 proof lines and a checkpoint with its signatures fit many times over. */
const ADD_CHECKPOINT_LIMIT = 64 * 1024;
const TITLES: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  403: ['witness-unverified', 'The checkpoint is not signed by the log'],
  404: ['witness-unknown-log', 'Unknown log'],
  422: ['witness-inconsistent', 'The checkpoint is not consistent with the one cosigned before'],
};

/** A vkey the note code cannot read is the caller's input error, named by its field like every other. */
async function vkeyChecked<T>(add: () => Promise<T>): Promise<T> {
  try {
    return await add();
  } catch (e) {
    if (e instanceof NoteError) throw problems.validation([{ path: 'vkey', message: e.message }]);
    throw e;
  }
}

export function witnessPublicRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('/witness/add-checkpoint', limitBody(ADD_CHECKPOINT_LIMIT));
  app.post('/witness/add-checkpoint', async (c) => {
    const answer = await addCheckpoint({ db: deps.db, box: deps.box, publicUrl: deps.config.publicUrl }, new Uint8Array(await c.req.arrayBuffer()));
    if (answer.status === 200) return c.body(answer.cosignature, 200, { 'Content-Type': 'text/plain; charset=utf-8' });
    if (answer.status === 409) return c.body(`${answer.size}\n`, 409, { 'Content-Type': 'text/x.tlog.size' });
    const [type, title] = TITLES[answer.status]!;
    if (answer.incident) c.var.log.warn({ incident: answer.incident }, 'witness: inconsistent checkpoint refused and recorded');
    throw new ProblemError(answer.status, type, title, answer.detail, answer.incident ? { incident: answer.incident } : {});
  });
  return app;
}

const ViaEntity = z.string().nullable().openapi({ description: 'The pinned peer whose metadata named it; null: added by hand' });
const LogOut = z.object({ origin: z.string(), vkey: z.string(), size: z.number().int(), rootHash: z.string().nullable(), updatedAt: z.string().nullable(), viaEntity: ViaEntity }).openapi('WitnessedLog');
const WitnessOut = z
  .object({ vkey: z.string().openapi({ description: 'cosignature/v1 verifier key (type 0x04) for witness policies' }), submissionPrefix: z.string(), logs: z.array(LogOut) })
  .openapi('Witness');
const IncidentOut = z
  .object({
    id: z.string(),
    origin: z.string(),
    kind: z.enum(['fork', 'rollback', 'bad-proof']),
    detectedAt: z.string(),
    oldSize: z.number().int(),
    proof: z.array(z.string()),
    recordedCheckpoint: z.string().openapi({ description: 'The checkpoint this witness had cosigned, as received' }),
    presentedCheckpoint: z.string().openapi({ description: 'The checkpoint that contradicts it, as received' }),
  })
  .openapi('WitnessIncident');
const AddLog = z
  .object({ origin: z.string().min(1).max(500), vkey: z.string().min(1).max(1000).openapi({ description: "The log's checkpoint verifier key (signed-note vkey); its name is the origin" }) })
  .strict();

export function witnessApiRoutes(deps: Deps) {
  const { db, guard } = deps;
  const resolver = new TrustChainResolver(outboundFor(deps.config)); // pinned peers are read afresh: nothing cached
  const app = router();

  app.openapi(
    createRoute({ method: 'get', path: '/federation/witness', tags: ['federation'], summary: "This instance's witness key and the logs it witnesses", responses: { 200: jsonContent(WitnessOut, 'The witness'), ...commonErrors } }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      const key = await witnessKey(db, deps.box, deps.config.publicUrl);
      return c.json({ vkey: key.vkey, submissionPrefix: `${deps.config.publicUrl}/witness`, logs: await listWitnessedLogs(db) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/federation/witness/logs',
      tags: ['federation'],
      summary: "Witness a log: cosign its checkpoints when consistent (a known origin keeps what was cosigned, with the new key)",
      request: { body: jsonBody(AddLog) },
      responses: { 201: jsonContent(LogOut, 'Witnessed'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await vkeyChecked(() => addWitnessedLog(db, actor, c.req.valid('json'))), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/federation/incidents',
      tags: ['federation'],
      summary: 'Checkpoints this witness refused as a fork, a rollback or an inconsistent proof, with both notes as evidence',
      responses: { 200: jsonContent(z.object({ items: z.array(IncidentOut) }), 'Newest first'), ...commonErrors },
    }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      return c.json({ items: await listIncidents(db) }, 200);
    },
  );
  const CosignerIn = z
    .object({
      url: z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL').openapi({ example: 'https://peer.example.coop/witness/add-checkpoint' }),
      vkey: z.string().min(1).max(1000).openapi({ description: "The witness's cosignature/v1 vkey (type 0x04)" }),
    })
    .strict();
  const CosignerOut = z.object({ url: z.string(), vkey: z.string(), size: z.number().int().optional(), viaEntity: ViaEntity }).openapi('CosigningWitness');
  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/witnesses',
      tags: ['audit'],
      summary: "Witnesses asked to cosign this instance's audit checkpoints, with the size each last cosigned",
      responses: { 200: jsonContent(z.object({ items: z.array(CosignerOut) }), 'Witnesses'), ...commonErrors },
    }),
    async (c) => {
      await guard.allow(c.var.principal, 'federation.read', PLATFORM, 'federation');
      const rows = await db.select().from(cosigningWitnesses).orderBy(cosigningWitnesses.url);
      return c.json({ items: rows.map((r) => ({ url: r.url, vkey: r.vkey, size: r.size, viaEntity: r.viaEntity })) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/audit/witnesses',
      tags: ['audit'],
      summary: "Ask a witness to cosign this instance's audit checkpoints (its add-checkpoint URL and key)",
      request: { body: jsonBody(CosignerIn) },
      responses: { 201: jsonContent(CosignerOut, 'Added'), ...commonErrors },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      return c.json(await vkeyChecked(() => addCosigningWitness(db, actor, c.req.valid('json'))), 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/audit/cosign',
      tags: ['audit'],
      summary: "Re-read the pinned peers' witnesses, then ask every witness now to cosign the newest checkpoint (both done in the background anyway)",
      responses: {
        200: jsonContent(z.object({ items: z.array(z.object({ url: z.string(), size: z.number().int(), outcome: z.enum(['cosigned', 'refused', 'unreachable']), detail: z.string().optional() })) }), 'What each witness answered'),
        ...commonErrors,
      },
    }),
    async (c) => {
      const actor = await guard.allow(c.var.principal, 'federation.manage', PLATFORM, 'federation');
      await syncAllPeers(db, resolver, actor); // a peer's rotated key, now rather than at the next sync
      await deps.signer.issue(db);
      return c.json({ items: await collectCosignatures(db, outboundFor(deps.config)) }, 200);
    },
  );
  return app;
}
