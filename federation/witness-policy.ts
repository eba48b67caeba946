// C2SP tlog-policy: which witnesses must have cosigned a checkpoint before an auditor accepts it.
// `log <vkey>`, `witness <name> <vkey> [url]`, `group <name> all|any|<k> <member>...`,
// `quorum <name>|none`; names must be defined on earlier lines. Only Ed25519 cosignature/v1
// witness keys are understood here. Pure: `meetplane audit verify --witnesses` reads it offline.
import { parseCosignerVkey, verifyCosignatures, type Cosigner } from './cosignature.js';

export class WitnessPolicyError extends Error {}

type Rule = { kind: 'witness'; cosigner: Cosigner } | { kind: 'group'; threshold: number; members: string[] } | { kind: 'none' };

export interface WitnessPolicy {
  logs: string[];
  witnesses: Map<string, Cosigner>;
  rules: Map<string, Rule>;
  quorum: string;
}

export function parseWitnessPolicy(text: string): WitnessPolicy {
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) throw new WitnessPolicyError('the policy may hold no control characters but tab and newline');
  const rules = new Map<string, Rule>([['none', { kind: 'none' }]]);
  const witnesses = new Map<string, Cosigner>();
  const logs: string[] = [];
  let quorum: string | undefined;
  const keys = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const where = `line ${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [word, ...args] = line.split(/[ \t]+/);
    const defineName = (name: string | undefined) => {
      if (!name) throw new WitnessPolicyError(`${where}: a name is missing`);
      if (rules.has(name)) throw new WitnessPolicyError(`${where}: "${name}" is already defined`);
      return name;
    };
    if (word === 'log') {
      if (args.length < 1 || args.length > 2) throw new WitnessPolicyError(`${where}: log <vkey> [<url>]`);
      logs.push(args[0]!);
    } else if (word === 'witness') {
      if (args.length < 2 || args.length > 3) throw new WitnessPolicyError(`${where}: witness <name> <vkey> [<url>]`);
      const name = defineName(args[0]);
      let cosigner: Cosigner;
      try {
        cosigner = parseCosignerVkey(args[1]!);
      } catch (e) {
        throw new WitnessPolicyError(`${where}: ${(e as Error).message}`);
      }
      const key = Buffer.from(cosigner.publicKey).toString('hex');
      if (keys.has(key)) throw new WitnessPolicyError(`${where}: the same witness key is listed twice`);
      keys.add(key);
      witnesses.set(name, cosigner);
      rules.set(name, { kind: 'witness', cosigner });
    } else if (word === 'group') {
      const [n, k, ...members] = args;
      const name = defineName(n);
      if (members.length === 0) throw new WitnessPolicyError(`${where}: group <name> all|any|<k> <name>...`);
      if (new Set(members).size !== members.length) throw new WitnessPolicyError(`${where}: a member is listed twice`);
      for (const m of members) {
        if (m === 'none' || !rules.has(m)) throw new WitnessPolicyError(`${where}: "${m}" is not a witness or group defined above`);
      }
      const threshold = k === 'all' ? members.length : k === 'any' ? 1 : /^[1-9][0-9]*$/.test(k ?? '') ? Number(k) : NaN;
      if (!(threshold >= 1 && threshold <= members.length)) throw new WitnessPolicyError(`${where}: the threshold must be all, any or 1 to ${members.length}`);
      rules.set(name, { kind: 'group', threshold, members });
    } else if (word === 'quorum') {
      if (quorum !== undefined) throw new WitnessPolicyError(`${where}: only one quorum line`);
      if (args.length !== 1 || !rules.has(args[0]!)) throw new WitnessPolicyError(`${where}: quorum <name>, a witness or group defined above (or none)`);
      quorum = args[0]!;
    } else {
      throw new WitnessPolicyError(`${where}: unknown line "${word}"`);
    }
  });
  if (quorum === undefined) throw new WitnessPolicyError('the policy has no quorum line');
  return { logs, witnesses, rules, quorum };
}

function satisfied(policy: WitnessPolicy, name: string, cosigned: Set<string>): boolean {
  const rule = policy.rules.get(name)!;
  if (rule.kind === 'none') return true;
  if (rule.kind === 'witness') return cosigned.has(name);
  return rule.members.filter((m) => satisfied(policy, m, cosigned)).length >= rule.threshold;
}

/** The witnesses (by policy name) whose valid cosignatures the note carries, and whether they make the quorum. */
export function checkQuorum(policy: WitnessPolicy, note: string): { cosigned: string[]; ok: boolean } {
  const names = [...policy.witnesses.keys()];
  const valid = verifyCosignatures(note, [...policy.witnesses.values()]);
  const cosigned = names.filter((n) => {
    const c = policy.witnesses.get(n)!;
    return valid.some((v) => v.name === c.name && v.keyId === c.keyId);
  });
  return { cosigned, ok: satisfied(policy, policy.quorum, new Set(cosigned)) };
}
