// What text the server accepts from outside, in one place. NUL cannot be stored
// at all (PostgreSQL text and jsonb refuse it), unpaired UTF-16 surrogates are
// not Unicode text, and the other C0 controls (and DEL) only hide or forge what
// readers of the audit log and the pages see. Tab, line feed and carriage return
// stay allowed: free text (reasons, keys in PEM) has lines. Single-line fields
// (names, ids) refuse those too, in their own schemas.

/** C0 controls and DEL, except tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** Every C0 control and DEL: for single-line values. */
export const LINE_CONTROL = /[\u0000-\u001f\u007f]/;
/** A surrogate that is not half of a pair (only those match with the u flag). */
const LONE_SURROGATE = /\p{Surrogate}/u;

export const TEXT_RULE = 'must not contain control characters (other than tab and line breaks) or unpaired surrogates';

/** True when `s` is text the server may store and show. */
export function isCleanText(s: string): boolean {
  return !CONTROL.test(s) && !LONE_SURROGATE.test(s);
}

/**
 * The path of the first string (value or object key) in `value` that is not
 * clean text, or undefined when every string is clean. Walks only what a schema
 * already accepted, so its depth is bounded by the schema.
 */
export function uncleanTextAt(value: unknown, at: string[] = []): string[] | undefined {
  if (typeof value === 'string') return isCleanText(value) ? undefined : at;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = uncleanTextAt(value[i], [...at, String(i)]);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (!isCleanText(key)) return [...at, '(key)'];
    const found = uncleanTextAt(inner, [...at, key]);
    if (found) return found;
  }
  return undefined;
}
