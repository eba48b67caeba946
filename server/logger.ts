// JSON-lines logger, and the one place where secrets are kept out of logs.
// Every line any part of the server writes passes three filters here:
// - values under a secret-sounding key (password, token, secret, cookie, ...)
//   become "[redacted]", at any depth;
// - errors are reduced to type, message, stack and a few plain fields; a
//   database error keeps its SQLSTATE and names but never a statement
//   parameter (../db/errors.ts knows the drivers' shapes);
// - the finished line is scanned for token-shaped text wherever it sits (a
//   path, a message, a URL inside an error): meetplane's tokens (mp_pat_,
//   mp_inv_, mp_cs_, ...), JWTs, device user codes, the values of OAuth and
//   other secret-carrying query parameters, and random-looking path segments
//   under /oidc/ (interaction ids, invitation links).
import { pino, type Logger, type DestinationStream } from 'pino';
import { databaseErrorFields, isDatabaseError } from './db/errors.js';

export type { Logger };

export const REDACTED = '[redacted]';

// Compared without case, '-' and '_': "client_secret", "clientSecret", "Set-Cookie" alike.
const SECRET_KEYS = new Set([
  'password', 'newpassword', 'confirm', 'secret', 'sharedsecret', 'clientsecret', 'bbbsecret', 'masterkey',
  'token', 'accesstoken', 'refreshtoken', 'idtoken', 'devicecode', 'usercode', 'codeverifier',
  'authorization', 'cookie', 'setcookie', 'csrf', 'xsrf',
]);
const isSecretKey = (key: string) => SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));

// Query and form parameters whose values are credentials (OAuth, the upstream hand-back `t`, BBB checksums).
const SECRET_PARAMS = 'code|user_code|device_code|refresh_token|access_token|id_token|id_token_hint|token|client_secret|client_assertion|password|code_verifier|state|nonce|t|checksum|xsrf|csrf';
const SECRET_PARAM_RE = new RegExp(`([?&;](?:${SECRET_PARAMS})=)[^&#\\s"'\\\\]+`, 'gi');
const TOKEN_RES = [
  /\bmp_[a-z]{2,5}_[A-Za-z0-9_-]{6,}/g, // meetplane's own: mp_pat_, mp_inv_, mp_cs_, ...
  // JWS and JWE compact serialisations: a header, then 2 (JWS) or 4 (JWE) more parts, any of which may be
  // empty (a JWE under `dir`, like the session cookie, has no key part; a detached JWS no payload).
  /\beyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){2,4}/g,
  /\b[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}\b/g, // device user codes (base-20, ****-****)
];
const OIDC_PATH_RE = /\/oidc\/[^\s?#"'\\]+/g;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A path segment that is an id nobody chose: long, URL-safe, with digits or capitals. */
const randomLooking = (seg: string) => seg.length >= 16 && /^[A-Za-z0-9_.~-]+$/.test(seg) && /[0-9A-Z]/.test(seg) && !UUID_RE.test(seg);

/** `text` with every token-shaped part replaced by [redacted]. */
export function redactText(text: string): string {
  let out = text.replace(SECRET_PARAM_RE, `$1${REDACTED}`);
  for (const re of TOKEN_RES) out = out.replace(re, REDACTED);
  return out.replace(OIDC_PATH_RE, (p) =>
    p
      .split('/')
      .map((seg) => (randomLooking(seg) ? REDACTED : seg))
      .join('/'),
  );
}

const isErrorLike = (v: unknown): v is Error & Record<string, unknown> =>
  v instanceof Error || (!!v && typeof v === 'object' && typeof (v as Error).message === 'string' && typeof (v as Error).stack === 'string');

/** What of an error reaches a log: never its statement parameters, request objects or response bodies. */
export function safeError(err: Error & Record<string, unknown>, depth = 0): Record<string, unknown> {
  // Bundled drivers have minified class names (PGlite's is 'O'): fall back to the error's name.
  const ctor = err.constructor?.name;
  const type = ctor && ctor.length > 2 && ctor !== 'Object' ? ctor : isDatabaseError(err) ? 'DatabaseError' : String(err.name || 'Error');
  const out: Record<string, unknown> = { type };
  if (isDatabaseError(err)) Object.assign(out, databaseErrorFields(err));
  else {
    out.message = String(err.message);
    // Plain fields only (code, status, OAuth error...): objects on errors carry requests and bodies.
    for (const [k, v] of Object.entries(err)) {
      if (k in out || k === 'cause' || k === 'errors' || isSecretKey(k)) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
  }
  // The stack's first line repeats the original message: keep the frames only.
  const frames = typeof err.stack === 'string' ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  out.stack = [`${type}: ${String(out.message ?? '')}`, ...frames].join('\n');
  if (depth < 4 && isErrorLike(err.cause)) out.cause = safeError(err.cause, depth + 1);
  if (depth < 4 && Array.isArray(err.errors)) out.errors = err.errors.filter(isErrorLike).slice(0, 10).map((e) => safeError(e, depth + 1));
  return out;
}

/** A log record with secret keys blanked and errors made safe, at any depth. */
function clean(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (!value || typeof value !== 'object') return value;
  if (isErrorLike(value)) return safeError(value);
  if (seen.has(value) || depth > 8) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1, seen));
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v != null ? REDACTED : clean(v, depth + 1, seen);
  return out;
}

/**
 * Standard output for a long-running server: written by the event loop's I/O threads, lines
 * logged meanwhile going out together, so a request's log line does not hold the request up
 * with a write of its own. Flushed at exit (a SIGKILL can lose the last lines, never the audit log).
 */
export function serverLogDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'meetplane' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (obj) => clean(obj, 0, new WeakSet()) as Record<string, unknown>,
        bindings: (b) => clean(b, 0, new WeakSet()) as Record<string, unknown>,
      },
      // Errors are already safe copies (above): pino's own serializer would retype them.
      serializers: { err: (e: unknown) => e },
      hooks: {
        // `log.error(err)` and `log.warn({ err })` take their message from the error: take it from the safe copy.
        logMethod(args, method) {
          let [first, ...rest] = args as unknown[];
          if (isErrorLike(first)) first = { err: first };
          const err = first && typeof first === 'object' ? (first as { err?: unknown }).err : undefined;
          if (isErrorLike(err) && rest.length === 0) rest = [String(safeError(err).message)];
          return method.apply(this, [first, ...rest] as never);
        },
        // Last: the line as written, whatever put the token there.
        streamWrite: redactText,
      },
    },
    destination,
  );
}
