// meetplane peer-transfers offer|list|show|accept|refuse|cancel: transfers of a tenancy to or from a
// co-op on another meetplane instance, over REST /peer-transfers. Documents enter as SHA-256 only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Globals = () => Record<string, unknown>;

interface PeerTransfer {
  id: string;
  side: 'source' | 'target';
  peer: string;
  state: string;
  tenancy: string | null;
  targetCoop: string;
  targetCluster: string;
  summary: Record<string, unknown> | null;
  offer: { sourceCoop: { name: string; jurisdiction: string; legalRegime: string }; basis: string; noticeDays: number } | null;
  decision: { decision: string; policyIds: string[]; reasons: string[] } | null;
  answer: { decision: string; cluster?: string; policyIds: string[]; reasons: string[]; approver: string } | null;
  delivery: { attempts: number; nextAttemptAt: string | null; lastError: string | null };
  progress: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number } | null;
}

/** `peer-transfers offer` exits 3 when the data-protection rules refuse the destination (nothing is sent). */
export const OFFER_EXIT = { refused: 3 } as const;

function sha256File(flag: string, file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${flag} ${file}: no such file`, 2);
    throw e;
  }
}

export function peerTransfersCommand(globals: Globals): Command {
  const cmd = new Command('peer-transfers').description("transfers of a tenancy to or from a co-op on another meetplane instance (a peer this instance trusts)");
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const show = (t: PeerTransfer) => {
    if (globals().json) return printJson(t);
    printRecord({
      id: t.id,
      side: t.side,
      state: t.state,
      peer: t.peer,
      tenancy: t.tenancy ?? (t.summary ? `${String(t.summary.name)} (${String(t.summary.rooms)} rooms, ${String(t.summary.recordings)} recordings, ${String(t.summary.members)} members)` : ''),
      target: `${t.targetCoop} / ${t.targetCluster}`,
      ...(t.offer ? { from: `${t.offer.sourceCoop.name} (${t.offer.sourceCoop.jurisdiction}, ${t.offer.sourceCoop.legalRegime}), basis ${t.offer.basis}, ${t.offer.noticeDays} days' notice` } : {}),
      ...(t.decision ? { rules: `${t.decision.decision}${t.decision.policyIds.length ? ` (${t.decision.policyIds.join(', ')})` : ''}` } : {}),
      ...(t.answer ? { answer: `${t.answer.decision}${t.answer.cluster ? ` on ${t.answer.cluster}` : ''}${t.answer.reasons.length ? `: ${t.answer.reasons.join('; ')}` : ''}` } : {}),
      ...(t.progress ? { pulled: `${t.progress.filesDone}/${t.progress.filesTotal} files, ${t.progress.bytesDone}/${t.progress.bytesTotal} bytes` } : {}),
      ...(t.delivery.nextAttemptAt ? { delivery: `retrying at ${t.delivery.nextAttemptAt} (${t.delivery.attempts} attempts): ${t.delivery.lastError ?? ''}` } : {}),
    });
  };

  cmd
    .command('offer')
    .description(`offer a tenancy to a co-op on another instance; the data-protection rules decide here on what that instance states, and a refusal (exit ${OFFER_EXIT.refused}) sends nothing`)
    .requiredOption('--tenancy <tenancy>', 'the tenancy (id or slug)')
    .requiredOption('--peer <entity-id>', "the target instance's entity id (its public URL)")
    .requiredOption('--to <coop>', 'the co-op there (its slug in that instance\'s metadata)')
    .requiredOption('--cluster <cluster>', 'a cluster of that co-op (slug)')
    .requiredOption('--agreement <file>', 'the signed Art. 28 processing agreement with the target co-op (sent as its SHA-256)')
    .option('--basis <basis>', 'adequacy | sccs | domestic', 'adequacy')
    .option('--sccs <file...>', 'signed standard contractual clauses (sent as SHA-256)')
    .option('--tia <file>', 'the transfer impact assessment (sent as SHA-256)')
    .option('--notice-days <n>', 'days of notice members get before the freeze')
    .option('--freeze-at <time>', 'planned freeze date and time, ISO 8601 (e.g. 2026-12-31T20:00Z): at least the notice period from now')
    .action(async (o: { tenancy: string; peer: string; to: string; cluster: string; agreement: string; basis: string; sccs?: string[]; tia?: string; noticeDays?: string; freezeAt?: string }) => {
      const notice = o.noticeDays === undefined ? undefined : Number(o.noticeDays);
      if (notice !== undefined && !Number.isInteger(notice)) throw new CliError('--notice-days must be a whole number', 2);
      const freezeAt = o.freezeAt === undefined ? undefined : new Date(o.freezeAt);
      if (freezeAt && Number.isNaN(freezeAt.getTime())) throw new CliError('--freeze-at must be a date and time, e.g. 2026-12-31T20:00Z', 2);
      const body = {
        tenancy: o.tenancy,
        peer: o.peer,
        targetCoop: o.to,
        targetCluster: o.cluster,
        processingAgreement: sha256File('--agreement', o.agreement),
        evidence: { claimedBasis: o.basis, sccsDocuments: (o.sccs ?? []).map((f) => sha256File('--sccs', f)), impactAssessment: o.tia ? sha256File('--tia', o.tia) : null },
        ...(notice !== undefined ? { noticeDays: notice } : {}),
        ...(freezeAt ? { freezeAt: freezeAt.toISOString() } : {}),
      };
      const t = (await client().request<PeerTransfer>('POST', '/peer-transfers', { body })).body;
      show(t);
      if (t.state === 'rejected') throw new CliError(`the rules refused this destination: ${t.decision?.policyIds.join(', ') || 'no rule permits it'}; nothing was sent to ${t.peer}`, OFFER_EXIT.refused);
    });

  cmd
    .command('list', { isDefault: true })
    .description('transfers to and from other instances you may see')
    .action(async () => {
      const items = (await client().request<{ items: PeerTransfer[] }>('GET', '/peer-transfers?limit=200')).body.items;
      if (globals().json) return printJson(items);
      printTable(
        items.map((t) => ({ id: t.id, side: t.side, state: t.state, peer: t.peer, target: `${t.targetCoop}/${t.targetCluster}`, tenancy: t.tenancy ?? String(t.summary?.name ?? '') })),
        ['id', 'side', 'state', 'peer', 'target', 'tenancy'],
      );
    });

  cmd
    .command('show <id>')
    .description('one transfer: state, the rules\' decision, the answer, message delivery')
    .action(async (id: string) => show((await client().request<PeerTransfer>('GET', `/peer-transfers/${encodeURIComponent(id)}`)).body));

  cmd
    .command('accept <id>')
    .description("accept an offer, as an admin of the target co-op who approves transfers; the source is sent the signed acceptance")
    .option('--cluster <cluster>', 'the cluster of your co-op that will host it (default: the one offered); it must be enabled, online and have room')
    .action(async (id: string, o: { cluster?: string }) =>
      show((await client().request<PeerTransfer>('POST', `/peer-transfers/${encodeURIComponent(id)}/answer`, { body: { decision: 'accepted', ...(o.cluster ? { cluster: o.cluster } : {}) } })).body),
    );

  cmd
    .command('refuse <id>')
    .description('refuse an offer; the source is told, with your reason')
    .requiredOption('--reason <text>', 'why (sent to the source instance)')
    .action(async (id: string, o: { reason: string }) =>
      show((await client().request<PeerTransfer>('POST', `/peer-transfers/${encodeURIComponent(id)}/answer`, { body: { decision: 'refused', reason: o.reason } })).body),
    );

  cmd
    .command('cancel <id>')
    .description('withdraw a transfer to another instance (before its package verified); the target is told and removes what it pulled')
    .requiredOption('--reason <text>', 'why (sent to the target instance)')
    .action(async (id: string, o: { reason: string }) =>
      show((await client().request<PeerTransfer>('POST', `/peer-transfers/${encodeURIComponent(id)}/cancel`, { body: { reason: o.reason } })).body),
    );

  return cmd;
}
