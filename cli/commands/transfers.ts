// meetplane transfers create|check|approve|object|cancel|status|list — the
// REST transfer endpoints for co-op admins and owners.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';

type Globals = () => Record<string, unknown>;

interface TransferStatus {
  id: string;
  state: string;
  tenancyId: string;
  targetCoopId: string;
  freezeNotBefore: string | null;
  decision: { decision: string; policyIds: string[]; reasons: string[] } | null;
  steps?: Array<{ step: string; status: string }>;
  approvals?: Array<{ role: string; accountId: string }>;
  objections?: Array<{ kind: string }>;
  notices?: { queued: number; sent: number; failing: number };
}

/** A document named on the command line enters the transfer as its SHA-256 only. */
const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

export function transfersCommand(globals: Globals): Command {
  const cmd = new Command('transfers').description('move a tenancy to another co-op');
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const show = (t: TransferStatus) => {
    if (globals().json) return printJson(t);
    printRecord({ id: t.id, state: t.state, tenancy: t.tenancyId, targetCoop: t.targetCoopId, freezeNotBefore: t.freezeNotBefore });
    if (t.decision) {
      process.stdout.write(`\ndecision: ${t.decision.decision}${t.decision.policyIds.length ? ` (${t.decision.policyIds.join(', ')})` : ''}\n`);
      for (const r of t.decision.reasons) process.stdout.write(`  ${r}\n`);
    }
    if (t.steps) process.stdout.write('\n' + t.steps.map((s) => `${s.status === 'done' ? '[x]' : s.status === 'current' ? '[>]' : '[ ]'} ${s.step}`).join('\n') + '\n');
    if (t.approvals) process.stdout.write(`\napprovals: ${t.approvals.map((a) => a.role).join(', ') || 'none'}\n`);
    if (t.notices) process.stdout.write(`notices: ${t.notices.sent} sent, ${t.notices.queued} queued, ${t.notices.failing} failing\n`);
  };

  cmd
    .command('create')
    .description('request the transfer of a tenancy (a draft)')
    .requiredOption('--tenancy <tenancy>', 'the tenancy (id or slug)')
    .requiredOption('--to <coop>', 'the target co-op (id or slug)')
    .requiredOption('--cluster <id>', 'a cluster of the target co-op')
    .option('--basis <basis>', 'adequacy | sccs | domestic', 'adequacy')
    .option('--dpf-listed', 'the target organisation is listed under the Data Privacy Framework')
    .option('--pipeda', 'the target organisation is subject to PIPEDA')
    .option('--sccs <file...>', 'signed standard contractual clauses (recorded by SHA-256)')
    .option('--tia <file>', 'the transfer impact assessment (recorded by SHA-256)')
    .option('--notice-days <n>', 'days between the notice and the freeze')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const notice = o.noticeDays === undefined ? undefined : Number(o.noticeDays);
      if (notice !== undefined && !Number.isInteger(notice)) throw new CliError('--notice-days must be a whole number', 2);
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
      };
      show((await client().request<TransferStatus>('POST', '/transfers', { body })).body);
    });

  for (const [name, description] of [
    ['check', 'run the data-protection rules (checked, or rejected naming the rules)'],
    ['object', 'object to the transfer of your tenancy'],
    ['cancel', 'cancel before the tenancy is frozen'],
  ] as const)
    cmd
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string) => show((await client().request<TransferStatus>('POST', `/transfers/${encodeURIComponent(id)}/${name}`)).body));

  cmd
    .command('approve <id>')
    .description('approve as the source admin, the target admin or the owner')
    .requiredOption('--as <role>', 'source_admin | target_admin | owner')
    .action(async (id: string, o: { as: string }) =>
      show((await client().request<TransferStatus>('POST', `/transfers/${encodeURIComponent(id)}/approve`, { body: { as: o.as } })).body),
    );

  cmd
    .command('status <id>')
    .description('state, steps, the last decision, approvals and notices')
    .action(async (id: string) => show((await client().request<TransferStatus>('GET', `/transfers/${encodeURIComponent(id)}`)).body));

  cmd
    .command('list')
    .description('transfers you may see')
    .action(async () => {
      const items = (await client().request<{ items: TransferStatus[] }>('GET', '/transfers', { query: { limit: '200' } })).body.items;
      if (globals().json) printJson(items);
      else printTable(items as unknown as Array<Record<string, unknown>>, ['id', 'state', 'tenancyId', 'targetCoopId', 'freezeNotBefore']);
    });

  return cmd;
}
