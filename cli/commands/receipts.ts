// meetplane receipts verify: checks a saved transfer receipt against the two
// co-ops' JWKS (saved files, or fetched from their URLs). Needs no token and,
// with files, no server at all (federation/receipt-verify.ts).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { ReceiptVerificationError, verifyReceipt, type VerifiedReceipt } from '../../federation/receipt-verify.js';
import { isPeerReceipt, PeerReceiptError, verifyPeerReceipt, type VerifiedPeerReceipt } from '../../federation/peer-receipt.js';

type Globals = () => Record<string, unknown>;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} is not valid JSON`, 1);
  }
}

/**
 * The keys in an entity configuration (an instance's /.well-known/openid-federation): the JWT is
 * self-signed, so its signature is checked with the keys it carries (whether those are the right
 * keys is the auditor's to check, e.g. against the thumbprint the co-op publishes).
 */
async function entityConfigurationKeys(jwt: string, what: string): Promise<unknown> {
  try {
    const { jwks } = decodeJwt(jwt) as { jwks?: JSONWebKeySet };
    if (!jwks || !Array.isArray(jwks.keys)) throw new CliError(`${what} is an entity configuration without "jwks"`, 1);
    await jwtVerify(jwt, createLocalJWKSet(jwks));
    return jwks;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${what} is not a valid entity configuration: ${(e as Error).message}`, 1);
  }
}

const looksLikeJwt = (text: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text.trim());

/** A JWKS from a file or an http(s) URL: a JWK Set, or an instance's entity configuration. */
async function loadJwks(source: string, what: string): Promise<unknown> {
  if (!/^https?:\/\//i.test(source)) {
    const text = readFileSync(source, 'utf8');
    return looksLikeJwt(text) ? entityConfigurationKeys(text.trim(), `${what} (${source})`) : parseJson(text, `${what} (${source})`);
  }
  let res: Response;
  try {
    res = await fetch(source, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new CliError(`cannot fetch ${what} from ${source}: ${(e as Error).message}`, 1);
  }
  if (!res.ok) throw new CliError(`cannot fetch ${what} from ${source}: HTTP ${res.status}`, 1);
  const text = await res.text();
  return looksLikeJwt(text) ? entityConfigurationKeys(text.trim(), `${what} from ${source}`) : parseJson(text, `${what} from ${source}`);
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

/** A receipt between instances: both signatures and both cosigned checkpoints; a bad one is exit 3. */
async function verifyPeerOrFail(receipt: unknown, keys: { sourceJwks: unknown; targetJwks: unknown }): Promise<VerifiedPeerReceipt> {
  try {
    return await verifyPeerReceipt(receipt, keys);
  } catch (e) {
    if (e instanceof PeerReceiptError) throw new CliError(`VERIFICATION FAILED: ${e.message}`, 3);
    throw e;
  }
}

function printPeerVerified({ summary, kids, checkpoints }: VerifiedPeerReceipt, json: boolean): void {
  if (json) return printJson({ ok: true, kids, checkpoints, summary });
  process.stdout.write(
    `OK: transfer ${summary.transferId} of tenancy ${summary.tenancyId} between instances, completed ${summary.completedAt}\n` +
      `  approved by ${summary.approvals.map((a) => `${a.role} ${a.ref}`).join(', ')}\n` +
      `  source ${summary.source.entityId} signed with ${kids.source}; its log ${checkpoints.source.origin} at size ${checkpoints.source.size}, cosigned by the target's witness\n` +
      `  target ${summary.target.entityId} signed with ${kids.target}; its log ${checkpoints.target.origin} at size ${checkpoints.target.size}, cosigned by the source's witness\n` +
      `  the tenancy's gateway now: ${summary.gatewayUrl}\n`,
  );
}

export function receiptsCommand(globals: Globals): Command {
  const cmd = new Command('receipts').description('transfer receipts signed by both co-ops');
  cmd
    .command('verify <file>')
    .description("verify a saved receipt: the source's signature and the target's countersignature (a receipt between instances: both cosigned checkpoints too)")
    .requiredOption('--source-jwks <file|url>', "the source's keys: a co-op's JWK Set (/api/v1/coops/{id}/jwks), or for a receipt between instances the source instance's entity configuration (/.well-known/openid-federation); a saved file or its URL")
    .requiredOption('--target-jwks <file|url>', "the target's keys, likewise")
    .action(async (file: string, opts: { sourceJwks: string; targetJwks: string }) => {
      const receipt = parseJson(readFileSync(file, 'utf8'), `receipt ${file}`);
      const [sourceJwks, targetJwks] = await Promise.all([loadJwks(opts.sourceJwks, 'source JWKS'), loadJwks(opts.targetJwks, 'target JWKS')]);
      if (isPeerReceipt(receipt)) printPeerVerified(await verifyPeerOrFail(receipt, { sourceJwks, targetJwks }), Boolean(globals().json));
      else printVerified(await verifyOrFail(receipt, { sourceJwks, targetJwks }), Boolean(globals().json));
    });
  return cmd;
}
