// meetplane federation enrol|anchors add|resolve|show and meetplane peers add|remove: OpenID Federation
// trust between instances, over REST /federation (platform admins).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { resolveConnection } from '../settings.js';
import { trustMarkCommand } from './trust-marks.js';

type Opts = Record<string, string | boolean | undefined>;

function jsonFile(path: string | undefined, what: string): unknown {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`${what} (${path}) is not a readable JSON file: ${(e as Error).message}`, 1);
  }
}

/** A metadata_policy object as in the spec ({entity type: {parameter: operators}}) as the API's list of rules. */
function policyRules(policy: unknown): unknown {
  if (policy === undefined) return undefined;
  if (!policy || typeof policy !== 'object' || Array.isArray(policy)) throw new CliError('the policy file must hold a metadata_policy object', 1);
  return Object.entries(policy as Record<string, Record<string, unknown>>).flatMap(([entityType, params]) =>
    Object.entries(params ?? {}).map(([parameter, operators]) => ({ entityType, parameter, operators })),
  );
}

export function federationCommands(globals: () => Opts): Command[] {
  const client = () => new ApiClient(resolveConnection(globals() as { url?: string; token?: string }));
  const fed = new Command('federation').description('OpenID Federation: trust anchors, enrolled instances, trust chains');

  fed
    .command('show')
    .description('what this instance trusts (anchors, pinned peers) and vouches for (enrolled subordinates)')
    .action(async () => {
      const res = await client().request<{ self: { entityId: string; thumbprint: string } } & Record<string, Array<Record<string, unknown>>>>('GET', '/federation');
      if (globals().json) return printJson(res.body);
      const { self, ...lists } = res.body;
      process.stdout.write(`this instance: ${self.entityId}, federation key thumbprint ${self.thumbprint}\n`);
      for (const [title, rows] of Object.entries(lists)) {
        process.stdout.write(`${title}:\n`);
        printTable(rows, ['entityId', 'thumbprint']);
      }
    });

  fed
    .command('enrol <entity-id>')
    .description("vouch for an instance as trust anchor or intermediate; its configuration must be signed by the key with this thumbprint")
    .requiredOption('--thumbprint <jwk-thumbprint>', 'RFC 7638 thumbprint of its federation key, exchanged out of band')
    .option('--policy <file>', 'metadata_policy (JSON file) to put in its subordinate statement')
    .option('--constraints <file>', 'constraints (JSON file): max_path_length, naming_constraints, allowed_entity_types')
    .action(async (entityId: string, o: { thumbprint: string; policy?: string; constraints?: string }) => {
      const body = { entityId, thumbprint: o.thumbprint, metadataPolicy: policyRules(jsonFile(o.policy, 'policy')), constraints: jsonFile(o.constraints, 'constraints') };
      const res = await client().request('POST', '/federation/subordinates', { body });
      if (globals().json) printJson(res.body);
      else process.stdout.write(`enrolled ${entityId} (key ${o.thumbprint})\n`);
    });

  fed
    .command('rotate-key')
    .description('rotate this instance\'s federation key; each anchor must then enrol the new thumbprint')
    .action(async () => {
      const res = await client().request<{ thumbprint: string }>('POST', '/federation/keys/rotate');
      if (globals().json) return printJson(res.body);
      process.stdout.write(`new federation key thumbprint ${res.body.thumbprint}: give it to each trust anchor to enrol again\n`);
    });

  fed
    .command('unenrol <entity-id>')
    .description('stop vouching for an instance (peers refuse it once their cached chains expire)')
    .action(async (entityId: string) => {
      await client().request('DELETE', `/federation/subordinates?${new URLSearchParams({ entityId })}`);
      process.stdout.write(`${entityId} is no longer enrolled\n`);
    });

  fed
    .command('anchor <entity-id>')
    .description('trust an anchor; its configuration must be signed by the key with this thumbprint')
    .requiredOption('--thumbprint <jwk-thumbprint>', 'RFC 7638 thumbprint of the anchor key, exchanged out of band')
    .action(async (entityId: string, o: { thumbprint: string }) => {
      await client().request('POST', '/federation/anchors', { body: { entityId, thumbprint: o.thumbprint } });
      process.stdout.write(`trust anchor ${entityId} added (key ${o.thumbprint})\n`);
    });

  fed
    .command('resolve <entity-id>')
    .description("resolve an instance's trust chain and metadata (through each anchor, or as a pinned peer)")
    .option('--trust-anchor <entity-id>', 'only through this anchor')
    .action(async (entityId: string, o: { trustAnchor?: string }) => {
      const q = new URLSearchParams({ sub: entityId, ...(o.trustAnchor ? { trust_anchor: o.trustAnchor } : {}) });
      type Marks = { valid: Array<Record<string, unknown>>; dropped: Array<Record<string, unknown>> };
      const res = await client().request<{ via: string; trustAnchor?: string; expiresAt: string; chain: Array<Record<string, unknown>>; metadata: unknown; trustMarks: Marks }>('GET', `/federation/resolve?${q}`);
      if (globals().json) return printJson(res.body);
      const b = res.body;
      process.stdout.write(`${entityId}: trusted ${b.via === 'pinned' ? 'as a pinned peer' : `through ${b.trustAnchor}`}, until ${b.expiresAt}\n`);
      if (b.chain.length) printTable(b.chain, ['iss', 'sub', 'exp']);
      for (const m of b.trustMarks.valid) process.stdout.write(`trust mark ${String(m.trustMarkType)} from ${String(m.issuer)}${m.expiresAt ? ` until ${String(m.expiresAt)}` : ''}\n`);
      for (const m of b.trustMarks.dropped) process.stdout.write(`trust mark ${String(m.trustMarkType)} dropped: ${String(m.reason)}\n`);
      process.stdout.write(`${JSON.stringify(b.metadata, null, 2)}\n`);
    });
  fed.addCommand(trustMarkCommand(globals, client));

  const witness = fed.command('witness').description("this instance as a C2SP tlog witness: its key and the logs whose checkpoints it cosigns");
  witness
    .command('show', { isDefault: true })
    .description('the witness key (for witness policies) and the logs witnessed, with the size last cosigned')
    .action(async () => {
      const res = await client().request<{ vkey: string; submissionPrefix: string; logs: Array<Record<string, unknown>> }>('GET', '/federation/witness');
      if (globals().json) return printJson(res.body);
      process.stdout.write(`witness key: ${res.body.vkey}\nsubmission prefix: ${res.body.submissionPrefix}\n`);
      printTable(res.body.logs.map((l) => ({ ...l, via: l.viaEntity ?? 'by hand' })), ['origin', 'size', 'updatedAt', 'via', 'vkey']);
    });
  witness
    .command('add <origin>')
    .description("witness a log: cosign its checkpoints when they are consistent with the last one cosigned")
    .requiredOption('--vkey <vkey>', "the log's checkpoint verifier key (its name is the origin), exchanged out of band or read from its federation metadata")
    .action(async (origin: string, o: { vkey: string }) => {
      const res = await client().request('POST', '/federation/witness/logs', { body: { origin, vkey: o.vkey } });
      if (globals().json) return printJson(res.body);
      process.stdout.write(`witnessing ${origin} (key ${o.vkey.split('+').slice(0, 2).join('+')})\n`);
    });

  fed
    .command('incidents')
    .description('checkpoints this witness refused as a fork, a rollback or an inconsistent proof; --json for both notes')
    .action(async () => {
      const res = await client().request<{ items: Array<Record<string, unknown>> }>('GET', '/federation/incidents');
      if (globals().json) return printJson(res.body);
      if (res.body.items.length === 0) return void process.stdout.write('no incidents\n');
      const size = (note: unknown) => String(note).split('\n')[1];
      printTable(
        res.body.items.map((i) => ({ ...i, recorded: size(i.recordedCheckpoint), presented: size(i.presentedCheckpoint) })),
        ['detectedAt', 'origin', 'kind', 'recorded', 'presented', 'id'],
      );
    });

  const peers = new Command('peers').description('pinned peers: instances trusted without an anchor');
  peers
    .command('add <entity-id>')
    .description("pin a peer; its configuration must be signed by the key with this thumbprint. The two instances then witness each other's audit logs")
    .requiredOption('--thumbprint <jwk-thumbprint>', 'RFC 7638 thumbprint of its federation key, exchanged out of band')
    .option('--no-witness', "do not witness its log nor ask its witness to cosign this instance's checkpoints")
    .action(async (entityId: string, o: { thumbprint: string; witness: boolean }) => {
      const res = await client().request<{ witnessing: { log: string | null; witness: string | null; notes: string[] } }>('POST', '/federation/peers', { body: { entityId, thumbprint: o.thumbprint, witness: o.witness } });
      if (globals().json) return printJson(res.body);
      const w = res.body.witnessing;
      process.stdout.write(`pinned peer ${entityId} (key ${o.thumbprint})\n`);
      if (w.log) process.stdout.write(`witnessing its log ${w.log}\n`);
      if (w.witness) process.stdout.write(`its witness ${w.witness} is asked to cosign this instance's checkpoints\n`);
      for (const note of w.notes) process.stdout.write(`note: ${note}\n`);
    });
  peers
    .command('remove <entity-id>')
    .description('unpin a peer: it is no longer trusted, at once (log-in through it is refused); witnessing from its metadata stops (entries added by hand stay)')
    .action(async (entityId: string) => {
      await client().request('DELETE', `/federation/peers?entityId=${encodeURIComponent(entityId)}`);
      process.stdout.write(`unpinned peer ${entityId}\n`);
    });
  return [fed, peers];
}
