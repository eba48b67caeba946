// meetplane transfers run: advances every due transfer from this machine, on
// the configured database (like `db migrate`, not through the REST API), until
// each one waits (its freeze date, its notice not yet delivered to every
// member, the meetings' grace, the source grace) or ends, and says why each waits. For operators who run execution outside `serve`, and for resuming
// after a crash without waiting for the background job. Leases keep it from
// running a step that a live `serve` process is running.
import { Command } from 'commander';
import { loadConfig } from '../../server/config.js';
import type { Advanced } from '../../server/transfers/execute.js';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 2026-12-31T20:00Z: minutes unless the time has seconds. */
const shortTime = (iso: string) => iso.replace(/:00\.000Z$/, 'Z').replace(/\.000Z$/, 'Z');

/** Why a transfer waits, as `run` prints it. */
export function waitingText(r: Advanced): string {
  if (r.waiting === 'freeze-date' && r.until) return `freeze-date ${shortTime(r.until)}`;
  if (r.waiting === 'peer') return 'the target instance (it pulls and verifies the package)';
  if (r.waiting === 'notice-delivery') return `notice not delivered to ${r.undelivered} member${r.undelivered === 1 ? '' : 's'}`;
  return r.waiting ?? '';
}

export function transfersRunCommand(globals: () => Record<string, unknown>): Command {
  return new Command('run')
    .description('advance every due transfer on the configured database until each waits or ends (no server needed)')
    .option('--wait <seconds>', 'how long to wait for transfers leased by another runner (default: one lease)')
    .action(async (o: { wait?: string }) => {
      // The server's modules load here, not when the CLI starts: every other command starts faster.
      const [{ openDatabase }, { createLogger }, { SecretBox }, { loadMasterKey }, { CheckpointSigner, auditOrigin }, { transferDeps }, { advanceDueTransfers }, { findTransfer }, { outboundFor }, { waitingNotices }] =
        await Promise.all([
          import('../../server/db/index.js'),
          import('../../server/logger.js'),
          import('../../server/crypto/secretbox.js'),
          import('../../server/crypto/master-key.js'),
          import('../../server/audit/checkpoints.js'),
          import('../../server/transfers/deps.js'),
          import('../../server/transfers/execute.js'),
          import('../../server/transfers/service.js'),
          import('../../server/net/outbound.js'),
          import('../../server/transfers/notice-delivery.js'),
        ]);
      const config = loadConfig();
      const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const waitMs = o.wait === undefined ? config.transferTiming.leaseMs + 1000 : Number(o.wait) * 1000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new CliError('--wait must be a number of seconds', 2);
      const box = new SecretBox(loadMasterKey(config, log));
      const database = await openDatabase(config);
      try {
        await database.migrate();
        const db = database.db;
        const deps = { db, box, log, signer: await CheckpointSigner.load(db, box, auditOrigin(config.publicUrl)), outbound: outboundFor(config), publicUrl: config.publicUrl, timing: config.transferTiming, ...transferDeps(db, config) };
        const until = Date.now() + waitMs;
        const latest = new Map<string, { id: string } & Advanced>();
        const round = async () => {
          const seen = new Set<string>();
          for (const r of await advanceDueTransfers(deps)) {
            latest.set(r.id, r);
            seen.add(r.id);
          }
          // One another runner held and has since finished is no longer due: show where it ended.
          for (const r of latest.values())
            if (r.waiting === 'leased' && !seen.has(r.id)) latest.set(r.id, { id: r.id, state: (await findTransfer(db, r.id))?.state ?? 'missing' });
        };
        await round();
        // A transfer leased by a runner that was killed becomes free when its lease runs out.
        while ([...latest.values()].some((r) => r.waiting === 'leased') && Date.now() < until) {
          await sleep(500);
          await round();
        }
        // Those still in their notice were not due: say what each waits for.
        for (const w of await waitingNotices(db, new Date())) if (!latest.has(w.id)) latest.set(w.id, { state: 'notice', ...w });
        const results = [...latest.values()];
        if (globals().json) printJson(results);
        else if (!results.length) process.stdout.write('no transfer is due\n');
        else for (const r of results) process.stdout.write(`${r.id}  ${r.state}${r.waiting ? ` (waiting: ${waitingText(r)})` : ''}\n`);
        if (results.some((r) => r.waiting === 'leased')) throw new CliError('some transfers are held by another runner; run again later', 4);
      } finally {
        await outboundFor(config).close();
        await database.close();
      }
    });
}
