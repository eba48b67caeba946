// meetplane audit verify|show|export|prove|key|trust — the auditor's tools.
// They trust the server for nothing: checkpoints are opened with a pinned key
// (or a key it vouched for through an announced rotation) and every proof is
// checked here (cli/audit/verifier.ts, cli/audit/rotations.ts).
// meetplane audit rotate-key — the operator's: acts on the configured database.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { configPath, readSettingsFile, resolveConnection, writeSettingsFile } from '../settings.js';
import {
  checkAgainstState,
  keyLabel,
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
import { followRotations, type FollowedRotation } from '../audit/rotations.js';
import { httpTileFetcher, tileEntries } from '../audit/tile-source.js';
import { TILE_WIDTH } from '../../server/audit/tiles.js';
import { verifyInclusion, leafHash } from '../../server/audit/merkle.js';
import { NoteError } from '../../server/audit/note.js';
import { ROTATE_ACTION } from '../../server/audit/announcement.js';
import { checkWitnesses, readWitnessPolicy } from '../audit/witnesses.js';

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
    rotations: async () => {
      const out: Array<{ index: number; entry: string }> = [];
      for (let from: number | null = 0; from !== null; ) {
        const page: { items: Array<{ index: number; entry: string }>; nextFrom: number | null } = (
          await client.request<{ items: Array<{ index: number; entry: string }>; nextFrom: number | null }>('GET', '/audit/entries', {
            query: { action: ROTATE_ACTION, from: String(from), limit: '1000' },
          })
        ).body;
        out.push(...page.items);
        from = page.nextFrom;
      }
      return out;
    },
    inclusion: async (index, treeSize) =>
      (await client.request<{ hashes: string[] }>('GET', '/audit/proof/inclusion', { query: { index: String(index), treeSize: String(treeSize) } })).body.hashes,
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

  /** The keys the pinned key vouches for, and the rotations followed forward from it. */
  const follow = async (source: LogSource, opts: { key?: string }) => {
    const { chain, followed } = await followRotations(source, pinnedKey(opts));
    return { chain, forward: followed.filter((f) => f.direction === 'forward') };
  };
  /** Once verified: a key pinned in the config file moves to the key it handed over to; a --key is the user's to change. */
  const repin = (forward: FollowedRotation[], current: string, opts: { key?: string }) => {
    const repinned = forward.length > 0 && !opts.key;
    if (repinned) writeSettingsFile({ ...readSettingsFile(), auditKey: current });
    return repinned;
  };
  const tellRotations = (forward: FollowedRotation[], repinned: boolean, current: string) => {
    for (const f of forward)
      process.stdout.write(
        `KEY ROTATION at entry ${f.index}: ${keyLabel(f.from.vkey)} handed over to ${f.to.vkey}` +
          (f.from.origin !== f.to.origin ? ` (origin ${f.from.origin} -> ${f.to.origin})` : '') +
          `, announced in the checkpoint of size ${f.size} signed by the key you trusted\n`,
      );
    if (forward.length > 0)
      process.stdout.write(repinned ? `pinned ${current} in the config file\n` : `pin it with: meetplane audit trust ${current}\n`);
  };

  cmd
    .command('verify')
    .description('verify the latest checkpoint against the pinned key and against what was verified before; follows announced key rotations')
    .option('--full', 'also fetch every entry and recompute the root')
    .option('--key <vkey>', 'verifier key to use instead of the pinned one')
    .option('--witnesses <policy-file>', 'also require cosignatures by the quorum of witnesses in this C2SP tlog-policy file')
    .action(async (opts: { full?: boolean; key?: string; witnesses?: string }) => {
      const api = client();
      const source = restSource(api);
      const policy = opts.witnesses === undefined ? undefined : readWitnessPolicy(opts.witnesses);
      try {
        const { chain, forward } = await follow(source, opts);
        const note = await source.checkpoint();
        const cp = chain.open(note);
        const witnessed = policy && checkWitnesses(policy, note, chain.current.vkey);
        // The state of this log, under whichever of its origins it was saved.
        const states = readStates();
        const state = [...chain.epochs].reverse().map((e) => states[e.origin]).find(Boolean);
        if (opts.full) {
          const tty = process.stderr.isTTY;
          const full = { known: state?.checkpoints, onProgress: (done: number, total: number) => tty && process.stderr.write(`\rverified ${done}/${total} entries`) };
          // From the tiles first (256 entries a request, several in flight); they can only say that
          // something is wrong, so on any failure the entries API is read to name the first bad index.
          const tiles = { ...source, entries: tileEntries(httpTileFetcher(`${api.conn.url}/api/v1/audit`, () => api.bearer())) };
          try {
            await verifyFull(tiles, cp, chain, { ...full, pageSize: 16 * TILE_WIDTH });
          } catch (fromTiles) {
            if (tty) process.stderr.write('\nthe tiles do not verify; reading the entries one page at a time to find where\n');
            await verifyFull(source, cp, chain, full);
            process.stderr.write(`warning: the log verifies entry by entry but not from its tiles (${(fromTiles as Error).message})\n`);
          }
          if (tty) process.stderr.write('\n');
        }
        await checkAgainstState(source, cp, state);
        const seen = new Map((state?.checkpoints ?? []).map((k) => [k.size, k.rootHash]));
        for await (const old of serverCheckpoints(source, chain)) if (old.size <= cp.size && !seen.has(old.size)) seen.set(old.size, toB64(old.rootHash));
        seen.set(cp.size, toB64(cp.rootHash));
        writeState(cp.origin, {
          size: cp.size,
          rootHash: toB64(cp.rootHash),
          checkpoints: [...seen].sort((a, b) => a[0] - b[0]).map(([size, rootHash]) => ({ size, rootHash })),
        });
        const out = {
          ok: true,
          origin: cp.origin,
          size: cp.size,
          rootHash: toB64(cp.rootHash),
          full: Boolean(opts.full),
          previous: state?.size ?? null,
          key: chain.current.vkey,
          rotations: forward.map((f) => ({ index: f.index, size: f.size, from: f.from, to: f.to })),
          ...(witnessed ? { witnesses: witnessed } : {}),
        };
        const repinned = repin(forward, chain.current.vkey, opts);
        if (globals().json) printJson({ ...out, repinned });
        else {
          tellRotations(forward, repinned, chain.current.vkey);
          process.stdout.write(
            `OK: ${cp.origin} at size ${cp.size}, root ${out.rootHash}` +
              (state ? `, consistent with size ${state.size} verified before` : ', first verification (state saved)') +
              (opts.full ? ', every entry recomputed' : '') +
              (witnessed ? `, cosigned by ${witnessed.join(', ')}` : '') +
              '\n',
          );
        }
      } catch (e) {
        explain(e);
      }
    });

  const witnesses = cmd.command('witnesses').description("witnesses asked to cosign this instance's checkpoints (C2SP tlog-witness)");
  witnesses
    .command('list', { isDefault: true })
    .description('the witnesses asked, with the size each last cosigned')
    .action(async () => {
      const res = await client().request<{ items: Array<Record<string, unknown>> }>('GET', '/audit/witnesses');
      if (globals().json) return printJson(res.body);
      printTable(res.body.items.map((i) => ({ ...i, via: i.viaEntity ?? 'by hand' })), ['url', 'size', 'via', 'vkey']);
    });
  witnesses
    .command('add <add-checkpoint-url>')
    .description('ask a witness to cosign each new checkpoint, e.g. https://peer.example.coop/witness/add-checkpoint')
    .requiredOption('--vkey <vkey>', "the witness's cosignature/v1 key (`meetplane federation witness` on its instance)")
    .action(async (url: string, o: { vkey: string }) => {
      await client().request('POST', '/audit/witnesses', { body: { url, vkey: o.vkey } });
      process.stdout.write(`checkpoints will be sent to ${url} for cosigning\n`);
    });
  cmd
    .command('cosign')
    .description("re-read the pinned peers' witnesses, then ask every witness now to cosign the newest checkpoint (both done in the background anyway)")
    .action(async () => {
      const res = await client().request<{ items: Array<{ url: string; size: number; outcome: string; detail?: string }> }>('POST', '/audit/cosign');
      if (globals().json) return printJson(res.body);
      printTable(res.body.items, ['url', 'size', 'outcome', 'detail']);
      if (res.body.items.some((i) => i.outcome !== 'cosigned')) throw new CliError('not every witness cosigned', 1);
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
        for (const e of await source.entries(from, Math.min(to, from + 1000))) lines.push(JSON.stringify({ index: e.index, entry: typeof e.entry === 'string' ? e.entry : toB64(e.entry), leafHash: e.leafHash }));
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
      try {
        // Online, the pinned key is followed through announced rotations; a saved bundle is checked with the key as pinned.
        const keys = opts.offline ? pinnedKey(opts) : (await follow(restSource(client()), opts)).chain;
        const bundle = opts.offline
          ? (JSON.parse(readFileSync(opts.offline, 'utf8')) as Bundle)
          : (await client().request<Bundle>('GET', `/audit/bundle/${encodeURIComponent(index)}`)).body;
        if (String(bundle.index) !== index) throw new VerificationError(`the bundle is for entry ${bundle.index}, not ${index}`);
        const cp = verifyBundle(bundle, keys);
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

  cmd
    .command('rotate-key')
    .description(
      'operator, on the configured database: replace the key that signs checkpoints (and with --origin the log origin); ' +
        'announced in the log and in a checkpoint signed by the old key, so verifiers who pinned it follow',
    )
    .option('--origin <origin>', 'a new origin for the log, e.g. example.org/audit (default: keep the current one)')
    .action(async (opts: { origin?: string }) => {
      const [{ loadConfig }, { openDatabase }, { SecretBox }, { loadMasterKey }, { createLogger }, { CheckpointSigner, auditOrigin }, { rotateLogKey, assertOrigin }, { LogKeyError }, { LOCAL_OPERATOR }] =
        await Promise.all([
          import('../../server/config.js'),
          import('../../server/db/index.js'),
          import('../../server/crypto/secretbox.js'),
          import('../../server/crypto/master-key.js'),
          import('../../server/logger.js'),
          import('../../server/audit/checkpoints.js'),
          import('../../server/audit/rotation.js'),
          import('../../server/audit/log-keys.js'),
          import('../../server/auth/principal.js'),
        ]);
      try {
        if (opts.origin !== undefined) assertOrigin(opts.origin);
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      const config = loadConfig();
      const box = new SecretBox(loadMasterKey(config, createLogger('warn')));
      const database = await openDatabase(config);
      try {
        await database.migrate();
        // A log never started yet gets its identity first, as the server would give it.
        await CheckpointSigner.load(database.db, box, auditOrigin(config.publicUrl));
        const r = await rotateLogKey(database.db, box, LOCAL_OPERATOR, { origin: opts.origin });
        if (globals().json) return printJson(r);
        process.stdout.write(
          `rotated the audit log's key at entry ${r.index}\n` +
            `  old key: ${r.previous.vkey}\n  new key: ${r.current.vkey}\n` +
            (r.previous.origin !== r.current.origin ? `  origin:  ${r.previous.origin} -> ${r.current.origin}\n` : '') +
            `the old key signed its last checkpoint (size ${r.transition.size}), co-signed by the new one; ` +
            'running servers sign with the new key from their next checkpoint.\n' +
            "auditors' `meetplane audit verify` follows the rotation from the old key; give new auditors the new key.\n",
        );
      } catch (e) {
        if (e instanceof LogKeyError) throw new CliError(e.message, 2);
        throw e;
      } finally {
        await database.close();
      }
    });

  return cmd;
}
