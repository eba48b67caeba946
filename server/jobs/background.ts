// The background jobs this instance runs, wired to the generic Worker: health polls
// of every cluster and recording inventories of every tenancy (periodic), and
// one-off inventory refreshes (after a recording-ready callback), the sign-on's
// expired-row cleanup (periodic), transfers and hand-over waves.
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import type { Config } from '../config.js';
import { pollClusters } from '../clusters/health.js';
import { noteRunningMeetings, refreshInventory } from '../inventory/service.js';
import { listTenancies } from '../tenancies/service.js';
import { SSO_SWEEP_JOB, SSO_SWEEP_PERIOD_MS, sweepSignOn } from '../oidc/sweep.js';
import { BACKCHANNEL_LOGOUT_JOB, deliverLogout } from '../oidc/backchannel.js';
import { OIDC_PREFIX } from '../oidc/provider.js';
import { deliverDue, smtpTransport } from '../mail/outbox.js';
import { ensurePeriodic } from './queue.js';
import { advanceDueTransfers, DEFAULT_TIMING } from '../transfers/execute.js';
import { peerSteps } from '../peer-transfers/steps.js';
import { transfersHeldByHandovers } from '../handovers/held.js';
import { runDueWaves } from '../handovers/wave-runner.js';
import { transferDeps } from '../transfers/deps.js';
import { deliverDueMessages } from '../peer-transfers/due.js';
import { TrustChainResolver } from '../../federation/trust-chain.js';
import type { CheckpointSigner } from '../audit/checkpoints.js';
import type { Outbound } from '../net/outbound.js';
import { Worker, type JobHandler } from './worker.js';

export const HEALTH_JOB = 'clusters.health';
export const INVENTORY_ALL_JOB = 'inventory.refresh-all';
export const INVENTORY_JOB = 'inventory.refresh';
export const MAIL_JOB = 'mail.deliver';
export const TRANSFERS_JOB = 'transfers.advance';
export const HANDOVER_WAVES_JOB = 'handovers.waves';
export const PEER_TRANSFERS_JOB = 'peer-transfers.deliver';
/** Offers and answers owed to peers are retried this often (each with its own backoff). */
const PEER_TRANSFERS_PERIOD_MS = 5_000;
const TRANSFERS_PERIOD_MS = 30_000;
const MAIL_PERIOD_MS = 30_000;

export interface BackgroundDeps {
  db: Db;
  box: SecretBox;
  log: Logger;
  config: Pick<Config, 'pollIntervalMs' | 'inventoryIntervalMs'> &
    Partial<Pick<Config, 'smtpUrl' | 'mailFrom' | 'transferMinNoticeDays' | 'transferTiming' | 'publicUrl'>> & { sso?: Pick<Config['sso'], 'loginLockoutSeconds'> };
  /** Signs the audit checkpoint a transfer receipt names (transfers run only when given). */
  signer?: CheckpointSigner;
  /** The outbound-request policy every call to a cluster goes through (server/net/outbound.ts). */
  outbound: Outbound;
}

export function jobHandlers({ db, box, config, signer, outbound, log: baseLog }: BackgroundDeps): Record<string, JobHandler> {
  const smtp = config.smtpUrl ? smtpTransport(config.smtpUrl) : undefined;
  // Built once per worker: the resolver keeps peers' chains until they expire, across the job's runs every 5 s.
  const peers = config.publicUrl
    ? { db, box, publicUrl: config.publicUrl, outbound, resolver: new TrustChainResolver(outbound), transfer: transferDeps(db, { transferMinNoticeDays: config.transferMinNoticeDays ?? 30 }) }
    : undefined;
  const transfers = signer
    ? {
        db,
        box,
        signer,
        outbound,
        log: baseLog,
        ...transferDeps(db, { transferMinNoticeDays: config.transferMinNoticeDays ?? 30 }),
        // A hand-over's transfers start with their wave (its concurrency limit), not here.
        heldTransfers: transfersHeldByHandovers,
        ...(config.transferTiming ? { timing: config.transferTiming } : {}),
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
        // Transfers to another instance: the package, the wait for the target, the switch with forwarding.
        ...(peers ? { peerSteps: peerSteps(peers, { ...DEFAULT_TIMING, ...config.transferTiming }.sourceGraceMs) } : {}),
      }
    : undefined;
  return {
    // Transfers past their freeze date, and any interrupted mid-way, are moved on (leased: one process at a time).
    ...(transfers
      ? {
          [TRANSFERS_JOB]: async (_job, { log }) => {
            const moved = await advanceDueTransfers({ ...transfers, log });
            if (moved.length) log.info({ transfers: moved }, 'transfers advanced');
          },
          // Hand-over waves whose window is open (plans that run automatically), each within its concurrency limit.
          [HANDOVER_WAVES_JOB]: async (_job, { log }) => {
            for (const r of await runDueWaves({ exec: { ...transfers, log } }))
              if (r.run) log.info({ handover: r.handoverId, wave: r.wave, results: r.run.results.map((x) => x.state) }, 'hand-over wave run');
              else log.debug({ handover: r.handoverId, wave: r.wave, skipped: r.skipped }, 'hand-over wave not run now');
          },
        }
      : {}),
    // Transfer messages owed to other instances (offers, answers), retried with backoff until taken.
    ...(peers
      ? {
          [PEER_TRANSFERS_JOB]: async (_job, { log, signal }) => {
            const sent = await deliverDueMessages(peers, 20, signal);
            if (sent) log.debug({ sent }, 'transfer messages to peers delivered or retried');
          },
        }
      : {}),
    // The mail outbox (transfer notices): sent in batches, failures retried with backoff.
    ...(smtp && config.mailFrom
      ? {
          [MAIL_JOB]: async (_job, { log }) => {
            for (let r = await deliverDue(db, smtp, config.mailFrom!, log); r.sent + r.failed > 0; r = await deliverDue(db, smtp, config.mailFrom!, log))
              if (r.failed > 0) break;
          },
        }
      : {}),
    [HEALTH_JOB]: async (_job, { signal, log }) => {
      // A poll never takes longer than the interval, so polls do not pile up.
      const timeoutMs = Math.min(5_000, Math.max(1_000, config.pollIntervalMs / 2));
      for (const { cluster, health, meetings } of await pollClusters(db, box, { outbound, signal, timeoutMs })) {
        if (meetings) await noteRunningMeetings(db, cluster.id, meetings);
        log.debug({ cluster: cluster.id, state: health.state, load: health.load }, 'cluster polled');
      }
    },
    [INVENTORY_ALL_JOB]: async (_job, { signal, log }) => {
      let after: string | undefined;
      for (;;) {
        const page = await listTenancies(db, { after, limit: 100 });
        for (const t of page.slice(0, 100)) {
          if (signal.aborted) throw new Error('stopped');
          // Nothing served here any more: an archived tenancy, or one moved to another instance.
          if (t.state === 'archived' || t.state === 'moved') continue;
          // One unreachable cluster must not hold up the other tenancies.
          await refreshInventory(db, box, t.id, { outbound, signal }).catch((err: unknown) =>
            log.info({ tenancy: t.id, error: (err as Error).message }, 'inventory refresh failed'),
          );
        }
        if (page.length <= 100) return;
        after = page[99]!.id;
      }
    },
    [INVENTORY_JOB]: async (job, { signal }) => {
      await refreshInventory(db, box, String(job.payload['tenancyId']), { outbound, signal });
    },
    // Logout tokens to relying parties (OpenID Connect Back-Channel Logout), one job each, retried with backoff.
    ...(config.publicUrl
      ? { [BACKCHANNEL_LOGOUT_JOB]: (job, ctx) => deliverLogout({ db, box, outbound, issuer: config.publicUrl + OIDC_PREFIX }, job, ctx) }
      : {}),
    [SSO_SWEEP_JOB]: async (_job, { log }) => {
      const removed = await sweepSignOn(db, config.sso?.loginLockoutSeconds);
      if (removed) log.debug({ removed }, 'expired sign-on artifacts deleted');
    },
  };
}

/** Declares the periodic jobs and returns a worker for them (not started). */
export async function createBackgroundWorker(deps: BackgroundDeps): Promise<Worker> {
  await ensurePeriodic(deps.db, { kind: HEALTH_JOB, periodMs: deps.config.pollIntervalMs });
  await ensurePeriodic(deps.db, { kind: INVENTORY_ALL_JOB, periodMs: deps.config.inventoryIntervalMs });
  await ensurePeriodic(deps.db, { kind: SSO_SWEEP_JOB, periodMs: SSO_SWEEP_PERIOD_MS });
  if (deps.signer) await ensurePeriodic(deps.db, { kind: TRANSFERS_JOB, periodMs: TRANSFERS_PERIOD_MS });
  if (deps.signer) await ensurePeriodic(deps.db, { kind: HANDOVER_WAVES_JOB, periodMs: TRANSFERS_PERIOD_MS });
  if (deps.config.publicUrl) await ensurePeriodic(deps.db, { kind: PEER_TRANSFERS_JOB, periodMs: PEER_TRANSFERS_PERIOD_MS });
  if (deps.config.smtpUrl) await ensurePeriodic(deps.db, { kind: MAIL_JOB, periodMs: MAIL_PERIOD_MS });
  else deps.log.warn('SMTP_URL is not set: notices wait in the mail outbox until it is');
  return new Worker({ db: deps.db, log: deps.log.child({ component: 'worker' }), handlers: jobHandlers(deps) });
}
