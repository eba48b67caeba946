// meetplane transfers create|check|approve|object|cancel|retry|resolve|status|list|watch|receipt
// — the REST transfer endpoints for co-op admins and owners. Every action reads
// the transfer first and sends its ETag as If-Match, so it acts on what it saw.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient, ruleLines, type RuleWords } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';
import { isFinal, PEER_FINAL_STATES, peerProgressLine, progressLine, renderProgress, type TransferProgress, type WatchedPeerTransfer } from '../progress.js';
import { printVerified, verifyOrFail } from './receipts.js';
import { transfersRunCommand } from './transfers-run.js';

type Globals = () => Record<string, unknown>;

interface TransferStatus {
  id: string;
  state: string;
  tenancyId: string;
  sourceCoopId: string;
  /** null when the target is another instance (`peer`) */
  targetCoopId: string;
  peer?: string | null;
  peerTransfer?: { state: string; attempts: number; nextAttemptAt: string | null; lastError: string | null } | null;
  freezeNotBefore: string | null;
  progress?: TransferProgress | null;
  decision: { decision: string; policyIds: string[]; reasons: string[]; rules?: RuleWords[] } | null;
  steps?: Array<{ step: string; status: string }>;
  approvals?: Array<{ role: string; accountId: string }>;
  objections?: Array<{ kind: string }>;
  notices?: { queued: number; sent: number; failing: number; refused?: number };
  noticeDelivery?: {
    members: number;
    reached: number;
    notReached: number;
    undeliverable: number;
    allReachedAt: string | null;
    waiting: string | null;
    unreached?: Array<{ accountId: string; email: string; mail: string; attempts: number; lastError: string | null; undeliverable: boolean }>;
  } | null;
  sourceDeletion?: { dueAt: string; doneAt: string | null } | null;
  failure?: { step: string; reason: string; at: string; servedBy: 'source' | 'target'; recordId?: string; actions: string[] } | null;
  receiptWait?: { awaitedSince: string; overdueAt: string; action: string } | null;
  greenlight?: {
    rooms: Array<{ friendlyId: string; name: string; recordings: number; link: string }>;
    roomsLeftOut: number;
    sharesDropped: number;
    readAt: string | null;
    imported: { roomsResolving: number; resyncCommand: string | null } | null;
  } | null;
}

/** A document named on the command line enters the transfer as its SHA-256 only. */
const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** `transfers watch` exit codes besides 0 (completed), 1 (request failed) and 2 (usage). */
export const WATCH_EXIT = { notCompleted: 4, interrupted: 130 } as const;

/** `transfers check` exits 3 when the data-protection rules refuse (the transfer is then rejected). */
export const CHECK_EXIT = { refused: 3 } as const;

class Interrupted extends Error {}

/** Resolves after `ms`, or rejects with Interrupted as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(new Interrupted());
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** `p`, unless `signal` aborts first (a request to a slow server must not hold ctrl-c up). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const stop = () => reject(new Interrupted());
    signal.addEventListener('abort', stop, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

export function transfersCommand(globals: Globals): Command {
  const cmd = new Command('transfers').description('move a tenancy to another co-op');
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const show = (t: TransferStatus) => {
    if (globals().json) return printJson(t);
    printRecord({
      id: t.id,
      state: t.state,
      tenancy: t.tenancyId,
      ...(t.peer ? { targetInstance: t.peer } : { targetCoop: t.targetCoopId }),
      freezeNotBefore: t.freezeNotBefore,
      ...(t.peerTransfer
        ? {
            protocol: `${t.peerTransfer.state}${t.peerTransfer.state === 'packaged' ? ' (the target pulls and verifies the package)' : ''}${t.peerTransfer.nextAttemptAt ? `, message retried at ${t.peerTransfer.nextAttemptAt} (${t.peerTransfer.attempts} attempts): ${t.peerTransfer.lastError ?? ''}` : ''}`,
          }
        : {}),
    });
    if (t.decision) {
      process.stdout.write(`\ndecision: ${t.decision.decision}${t.decision.policyIds.length ? ` (${t.decision.policyIds.join(', ')})` : ''}\n`);
      if (t.decision.rules?.length) process.stdout.write(`${ruleLines(t.decision.rules).slice(1)}\n`);
      else for (const r of t.decision.reasons) process.stdout.write(`  ${r}\n`);
    }
    if (t.steps) process.stdout.write('\n' + t.steps.map((s) => `${s.status === 'done' ? '[x]' : s.status === 'current' ? '[>]' : '[ ]'} ${s.step}`).join('\n') + '\n');
    const g = t.greenlight;
    if (g) {
      process.stdout.write(`\ngreenlight: ${g.readAt ? `${g.rooms.length} rooms move` : 'rooms are read when the notice starts'}${g.roomsLeftOut ? `, ${g.roomsLeftOut} stay (their owner objected or does not move)` : ''}${g.sharesDropped ? `, ${g.sharesDropped} shares not carried` : ''}\n`);
      for (const r of g.rooms) process.stdout.write(`  ${r.friendlyId}  ${r.link}  (${r.recordings} recordings)\n`);
      if (g.imported) {
        process.stdout.write(`imported: ${g.imported.roomsResolving} room links resolve at the target\n`);
        if (g.imported.resyncCommand) process.stdout.write(`the target's operator lists their recordings with:\n  ${g.imported.resyncCommand}\n`);
      }
    }
    if (t.approvals) process.stdout.write(`\napprovals: ${t.approvals.map((a) => a.role).join(', ') || 'none'}\n`);
    if (t.notices) process.stdout.write(`notices: ${t.notices.sent} sent, ${t.notices.queued} queued, ${t.notices.failing} failing${t.notices.refused ? `, ${t.notices.refused} refused` : ''}\n`);
    const d = t.noticeDelivery;
    if (d) {
      process.stdout.write(`reached: ${d.reached} of ${d.members} members${d.allReachedAt ? ` (the last on ${d.allReachedAt})` : ''}${d.undeliverable ? `, ${d.undeliverable} undeliverable` : ''}\n`);
      for (const u of d.unreached ?? [])
        process.stdout.write(
          `  not reached: ${u.accountId} ${u.email} (mail ${u.mail}${u.attempts ? `, ${u.attempts} attempts` : ''}${u.lastError ? `: ${u.lastError}` : ''})${u.undeliverable ? ' UNDELIVERABLE: tell them another way, then `meetplane transfers told`' : ''}\n`,
        );
    }
    if (t.sourceDeletion)
      process.stdout.write(t.sourceDeletion.doneAt ? `source copy deleted: ${t.sourceDeletion.doneAt}\n` : `source copy deleted after: ${t.sourceDeletion.dueAt}\n`);
    if (t.failure) {
      const f = t.failure;
      process.stdout.write(`\nfailed at ${f.step} (${f.at})${f.recordId ? `, recording ${f.recordId}` : ''}: ${f.reason}\n`);
      process.stdout.write(`the tenancy is active at the ${f.servedBy}\n`);
      if (f.actions.length) process.stdout.write(`what you can do:\n${f.actions.map((a) => `  ${a}`).join('\n')}\n`);
    }
    if (t.receiptWait) {
      const w = t.receiptWait;
      process.stdout.write(`\nreceipt awaited from the target instance since ${w.awaitedSince}; overdue from ${w.overdueAt}\nif it never comes:\n  ${w.action}\n`);
    }
  };

  /** POSTs an action on the transfer as it is now: its ETag, read first, goes along as If-Match. */
  const act = async (id: string, path: string, body?: unknown) => {
    const api = client();
    const current = await api.request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`);
    return (await api.request<TransferStatus>('POST', `/transfers/${encodeURIComponent(current.body.id)}/${path}`, { ifMatch: current.etag, ...(body !== undefined ? { body } : {}) })).body;
  };

  cmd
    .command('create')
    .description('request the transfer of a tenancy (a draft)')
    .requiredOption('--tenancy <tenancy>', 'the tenancy (id or slug)')
    .requiredOption('--to <coop>', 'the target co-op (id or slug)')
    .requiredOption('--cluster <cluster>', 'a cluster of the target co-op (id or slug)')
    .option('--basis <basis>', 'adequacy | sccs | domestic', 'adequacy')
    .option('--dpf-listed', 'the target organisation is listed under the Data Privacy Framework')
    .option('--pipeda', 'the target organisation is subject to PIPEDA')
    .option('--sccs <file...>', 'signed standard contractual clauses (recorded by SHA-256)')
    .option('--tia <file>', 'the transfer impact assessment (recorded by SHA-256)')
    .option('--notice-days <n>', 'days between the notice reaching each member and the freeze')
    .option('--freeze-at <time>', 'planned freeze date and time, ISO 8601 (e.g. 2026-12-31T20:00Z): at least the notice period from now')
    .option('--greenlight <slug>', "the target co-op's Greenlight the members' rooms move to (required when the tenancy's Greenlight database is readable)")
    .option('--leave-greenlight', "leave the members' Greenlight rooms behind (they do not move)")
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const notice = o.noticeDays === undefined ? undefined : Number(o.noticeDays);
      if (notice !== undefined && !Number.isInteger(notice)) throw new CliError('--notice-days must be a whole number', 2);
      const freezeAt = o.freezeAt === undefined ? undefined : new Date(o.freezeAt as string);
      if (freezeAt && Number.isNaN(freezeAt.getTime())) throw new CliError('--freeze-at must be a date and time, e.g. 2026-12-31T20:00Z', 2);
      if (o.greenlight !== undefined && o.leaveGreenlight) throw new CliError('--greenlight and --leave-greenlight contradict each other: choose one', 2);
      const body = {
        tenancy: o.tenancy,
        targetCoop: o.to,
        targetCluster: o.cluster,
        evidence: {
          claimedBasis: o.basis,
          dpfListed: Boolean(o.dpfListed),
          pipedaSubject: Boolean(o.pipeda),
          sccsDocuments: ((o.sccs as string[] | undefined) ?? []).map(sha256File),
          impactAssessment: o.tia ? sha256File(o.tia as string) : null,
        },
        ...(notice !== undefined ? { noticeDays: notice } : {}),
        ...(freezeAt ? { freezeAt: freezeAt.toISOString() } : {}),
        ...(o.greenlight !== undefined ? { targetGreenlight: o.greenlight } : o.leaveGreenlight ? { targetGreenlight: null } : {}),
      };
      show((await client().request<TransferStatus>('POST', '/transfers', { body })).body);
    });

  cmd
    .command('check <id>')
    .description(`run the data-protection rules: checked (exit 0), or rejected naming the rules and what to do (exit ${CHECK_EXIT.refused})`)
    .action(async (id: string) => {
      const t = await act(id, 'check');
      show(t);
      if (t.state === 'rejected') throw new CliError(`the rules refused transfer ${t.id}: ${t.decision?.policyIds.join(', ') || 'no rule permits it'}`, CHECK_EXIT.refused);
    });

  cmd
    .command('agreement')
    .description('record the Art. 28 processing agreement between a tenancy and a co-op (the rule dp-processing-agreement wants one with the target co-op); the document enters by its SHA-256')
    .requiredOption('--tenancy <tenancy>', 'the tenancy (id or slug)')
    .requiredOption('--coop <coop>', 'the co-op processing its data, usually the target (id or slug)')
    .requiredOption('--document <file>', 'the signed agreement (recorded by SHA-256)')
    .requiredOption('--signed-on <date>', 'the day it was signed, YYYY-MM-DD')
    .option('--valid-until <date>', 'the last day it holds, YYYY-MM-DD (default: open-ended)')
    .action(async (o: { tenancy: string; coop: string; document: string; signedOn: string; validUntil?: string }) => {
      for (const [flag, v] of [['--signed-on', o.signedOn], ['--valid-until', o.validUntil]] as const)
        if (v !== undefined && !/^\d{4}-\d\d-\d\d$/.test(v)) throw new CliError(`${flag} must be a day as YYYY-MM-DD, not "${v}"`, 2);
      const body = { tenancy: o.tenancy, coop: o.coop, documentSha256: sha256File(o.document), signedOn: o.signedOn, validUntil: o.validUntil ?? null };
      const res = await client().request<{ id: string }>('POST', '/processing-agreements', { body });
      if (globals().json) printJson({ ...res.body, ...body });
      else process.stdout.write(`recorded processing agreement ${res.body.id} (document sha256 ${body.documentSha256})\n`);
    });

  for (const [name, description] of [
    ['object', 'object to the transfer of your tenancy'],
    ['cancel', 'cancel before the tenancy is frozen'],
  ] as const)
    cmd
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string) => show(await act(id, name)));

  cmd
    .command('retry <id>')
    .description('run the failed step of a transfer again (the background job or `transfers run` does the work)')
    .action(async (id: string) => show(await act(id, 'retry')));

  cmd
    .command('resolve <id>')
    .description('settle a failed transfer: --roll-forward completes it at the target, --roll-back ends it with the tenancy at the source; --roll-forward also completes a transfer to another instance whose receipt is overdue (24 hours after the switch), without the receipt')
    .option('--roll-forward', 'complete it: the files at the target are verified again, your reason stands for the check that failed')
    .option('--roll-back', 'move the tenancy back to the source (which still holds everything) and end the transfer')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (id: string, o: { rollForward?: boolean; rollBack?: boolean; reason: string }) => {
      if (Boolean(o.rollForward) === Boolean(o.rollBack)) throw new CliError('give one of --roll-forward or --roll-back', 2);
      const body = { direction: o.rollForward ? 'roll-forward' : 'roll-back', reason: o.reason };
      show(await act(id, 'resolve', body));
    });

  cmd
    .command('approve <id>')
    .description('approve as the source admin, the target admin or the owner')
    .requiredOption('--as <role>', 'source_admin | target_admin | owner')
    .action(async (id: string, o: { as: string }) => show(await act(id, 'approve', { as: o.as })));

  cmd
    .command('told <id> <account>')
    .description('record how a member the notice mail did not reach was told another way (their notice period counts from now)')
    .requiredOption('--how <how>', 'in-person | phone | letter | other-email | other')
    .option('--note <text>', 'a note kept with the record (not in the audit log)')
    .action(async (id: string, account: string, o: { how: string; note?: string }) =>
      show(await act(id, `notices/${encodeURIComponent(account)}/told`, { how: o.how, ...(o.note ? { note: o.note } : {}) })),
    );

  cmd
    .command('status <id>')
    .description('state, steps, the last decision, approvals and notices')
    .action(async (id: string) => show((await client().request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`)).body));

  cmd
    .command('watch <id>')
    .description(
      'follow a transfer until it ends: its step and the copy (recordings, bytes, MB/s, ETA); at the target instance of a transfer between instances, its pull (files, bytes, MB/s, ETA); exit 0 when completed, 4 when it ended otherwise',
    )
    .option('--interval <ms>', 'time between polls in milliseconds', '1000')
    .action(async (id: string, o: { interval: string }) => {
      const interval = Number(o.interval);
      if (!Number.isInteger(interval) || interval < 100) throw new CliError('--interval must be a whole number of milliseconds, at least 100', 2);
      const api = client();
      const out = process.stdout;
      const json = Boolean(globals().json);
      // A terminal gets the lines redrawn in place; logs and pipes one plain line per change.
      const tty = !json && out.isTTY === true;
      const stop = new AbortController();
      const onSigint = () => {
        stop.abort();
        // Should a request still hold the process, ctrl-c must end it anyway.
        setTimeout(() => process.exit(WATCH_EXIT.interrupted), 2000).unref();
      };
      process.once('SIGINT', onSigint);
      let drawn = 0;
      let last: string | undefined;
      try {
        // At the target instance there is no transfer here, only the protocol's side of it: follow its pull.
        const here = await unlessAborted(api.request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`), stop.signal).catch((e: unknown) => {
          if (e instanceof CliError && e.status === 404) return undefined;
          throw e;
        });
        if (!here) {
          for (;;) {
            const p = (await unlessAborted(api.request<WatchedPeerTransfer & { id: string }>('GET', `/peer-transfers/${encodeURIComponent(id)}`), stop.signal)).body;
            const line = json ? JSON.stringify(p) : peerProgressLine(p);
            if (json || line !== last) out.write(line + '\n');
            last = line;
            if (PEER_FINAL_STATES.has(p.state)) {
              if (p.state !== 'completed') throw new CliError(`transfer ${p.id} ended ${p.state} here, not completed`, WATCH_EXIT.notCompleted);
              return;
            }
            await sleep(interval, stop.signal);
          }
        }
        for (;;) {
          const t = (await unlessAborted(api.request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`), stop.signal)).body;
          if (json) out.write(JSON.stringify(t) + '\n');
          else if (tty) {
            const lines = renderProgress(t, out.columns || 80);
            // Up over what was drawn, clear it and below, draw again.
            out.write((drawn ? `\x1b[${drawn}A\r\x1b[J` : '') + lines.join('\n') + '\n');
            drawn = lines.length;
          } else {
            const line = progressLine(t);
            if (line !== last) out.write(line + '\n');
            last = line;
          }
          if (isFinal(t.state)) {
            if (t.state !== 'completed') throw new CliError(`transfer ${t.id} ended ${t.state}, not completed`, WATCH_EXIT.notCompleted);
            return;
          }
          await sleep(interval, stop.signal);
        }
      } catch (e) {
        if (e instanceof Interrupted) throw new CliError('stopped watching (the transfer goes on)', WATCH_EXIT.interrupted);
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  cmd
    .command('receipt <id>')
    .description("fetch a completed transfer's receipt, verify both co-ops' signatures with their keys from this server, and print its summary; exit 3 when it does not verify")
    .option('--out <file>', 'save the receipt there (only once it verified)')
    .action(async (id: string, o: { out?: string }) => {
      const api = client();
      const t = (await api.request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`)).body;
      const receipt = (await api.request<unknown>('GET', `/transfers/${encodeURIComponent(t.id)}/receipt`)).body;
      // The keys of the co-ops the server has on record for this transfer, not those the receipt names.
      const [sourceJwks, targetJwks] = await Promise.all(
        [t.sourceCoopId, t.targetCoopId].map(async (coop) => (await api.request<unknown>('GET', `/coops/${encodeURIComponent(coop)}/jwks`)).body),
      );
      const verified = await verifyOrFail(receipt, { sourceJwks, targetJwks });
      const { summary } = verified;
      const mismatch = (
        [
          ['transferId', t.id],
          ['tenancyId', t.tenancyId],
          ['sourceCoopId', t.sourceCoopId],
          ['targetCoopId', t.targetCoopId],
        ] as const
      ).find(([k, v]) => summary[k] !== v);
      if (mismatch) throw new CliError(`VERIFICATION FAILED: the receipt names ${mismatch[0]} ${summary[mismatch[0]]}, the transfer has ${mismatch[1]}`, 3);
      if (o.out) writeFileSync(o.out, JSON.stringify(receipt, null, 2) + '\n');
      printVerified(verified, Boolean(globals().json));
      if (o.out && !globals().json) process.stdout.write(`saved to ${o.out}\n`);
    });

  cmd
    .command('list')
    .description('transfers you may see')
    .action(async () => {
      const items = (await client().request<{ items: TransferStatus[] }>('GET', '/transfers', { query: { limit: '200' } })).body.items;
      if (globals().json) printJson(items);
      else printTable(items as unknown as Array<Record<string, unknown>>, ['id', 'state', 'tenancyId', 'targetCoopId', 'freezeNotBefore']);
    });

  cmd.addCommand(transfersRunCommand(globals));

  return cmd;
}
