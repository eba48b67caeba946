// meetplane handovers create|list|show|approve|status|run|answer|retry|custody|operators|tasks|cut-over|complete|report|verify-report
// — a co-op's whole platform handed to another co-op, over the REST API. Every
// action on a hand-over reads it first and sends its ETag as If-Match.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';
import { bar, formatBytePair } from '../progress.js';
import { verifyHandoverReport } from '../../federation/handover-report-verify.js';
import { ReceiptVerificationError } from '../../federation/receipt-verify.js';

type Globals = () => Record<string, unknown>;

interface Handover {
  id: string;
  name: string;
  state: string;
  sourceCoopId: string;
  targetCoopId: string;
  version: number;
  runWaves: string;
  cutoverAt: string;
  decommissionAt: string;
  approvals: Array<{ role: string }>;
  clusters: Array<{ clusterId: string; mode: string; targetClusterId: string | null; placement: { note: string } | null; custodyDoneAt: string | null }>;
  waves: Array<{ n: number; freezeFrom: string; freezeUntil: string; concurrency: number; tenancies: number; startedAt: string | null }>;
  tenancies: { total: number; byState: Record<string, number> };
}

interface Progress {
  state: string;
  waves: Array<{ n: number; tenancies: number; moved: number; stayed: number; failed: number; onTheWay: number; bytesDone: number; bytesTotal: number; startedAt: string | null }>;
  failures: Array<{ tenancyId: string; reason: string }>;
  openTasks: Array<{ id: string; title: string; status: string; blocking: boolean; dueOn: string | null }>;
  tenancies: Array<{ tenancyId: string; wave: number; state: string; answer: string; transferState: string | null; transferId: string | null }>;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} ${file} is not valid JSON`, 1);
  }
}

export function handoversCommand(globals: Globals): Command {
  const cmd = new Command('handovers').description("hand a co-op's whole platform to another co-op: plan, approvals, waves, checklist, report");
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const json = () => Boolean(globals().json);

  const show = (h: Handover) => {
    if (json()) return printJson(h);
    printRecord({ id: h.id, name: h.name, state: h.state, sourceCoop: h.sourceCoopId, targetCoop: h.targetCoopId, waves: h.runWaves === 'automatic' ? 'run on their own in their windows' : 'run by hand', cutover: h.cutoverAt, decommission: h.decommissionAt, approvals: h.approvals.map((a) => a.role).join(', ') || 'none' });
    process.stdout.write('\nclusters:\n');
    for (const c of h.clusters)
      process.stdout.write(`  ${c.clusterId} ${c.mode}${c.targetClusterId ? ` -> ${c.targetClusterId}` : ''}${c.custodyDoneAt ? ' (in the target\'s custody)' : ''}${c.placement ? `\n    ${c.placement.note}` : ''}\n`);
    process.stdout.write('\nwaves:\n');
    for (const w of h.waves) process.stdout.write(`  ${w.n}: ${w.tenancies} tenancies, freeze ${w.freezeFrom} .. ${w.freezeUntil}, ${w.concurrency} at once${w.startedAt ? `, started ${w.startedAt}` : ''}\n`);
    process.stdout.write(`\ntenancies: ${h.tenancies.total} (${Object.entries(h.tenancies.byState).map(([s, n]) => `${n} ${s}`).join(', ')})\n`);
  };

  /** POSTs on the hand-over as it is now (its ETag as If-Match). */
  const act = async <T = Handover>(id: string, path: string, body?: unknown): Promise<T> => {
    const api = client();
    const current = await api.request<Handover>('GET', `/handovers/${encodeURIComponent(id)}`);
    return (await api.request<T>('POST', `/handovers/${encodeURIComponent(current.body.id)}/${path}`, { ifMatch: current.etag, ...(body !== undefined ? { body } : {}) })).body;
  };

  cmd
    .command('create <plan.json>')
    .description('plan a hand-over from a JSON file (name, sourceCoop, targetCoop, clusters [{cluster, mode, targetCluster?}], noticeDays, announceAt, waves [{freezeFrom, freezeUntil, concurrency, tenancies?}], cutoverAt, decommissionAt, agreement?, runWaves? automatic|by-hand, greenlights? [{source, target|null}])')
    .action(async (file: string) => show((await client().request<Handover>('POST', '/handovers', { body: readJson(file, 'plan') })).body));

  cmd
    .command('list')
    .description('hand-overs you may see')
    .action(async () => {
      const items = (await client().request<{ items: Handover[] }>('GET', '/handovers')).body.items;
      if (json()) return printJson(items);
      printTable(items.map((h) => ({ id: h.id, name: h.name, state: h.state, tenancies: h.tenancies.total })), ['id', 'name', 'state', 'tenancies']);
    });

  cmd
    .command('show <id>')
    .description('the plan: clusters and where they go (and on what figures), waves, approvals')
    .action(async (id: string) => show((await client().request<Handover>('GET', `/handovers/${encodeURIComponent(id)}`)).body));

  cmd
    .command('approve <id>')
    .description("approve as your co-op's admin (--as source_admin | target_admin); the second approval makes every tenancy's transfer")
    .requiredOption('--as <role>', 'source_admin or target_admin')
    .action(async (id: string, o: { as: string }) => {
      if (o.as !== 'source_admin' && o.as !== 'target_admin') throw new CliError('--as must be source_admin or target_admin', 2);
      show(await act(id, 'approve', { as: o.as }));
    });

  const printStatus = (id: string, p: Progress) => {
      process.stdout.write(`state: ${p.state}\n`);
      for (const w of p.waves) {
        const settled = w.moved + w.stayed + w.failed;
        process.stdout.write(
          `wave ${w.n} ${bar(settled, w.tenancies, 20)} ${settled}/${w.tenancies} settled: ${w.moved} moved, ${w.stayed} stayed, ${w.failed} failed, ${w.onTheWay} on the way; ${formatBytePair(w.bytesDone, w.bytesTotal)}${w.startedAt ? '' : ' (not started)'}\n`,
        );
      }
      for (const f of p.failures) process.stdout.write(`FAILED ${f.tenancyId}: ${f.reason}\n  retry: meetplane handovers retry ${id} --tenancy ${f.tenancyId}\n`);
      for (const t of p.openTasks) process.stdout.write(`${t.blocking ? 'BLOCKING ' : ''}task ${t.id} ${t.status}${t.dueOn ? ` due ${t.dueOn}` : ''}: ${t.title}\n`);
  };
  const progress = async (id: string) => (await client().request<Progress>('GET', `/handovers/${encodeURIComponent(id)}/status`)).body;

  cmd
    .command('status <id>')
    .description('progress: each wave with a bar, failures, open tasks (blocking first)')
    .action(async (id: string) => {
      const p = await progress(id);
      if (json()) return printJson(p);
      printStatus(id, p);
    });

  cmd
    .command('watch <id>')
    .description('status again every --interval seconds until the hand-over is completed (exit 0) or cancelled (exit 4); ctrl-c stops (exit 130)')
    .option('--interval <seconds>', 'seconds between looks', '5')
    .action(async (id: string, o: { interval: string }) => {
      const every = Number(o.interval);
      if (!(every >= 1 && every <= 3600)) throw new CliError('--interval must be between 1 and 3600 seconds', 2);
      const stop = new AbortController();
      const onInt = () => stop.abort();
      process.once('SIGINT', onInt);
      try {
        for (;;) {
          const p = await progress(id);
          if (json()) process.stdout.write(JSON.stringify(p) + '\n');
          else {
            process.stdout.write(`--- ${new Date().toISOString()}\n`);
            printStatus(id, p);
          }
          if (p.state === 'completed') return;
          if (p.state === 'cancelled') throw new CliError(`hand-over ${id} was cancelled`, 4);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, every * 1000);
            stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
          if (stop.signal.aborted) throw new CliError('stopped', 130);
        }
      } finally {
        process.removeListener('SIGINT', onInt);
      }
    });

  cmd
    .command('run-waves <id> <mode>')
    .description("automatic: each wave runs on its own while its freeze window is open; by-hand: only `handovers run` runs one")
    .action(async (id: string, mode: string) => {
      if (mode !== 'automatic' && mode !== 'by-hand') throw new CliError('the mode is automatic or by-hand', 2);
      const api = client();
      const current = await api.request<Handover>('GET', `/handovers/${encodeURIComponent(id)}`);
      show((await api.request<Handover>('PUT', `/handovers/${encodeURIComponent(current.body.id)}/run-waves`, { ifMatch: current.etag, body: { runWaves: mode } })).body);
    });

  cmd
    .command('run <id> <wave>')
    .description("run a wave: its tenancies' transfers move on, at most its concurrency at once; prints each tenancy's result")
    .action(async (id: string, wave: string) => {
      if (!/^\d+$/.test(wave)) throw new CliError('the wave is a number (1, 2, ...)', 2);
      const r = await act<{ wave: number; peakInFlight: number; results: Array<{ tenancyId: string; state: string; transferState: string | null; waiting?: string; failure?: string }> }>(id, `waves/${wave}/run`);
      if (json()) return printJson(r);
      printTable(r.results.map((x) => ({ tenancy: x.tenancyId, state: x.state, transfer: x.transferState ?? '', note: x.failure ?? (x.waiting ? `waiting: ${x.waiting}` : '') })), ['tenancy', 'state', 'transfer', 'note']);
      const failed = r.results.filter((x) => x.state === 'failed').length;
      if (failed) throw new CliError(`${failed} tenanc${failed === 1 ? 'y' : 'ies'} failed (the others went on): see \`meetplane handovers status ${id}\``, 4);
    });

  cmd
    .command('answer <id>')
    .description("as a tenancy's owner: --accept, --object stay|export|other-host, or --later (the next wave)")
    .requiredOption('--tenancy <id>', 'your tenancy')
    .option('--accept', 'accept: approve the transfer of your tenancy')
    .option('--object <choice>', 'object: stay, export or other-host (the transfer stops)')
    .option('--later', 'ask for the next wave')
    .action(async (id: string, o: { tenancy: string; accept?: boolean; object?: string; later?: boolean }) => {
      const picked = [o.accept, o.object, o.later].filter(Boolean).length;
      if (picked !== 1) throw new CliError('give exactly one of --accept, --object <choice>, --later', 2);
      if (o.object && !['stay', 'export', 'other-host'].includes(o.object)) throw new CliError('--object takes stay, export or other-host', 2);
      const api = client();
      const p = (await api.request<Progress>('GET', `/handovers/${encodeURIComponent(id)}/status`).catch(() => null))?.body;
      const transferId = p?.tenancies.find((t) => t.tenancyId === o.tenancy)?.transferId;
      // Owners may not read the plan: the transfer of their tenancy is found through the tenancy.
      const tid = transferId ?? (await api.request<{ items: Array<{ id: string; tenancyId: string; state: string }> }>('GET', '/transfers')).body.items.find((t) => t.tenancyId === o.tenancy && !['completed', 'rejected', 'cancelled', 'rolled_back'].includes(t.state))?.id;
      if (!tid) throw new CliError(`no transfer of tenancy ${o.tenancy} to answer`, 1);
      const t = await api.request('GET', `/transfers/${tid}`);
      const body = o.accept ? { answer: 'accept' } : o.object ? { answer: 'object', choice: o.object } : { answer: 'later' };
      const r = (await api.request<{ state: string; wave: number }>('POST', `/handovers/${encodeURIComponent(id)}/tenancies/${encodeURIComponent(o.tenancy)}/answer`, { body, ifMatch: t.etag })).body;
      if (json()) printJson(r);
      else process.stdout.write(`tenancy ${o.tenancy}: ${r.state}, wave ${r.wave}\n`);
    });

  cmd
    .command('retry <id>')
    .description("retry a failed tenancy (its failed step, or a new transfer carrying the plan's approvals)")
    .requiredOption('--tenancy <id>', 'the failed tenancy')
    .action(async (id: string, o: { tenancy: string }) => {
      const r = (await client().request<{ state: string }>('POST', `/handovers/${encodeURIComponent(id)}/tenancies/${encodeURIComponent(o.tenancy)}/retry`)).body;
      if (json()) printJson(r);
      else process.stdout.write(`tenancy ${o.tenancy}: ${r.state}\n`);
    });

  cmd
    .command('custody <id>')
    .description("hand a custody cluster over: re-registered under the target co-op with the new secret (set it on the server first; read from a file, never the command line)")
    .requiredOption('--cluster <id>', 'the custody cluster')
    .requiredOption('--secret-file <file>', 'a file holding the new shared secret')
    .action(async (id: string, o: { cluster: string; secretFile: string }) => {
      const secret = readFileSync(o.secretFile, 'utf8').trim();
      const r = await act<{ tenancies: number; grantsRevoked: string[] }>(id, `clusters/${encodeURIComponent(o.cluster)}/custody`, { secret });
      if (json()) printJson(r);
      else process.stdout.write(`cluster ${o.cluster} is in the target co-op's custody: ${r.tenancies} tenancies kept it, ${r.grantsRevoked.length} roles on it revoked\n`);
    });

  cmd
    .command('operators <id>')
    .description("delegate cluster_operator on the plan's source clusters to a member of the target's team, until the decommission date")
    .requiredOption('--account <id>', "the target co-op's team member")
    .action(async (id: string, o: { account: string }) => {
      const r = (await client().request<{ grants: Array<{ grantId: string; clusterId: string; expiresAt: string }> }>('POST', `/handovers/${encodeURIComponent(id)}/operators`, { body: { account: o.account } })).body;
      if (json()) return printJson(r);
      printTable(r.grants.map((g) => ({ grant: g.grantId, cluster: g.clusterId, expires: g.expiresAt })), ['grant', 'cluster', 'expires']);
    });

  const tasks = cmd.command('tasks').description('the shared operations checklist');
  tasks
    .command('list <id>')
    .action(async (id: string) => {
      const items = (await client().request<{ items: Array<{ id: string; title: string; status: string; blocking: boolean; assigneeId: string | null; dueOn: string | null; comments: unknown[] }> }>('GET', `/handovers/${encodeURIComponent(id)}/tasks`)).body.items;
      if (json()) return printJson(items);
      printTable(items.map((t) => ({ id: t.id, status: t.status, blocking: t.blocking ? 'yes' : '', due: t.dueOn ?? '', assignee: t.assigneeId ?? '', comments: t.comments.length, title: t.title })), ['id', 'status', 'blocking', 'due', 'assignee', 'comments', 'title']);
    });
  tasks
    .command('add <id>')
    .requiredOption('--title <text>', 'what is to be done')
    .option('--assignee <account>', 'an account of either co-op')
    .option('--due <day>', 'YYYY-MM-DD')
    .option('--blocking', 'the cut-over waits for it')
    .action(async (id: string, o: { title: string; assignee?: string; due?: string; blocking?: boolean }) => {
      if (o.due && !/^\d{4}-\d\d-\d\d$/.test(o.due)) throw new CliError('--due must be a day as YYYY-MM-DD', 2);
      const r = (await client().request<{ id: string }>('POST', `/handovers/${encodeURIComponent(id)}/tasks`, { body: { title: o.title, assignee: o.assignee ?? null, dueOn: o.due ?? null, blocking: Boolean(o.blocking) } })).body;
      if (json()) printJson(r);
      else process.stdout.write(`task ${r.id} added\n`);
    });
  tasks
    .command('update <id> <task>')
    .option('--status <status>', 'open, in-progress, done or dropped')
    .option('--assignee <account>', 'an account of either co-op')
    .option('--due <day>', 'YYYY-MM-DD')
    .option('--blocking <yes|no>', 'whether the cut-over waits for it')
    .action(async (id: string, task: string, o: { status?: string; assignee?: string; due?: string; blocking?: string }) => {
      const api = client();
      const list = (await api.request<{ items: Array<{ id: string; version: number }> }>('GET', `/handovers/${encodeURIComponent(id)}/tasks`)).body.items;
      const current = list.find((t) => t.id === task);
      if (!current) throw new CliError(`no task ${task} in hand-over ${id}`, 1);
      const body = {
        ...(o.status ? { status: o.status } : {}),
        ...(o.assignee ? { assignee: o.assignee } : {}),
        ...(o.due ? { dueOn: o.due } : {}),
        ...(o.blocking ? { blocking: o.blocking === 'yes' } : {}),
      };
      const r = (await api.request<{ status: string }>('PATCH', `/handovers/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}`, { body, ifMatch: `"${current.id}.${current.version}"` })).body;
      if (json()) printJson(r);
      else process.stdout.write(`task ${task}: ${r.status}\n`);
    });
  tasks
    .command('comment <id> <task> <text>')
    .action(async (id: string, task: string, text: string) => {
      await client().request('POST', `/handovers/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/comments`, { body: { body: text } });
      if (!json()) process.stdout.write('comment added\n');
    });

  cmd
    .command('guide <id>')
    .description("the platform's one-page operations guide (Markdown), generated from meetplane's own records")
    .option('--out <file>', 'write it to a file instead of printing it')
    .action(async (id: string, o: { out?: string }) => {
      const md = (await client().request<string>('GET', `/handovers/${encodeURIComponent(id)}/guide`, { text: true })).body;
      if (o.out) writeFileSync(o.out, md);
      else process.stdout.write(md);
    });

  cmd
    .command('cut-over <id>')
    .description('cut over (refused while a blocking task is open: the tasks are named)')
    .action(async (id: string) => show(await act(id, 'cut-over')));

  cmd
    .command('complete <id>')
    .description('complete: the final report is signed by both co-ops')
    .action(async (id: string) => show(await act(id, 'complete')));

  cmd
    .command('cancel <id>')
    .description('cancel before the waves run: its transfers are cancelled, its tenancies stay, the delegated operator roles are revoked')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (id: string, o: { reason: string }) => show(await act(id, 'cancel', { reason: o.reason })));

  cmd
    .command('report <id>')
    .description('save the signed final report')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (id: string, o: { out: string }) => {
      const r = (await client().request('GET', `/handovers/${encodeURIComponent(id)}/report`)).body;
      writeFileSync(o.out, JSON.stringify(r, null, 2) + '\n');
      if (!json()) process.stdout.write(`report written to ${o.out}; verify it with: meetplane handovers verify-report ${o.out} --source-jwks <file> --target-jwks <file>\n`);
    });

  cmd
    .command('verify-report <file>')
    .description("verify a saved report offline against both co-ops' JWKS files (their /api/v1/coops/{id}/jwks)")
    .requiredOption('--source-jwks <file>', "the source co-op's JWKS")
    .requiredOption('--target-jwks <file>', "the target co-op's JWKS")
    .action(async (file: string, o: { sourceJwks: string; targetJwks: string }) => {
      try {
        const r = await verifyHandoverReport(readJson(file, 'report'), { sourceJwks: readJson(o.sourceJwks, 'source JWKS'), targetJwks: readJson(o.targetJwks, 'target JWKS') });
        if (json()) return printJson({ ok: true, report: r });
        process.stdout.write(
          `OK: hand-over ${r.handoverId} "${r.name}", completed ${r.completedAt}\n  ${r.moved.length} moved, ${r.optedOut.length} opted out, ${r.failed.length} failed, ${r.custody.length} clusters in custody\n  the source holds data until ${r.sourceHolds.deletedBy}\n`,
        );
      } catch (e) {
        if (e instanceof ReceiptVerificationError) throw new CliError(`VERIFICATION FAILED: ${e.message}`, 3);
        throw e;
      }
    });

  return cmd;
}
