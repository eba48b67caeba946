// BBB query strings handled as the raw text that was signed: the gateway removes
// and appends parameters without re-encoding the rest, so what it forwards is
// exactly what the client sent, plus what meetplane adds.

export interface QueryPart {
  /** the part as received, still percent-encoded */
  raw: string;
  /** decoded like a servlet does (application/x-www-form-urlencoded) */
  key: string;
  value: string;
}

export function parseQuery(rawQuery: string): QueryPart[] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const [[key, value] = ['', '']] = [...new URLSearchParams(raw)];
      return { raw, key, value };
    });
}

/** First value of a parameter (BBB reads the first one). */
export function param(parts: readonly QueryPart[], name: string): string | undefined {
  return parts.find((p) => p.key === name)?.value;
}

/** meta_ keys are case-insensitive in bbb-web (it lower-cases them). */
export const isMeta = (part: QueryPart, name: string) => part.key.toLowerCase() === `meta_${name}`;

export function encodeParam(key: string, value: string): string {
  return new URLSearchParams({ [key]: value }).toString();
}

export function joinQuery(parts: ReadonlyArray<QueryPart | string>): string {
  return parts.map((p) => (typeof p === 'string' ? p : p.raw)).join('&');
}
