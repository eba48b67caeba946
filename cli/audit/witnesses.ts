// `meetplane audit verify --witnesses <policy>`: the checkpoint must carry valid cosignatures from
// the quorum of witnesses a C2SP tlog-policy file names (federation/witness-policy.ts). Offline:
// it reads the note the verifier already opened, nothing else.
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import { NoteError } from '../../server/audit/note.js';
import { checkQuorum, parseWitnessPolicy, WitnessPolicyError, type WitnessPolicy } from '../../federation/witness-policy.js';
import { VerificationError } from './verifier.js';

export function readWitnessPolicy(file: string): WitnessPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`witness policy ${file} cannot be read: ${(e as Error).message}`, 2);
  }
  try {
    return parseWitnessPolicy(text);
  } catch (e) {
    if (e instanceof WitnessPolicyError) throw new CliError(`witness policy ${file}: ${e.message}`, 2);
    throw e;
  }
}

/** The policy's names of the witnesses that cosigned; throws a VerificationError below the quorum. */
export function checkWitnesses(policy: WitnessPolicy, note: string, logVkey: string): string[] {
  if (policy.logs.length > 0 && !policy.logs.includes(logVkey)) {
    throw new VerificationError(`the log key ${logVkey.split('+').slice(0, 2).join('+')} is not among the policy's logs`);
  }
  let result;
  try {
    result = checkQuorum(policy, note);
  } catch (e) {
    if (e instanceof NoteError) throw new VerificationError(`witnesses: ${e.message}`);
    throw e;
  }
  if (!result.ok) {
    const have = result.cosigned.length ? result.cosigned.join(', ') : 'none of the listed witnesses';
    throw new VerificationError(`witnesses: the checkpoint is cosigned by ${have}, short of the policy's quorum (${policy.quorum})`);
  }
  return result.cosigned;
}
