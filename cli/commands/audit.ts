// meetplane audit verify|show|export|prove|key|trust — the auditor's tools.
// They trust the server for nothing: checkpoints are opened with a pinned key
// and every proof is checked here (cli/audit/verifier.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { configPath, readSettingsFile, resolveConnection, writeSettingsFile } from '../settings.js';
import {
  checkAgainstState,
  openCheckpoint,
  serverCheckpoints,
  toB64,
  VerificationError,
  verifyBundle,
  verifyFull,
  fromB64,
  type Bundle,
  type LogSource,
  type VerifiedState,
} from '../audit/verifier.js';
import { verifyInclusion, leafHash } from '../../server/audit/merkle.js';
import { NoteError } from '../../server/audit/note.js';

type Globals = () => Record<string, unknown>;

function statePath(): string {
  return process.env.MEETPLANE_AUDIT_STATE ?? path.join(path.dirname(configPath()), 'audit-state.json');
}
function readStates(): Record<string, VerifiedState> {
  const file = statePath();
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, VerifiedState>) : {};
}
function writeState(origin: string, state: VerifiedState): void {
  const all = { ...readStates(), [origin]: state };
  mkdirSync(path.dirname(statePath()), { recursive: true, mode: 0o700 });
  writeFileSync(statePath(), JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
}

function restSource(client: ApiClient): LogSource {
  return {
    checkpoint: async () => (await client.request<string>('GET', '/audit/checkpoint', { text: true })).body,
    checkpoints: async (after) =>
      (await client.request<{ items: Array<{ size: number; note: string }> }>('GET', '/audit/checkpoints', { query: { after: after?.toString(), limit: '1000' } })).body.items,
    consistency: async (from, to) =>
      (await client.request<{ hashes: string[] }>('GET', '/audit/proof/consistency', { query: { from: String(from), to: String(to) } })).body.hashes,
    entries: async (from, to) =>
      (await client.request<{ items: Array<{ index: number; entry: string; leafHash: string }> }>('GET', '/audit/entries', {
        query: { from: String(from), to: String(to), limit: String(Math.min(1000, to - from)) },
      })).body.items,
  };
}

export function auditCommand(globals: Globals): Command {
  const cmd = new Command('audit').description('verify and read the audit log');
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const pinnedKey = (opts: { key?: string }) => {
    const key = opts.key ?? (readSettingsFile().auditKey as string | undefined);
    if (!key) throw new CliError('no pinned audit key: compare `meetplane audit key` with the operator out of band, then `meetplane audit trust`, or pass --key', 2);
    return key;
  };
  const explain = (e: unknown): never => {
    if (e instanceof VerificationError) {
      throw new CliError(`VERIFICATION FAILED: ${e.message}${e.firstBadIndex !== undefined ? ` (first bad index: ${e.firstBadIndex})` : ''}`, 3);
    }
    if (e instanceof NoteError) throw new CliError(`VERIFICATION FAILED: checkpoint: ${e.message}`, 3);
    throw e;
  };

  cmd
    .command('key')
    .description("print the server's checkpoint verifier key (compare it out of band before trusting it)")
    .action(async () => {
      process.stdout.write((await client().request<string>('GET', '/audit/key', { text: true })).body);
    });

  cmd
    .command('trust [vkey]')
    .description("pin a verifier key in the config file (default: the server's current key)")
    .action(async (vkey?: string) => {
      const key = (vkey ?? (await client().request<string>('GET', '/audit/key', { text: true })).body).trim();
      writeSettingsFile({ ...readSettingsFile(), auditKey: key });
      process.stdout.write(`pinned ${key}\n`);
    });

  cmd
    .command('verify')
    .description('verify the latest checkpoint against the pinned key and against what was verified before')
    .option('--full', 'also fetch every entry and recompute the root')
    .option('--key <vkey>', 'verifier key to use instead of the pinned one')
    .action(async (opts: { full?: boolean; key?: string }) => {
      const vkey = pinnedKey(opts);
      const source = restSource(client());
      try {
        const cp = openCheckpoint(await source.checkpoint(), vkey);
        const state = readStates()[cp.origin];
        if (opts.full) {
          const tty = process.stderr.isTTY;
          await verifyFull(source, cp, vkey, {
            known: state?.checkpoints,
            onProgress: (done, total) => tty && process.stderr.write(`\rverified ${done}/${total} entries`),
          });
          if (tty) process.stderr.write('\n');
        }
        await checkAgainstState(source, cp, state);
        const seen = new Map((state?.checkpoints ?? []).map((k) => [k.size, k.rootHash]));
        for await (const old of serverCheckpoints(source, vkey)) if (old.size <= cp.size && !seen.has(old.size)) seen.set(old.size, toB64(old.rootHash));
        seen.set(cp.size, toB64(cp.rootHash));
        writeState(cp.origin, {
          size: cp.size,
          rootHash: toB64(cp.rootHash),
          checkpoints: [...seen].sort((a, b) => a[0] - b[0]).map(([size, rootHash]) => ({ size, rootHash })),
        });
        const out = { ok: true, origin: cp.origin, size: cp.size, rootHash: toB64(cp.rootHash), full: Boolean(opts.full), previous: state?.size ?? null };
        if (globals().json) printJson(out);
        else
          process.stdout.write(
            `OK: ${cp.origin} at size ${cp.size}, root ${out.rootHash}` +
              (state ? `, consistent with size ${state.size} verified before` : ', first verification (state saved)') +
              (opts.full ? ', every entry recomputed' : '') +
              '\n',
          );
      } catch (e) {
        explain(e);
      }
    });

  cmd
    .command('show')
    .description('list entries (newest filters: --action, --subject, --actor, --from, --to)')
    .option('--from <index>', 'first index')
    .option('--to <index>', 'end index (exclusive)')
    .option('--action <action>', 'only this action')
    .option('--subject <id>', 'only this subject id')
    .option('--actor <accountId>', 'only this actor')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: Record<string, string | undefined>) => {
      const res = await client().request<{ items: Array<{ index: number; json: Record<string, unknown> }> }>('GET', '/audit/entries', {
        query: { from: opts.from, to: opts.to, action: opts.action, subject: opts.subject, actor: opts.actor, limit: opts.limit },
      });
      if (globals().json) return printJson(res.body.items);
      printTable(
        res.body.items.map((e) => {
          const j = e.json as { time: string; action: string; subject: { type: string; id: string }; outcome: string; actor: { ref: string | null } };
          return { index: e.index, time: j.time, action: j.action, subject: `${j.subject.type}:${j.subject.id}`, outcome: j.outcome, actor: j.actor.ref ?? 'local' };
        }),
        ['index', 'time', 'action', 'subject', 'outcome', 'actor'],
      );
    });

  cmd
    .command('export')
    .description('write entries as JSON lines (index, entry base64, leafHash) to stdout or --out')
    .option('--from <index>', 'first index', '0')
    .option('--to <index>', 'end index (exclusive; default: the latest checkpoint size)')
    .option('--out <file>', 'file to write')
    .action(async (opts: { from: string; to?: string; out?: string }) => {
      const source = restSource(client());
      const to = opts.to ? Number(opts.to) : Number((await source.checkpoint()).split('\n')[1]);
      const lines: string[] = [];
      for (let from = Number(opts.from); from < to; from += 1000) {
        for (const e of await source.entries(from, Math.min(to, from + 1000))) lines.push(JSON.stringify({ index: e.index, entry: e.entry, leafHash: e.leafHash }));
      }
      const text = lines.join('\n') + (lines.length ? '\n' : '');
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });

  cmd
    .command('prove <index>')
    .description('fetch an entry with its inclusion proof and verify it against the signed checkpoint; --bundle writes the offline bundle')
    .option('--key <vkey>', 'verifier key to use instead of the pinned one')
    .option('--bundle <file>', 'also save the offline bundle (entry + proof + checkpoint) to this file')
    .option('--offline <file>', 'verify a saved bundle without contacting the server')
    .action(async (index: string, opts: { key?: string; bundle?: string; offline?: string }) => {
      const vkey = pinnedKey(opts);
      try {
        const bundle = opts.offline
          ? (JSON.parse(readFileSync(opts.offline, 'utf8')) as Bundle)
          : (await client().request<Bundle>('GET', `/audit/bundle/${encodeURIComponent(index)}`)).body;
        if (String(bundle.index) !== index) throw new VerificationError(`the bundle is for entry ${bundle.index}, not ${index}`);
        const cp = verifyBundle(bundle, vkey);
        // Belt and braces: the same check spelled out with the primitives.
        if (!verifyInclusion(leafHash(fromB64(bundle.entry)), bundle.index, cp.size, bundle.proof.hashes.map(fromB64), cp.rootHash))
          throw new VerificationError('inclusion proof does not verify', bundle.index);
        if (opts.bundle) writeFileSync(opts.bundle, JSON.stringify(bundle, null, 2) + '\n');
        const entry = JSON.parse(Buffer.from(fromB64(bundle.entry)).toString('utf8'));
        if (globals().json) printJson({ ok: true, index: bundle.index, treeSize: cp.size, entry });
        else process.stdout.write(`OK: entry ${bundle.index} (${entry.action}) is in the signed tree of size ${cp.size}\n`);
      } catch (e) {
        explain(e);
      }
    });

  return cmd;
}
