// Two meetplane instances on loopback for the tests of transfers between instances: A hosts a UK
// co-op (Harbour) with a cluster, B a Québec co-op (Coop Érable, PIPEDA) with its Montreal cluster;
// each cluster is one side of a BBB double pair, with file:// storage in that double's directory.
// Also what every such test drives the protocol with: an instance's peer-transfer deps, and A's
// transfers runner with the steps between instances.
import { expect } from 'vitest';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { decodeMasterKey } from '../../server/crypto/master-key.js';
import { pollClusters } from '../../server/clusters/health.js';
import { createLogger } from '../../server/logger.js';
import { CheckpointSigner, auditOrigin } from '../../server/audit/checkpoints.js';
import { deliverDue, smtpTransport } from '../../server/mail/outbox.js';
import { transferDeps } from '../../server/transfers/deps.js';
import type { ExecutionDeps } from '../../server/transfers/execute.js';
import { peerSteps } from '../../server/peer-transfers/steps.js';
import type { PeerTransferDeps } from '../../server/peer-transfers/deps.js';
import { TrustChainResolver } from '../../federation/trust-chain.js';
import { coopAdminWithToken, createCluster, createCoop } from './fixtures.js';
import type { BbbPair } from './bbb/pair.js';
import type { SmtpSink } from './smtp.js';
import type { TestServer } from './server.js';

export type Entity = { entityId: string; thumbprint: string };
export type Person = { token: string; accountId: string };

/** The instance's entity id and key thumbprint, as a peer pins it. */
export const entityOf = async (s: TestServer) => (await s.api('GET', '/api/v1/federation')).json.self as Entity;
export const boxOf = (s: TestServer) => new SecretBox(decodeMasterKey(s.masterKey));

/** What the protocol's functions take at `s` (a fresh resolver: nothing cached between calls). */
export const peerDepsOf = (s: TestServer): PeerTransferDeps => ({
  db: s.database.db,
  box: boxOf(s),
  publicUrl: s.url,
  outbound: s.outbound,
  resolver: new TrustChainResolver(s.outbound),
  transfer: transferDeps(s.database.db, { transferMinNoticeDays: 0 }),
});

/** A's transfers runner (advanceTransfer), with no meeting grace and the given source grace period. */
export async function sourceRunner(a: TestServer, graceMs: number): Promise<ExecutionDeps> {
  const pa = peerDepsOf(a);
  return {
    ...pa.transfer,
    db: a.database.db,
    box: pa.box,
    log: createLogger('silent'),
    signer: await CheckpointSigner.load(a.database.db, pa.box, auditOrigin(a.url)),
    outbound: a.outbound,
    publicUrl: a.url,
    timing: { meetingGraceMs: 0, sourceGraceMs: graceMs },
    peerSteps: peerSteps(pa, graceMs),
  };
}

export interface UkAndQuebec {
  uk: { id: string };
  ukCluster: { id: string };
  quebec: { id: string; slug: string };
  montreal: { id: string; slug: string };
  /** B's co-op admin who approves transfers: answers offers */
  bAdmin: Person;
}

/**
 * The UK co-op and its cluster at A, the Québec co-op and its Montreal cluster at B (polled, so
 * online), and B's co-op admin. `secrets`: the BBB double pair's; `contactEmail`: what B's co-op states.
 */
export async function ukAndQuebec(a: TestServer, b: TestServer, bbb: BbbPair, secrets: { source: string; target: string }, opts: { contactEmail?: string } = {}): Promise<UkAndQuebec> {
  const uk = await createCoop(a, { name: 'Harbour Co-op', jurisdiction: 'GB', legalRegime: 'uk_gdpr' });
  const ukCluster = await createCluster(a, uk.id, { country: 'GB', apiUrl: bbb.source.url, secret: secrets.source });
  expect((await a.api('PUT', `/api/v1/clusters/${ukCluster.id}/storage`, { body: { url: `file://${bbb.dirs.source}` } })).status).toBe(200);
  const quebec = await createCoop(b, { name: 'Coop Érable', jurisdiction: 'CA', legalRegime: 'other', pipedaSubject: true, ...(opts.contactEmail ? { contactEmail: opts.contactEmail } : {}) });
  const montreal = await createCluster(b, quebec.id, { name: 'Montreal', country: 'CA', apiUrl: bbb.target.url, secret: secrets.target });
  expect((await b.api('PUT', `/api/v1/clusters/${montreal.id}/storage`, { body: { url: `file://${bbb.dirs.target}` } })).status).toBe(200);
  await pollClusters(b.database.db, boxOf(b), { outbound: b.outbound });
  return { uk, ukCluster, quebec, montreal, bAdmin: await coopAdminWithToken(b, quebec.id) };
}

/** Pins each instance as the other's peer, with witnessing on unless `witness` is false; returns their entities. */
export async function pinEachOther(a: TestServer, b: TestServer, opts: { witness?: boolean } = {}): Promise<[Entity, Entity]> {
  const [A, B] = [await entityOf(a), await entityOf(b)];
  for (const [s, e] of [[a, B], [b, A]] as const) {
    const pinned = await s.api('POST', '/api/v1/federation/peers', { body: opts.witness === false ? { ...e, witness: false } : e });
    expect(pinned.status, pinned.text).toBe(201);
  }
  return [A, B];
}

/** Sends every mail `s` has queued to the SMTP sink (the notice reaching the members). */
export async function deliverAllMail(s: TestServer, smtp: SmtpSink): Promise<void> {
  while ((await deliverDue(s.database.db, smtpTransport(smtp.url), 'meetplane@example.org', createLogger('silent'))).sent > 0);
}
