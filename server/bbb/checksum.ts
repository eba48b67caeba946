// BBB API checksums: hex(H(callName + queryString + sharedSecret)), as documented in the
// "API Security Model" of the BBB API reference. bbb-web picks the hash from the checksum
// length (40/64/96/128 hex chars) and only accepts algorithms listed in
// `supportedChecksumAlgorithms`, so a verifier is given the set it accepts.
import { createHash, timingSafeEqual } from 'node:crypto';

export type ChecksumAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha1', 'sha256', 'sha384', 'sha512'];

const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };

export type QueryParams = URLSearchParams | Record<string, string>;

export function checksum(callName: string, queryString: string, secret: string, alg: ChecksumAlgorithm): string {
  return createHash(alg).update(callName + queryString + secret, 'utf8').digest('hex');
}

/**
 * Builds the query string once (application/x-www-form-urlencoded, space as '+', like the
 * docs' `name=Test+Meeting`) and signs exactly that string. BBB and Scalelite hash the raw
 * query string as received, and decode '+' as a space, so '+' and '%20' are both accepted
 * as long as the string sent is the string signed.
 */
export function signQuery(call: string, params: QueryParams, secret: string, alg: ChecksumAlgorithm): string {
  const query = new URLSearchParams(params).toString();
  const sum = checksum(call, query, secret, alg);
  return query === '' ? `checksum=${sum}` : `${query}&checksum=${sum}`;
}

export function detectAlgorithm(sum: string): ChecksumAlgorithm | undefined {
  if (!/^[0-9a-fA-F]+$/.test(sum)) return undefined;
  return CHECKSUM_ALGORITHMS.find((alg) => HEX_LENGTH[alg] === sum.length);
}

/**
 * Splits a raw query string (as received, still percent-encoded) into the part that was
 * signed and the checksum. Returns undefined when there is no checksum or more than one,
 * so an ambiguous request can never verify.
 */
export function splitChecksum(rawQuery: string): { signed: string; checksum: string } | undefined {
  // An empty query splits into one empty part: no checksum, so undefined.
  const parts = rawQuery.split('&');
  const sums = parts.filter((p) => p.startsWith('checksum='));
  const sum = sums[0];
  if (sums.length !== 1 || sum === undefined) return undefined;
  return { signed: parts.filter((p) => p !== sum).join('&'), checksum: sum.slice('checksum='.length) };
}

/**
 * Verifies a request's raw query string (without the leading '?'). `accept` is the
 * algorithm, or the set of algorithms, this endpoint accepts; the one used is detected from
 * the checksum length. Comparison is case-insensitive like bbb-web and constant-time.
 */
export function verifyChecksum(
  call: string,
  rawQueryString: string,
  secret: string,
  accept: ChecksumAlgorithm | readonly ChecksumAlgorithm[],
): boolean {
  const split = splitChecksum(rawQueryString);
  if (split === undefined) return false;
  const alg = detectAlgorithm(split.checksum);
  const accepted: readonly ChecksumAlgorithm[] = typeof accept === 'string' ? [accept] : accept;
  if (alg === undefined || !accepted.includes(alg)) return false;
  const expected = Buffer.from(checksum(call, split.signed, secret, alg), 'utf8');
  const given = Buffer.from(split.checksum.toLowerCase(), 'utf8');
  return timingSafeEqual(expected, given);
}
