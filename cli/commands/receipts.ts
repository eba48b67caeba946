// meetplane receipts verify: checks a saved transfer receipt against the two
// co-ops' JWKS (saved files, or fetched from their URLs). Needs no token and,
// with files, no server at all (federation/receipt-verify.ts).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';
import { ReceiptVerificationError, verifyReceipt, type VerifiedReceipt } from '../../federation/receipt-verify.js';

type Globals = () => Record<string, unknown>;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} is not valid JSON`, 1);
  }
}

/** A JWKS from a file, or from an http(s) URL. */
async function loadJwks(source: string, what: string): Promise<unknown> {
  if (!/^https?:\/\//i.test(source)) return parseJson(readFileSync(source, 'utf8'), `${what} (${source})`);
  let res: Response;
  try {
    res = await fetch(source, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new CliError(`cannot fetch ${what} from ${source}: ${(e as Error).message}`, 1);
  }
  if (!res.ok) throw new CliError(`cannot fetch ${what} from ${source}: HTTP ${res.status}`, 1);
  return parseJson(await res.text(), `${what} from ${source}`);
}

/** Verifies a receipt against both co-ops' keys; a bad one is a one-line error, exit 3. */
export async function verifyOrFail(receipt: unknown, keys: { sourceJwks: unknown; targetJwks: unknown }): Promise<VerifiedReceipt> {
  try {
    return await verifyReceipt(receipt, keys);
  } catch (e) {
    if (e instanceof ReceiptVerificationError) throw new CliError(`VERIFICATION FAILED: ${e.message}`, 3);
    throw e;
  }
}

/** OK and the summary: who signed which transfer, with which keys (JSON with --json). */
export function printVerified({ summary, kids }: VerifiedReceipt, json: boolean): void {
  if (json) printJson({ ok: true, kids, summary });
  else
    process.stdout.write(
      `OK: transfer ${summary.transferId} of tenancy ${summary.tenancyId}, completed ${summary.completedAt}\n` +
        // Version 2 names people by the audit log's pseudonymous references; version 1 by account id.
        `  approved by ${summary.approvals.map((a) => `${a.role} ${a.ref}`).join(', ')}${summary.version === undefined ? ' (a version 1 receipt: account ids)' : ''}\n` +
        `  source co-op ${summary.sourceCoopId} signed with ${kids.source}\n` +
        `  target co-op ${summary.targetCoopId} countersigned with ${kids.target}\n`,
    );
}

export function receiptsCommand(globals: Globals): Command {
  const cmd = new Command('receipts').description('transfer receipts signed by both co-ops');
  cmd
    .command('verify <file>')
    .description("verify a saved receipt: the source co-op's signature and the target co-op's countersignature")
    .requiredOption('--source-jwks <file|url>', "the source co-op's JWK Set (a saved file or its /api/v1/coops/{id}/jwks URL)")
    .requiredOption('--target-jwks <file|url>', "the target co-op's JWK Set (a saved file or its URL)")
    .action(async (file: string, opts: { sourceJwks: string; targetJwks: string }) => {
      const receipt = parseJson(readFileSync(file, 'utf8'), `receipt ${file}`);
      const [sourceJwks, targetJwks] = await Promise.all([loadJwks(opts.sourceJwks, 'source JWKS'), loadJwks(opts.targetJwks, 'target JWKS')]);
      printVerified(await verifyOrFail(receipt, { sourceJwks, targetJwks }), Boolean(globals().json));
    });
  return cmd;
}
