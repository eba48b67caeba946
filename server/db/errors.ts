// Both drivers surface PostgreSQL's SQLSTATE as `code`, sometimes wrapped by
// drizzle in `cause`: find it wherever it is.
export function pgErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

/** Runs `run`, turning a unique violation into the given error (usually a 409 problem). */
export async function mapUniqueViolation<T>(run: () => Promise<T>, toError: () => Error): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (pgErrorCode(e) === UNIQUE_VIOLATION) throw toError();
    throw e;
  }
}

/** The name of the constraint an error broke (PGlite: `constraint`, postgres.js: `constraint_name`), wherever it is wrapped. */
export function pgConstraint(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { constraint, constraint_name } = e as { constraint?: unknown; constraint_name?: unknown };
    const name = constraint ?? constraint_name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

// What a database error may show in a log. Both drivers put the statement's
// parameters on their errors (postgres.js: `parameters`, `args`; PGlite:
// `params`; drizzle's wrapper: `params` and its message), and PostgreSQL
// itself repeats values in `detail` ("Key (email)=(...)", "Failing row
// contains (...)"), `where` ("portal parameter $1 = '...'") and quoted in the
// message ('invalid input syntax for type uuid: "..."'). Kept: the SQLSTATE,
// the names of the constraint, table and column, and the statement text with
// its $n placeholders; values never.
const DRIZZLE_MESSAGE = /^Failed query: ([\s\S]*?)\nparams: [\s\S]*$/;

/** True for an error raised by a driver or drizzle on behalf of PostgreSQL. */
export function isDatabaseError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const err = e as Record<string, unknown>;
  if (typeof err.message === 'string' && DRIZZLE_MESSAGE.test(err.message)) return true;
  return typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && typeof err.severity === 'string';
}

/** The loggable fields of a database error (not its cause: the caller walks the chain). */
export function databaseErrorFields(e: object): Record<string, string> {
  const err = e as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const wrapped = typeof err.message === 'string' ? DRIZZLE_MESSAGE.exec(err.message) : null;
  if (wrapped) return { message: `Failed query: ${wrapped[1]}` };
  const names = {
    schema: str(err.schema) ?? str(err.schema_name),
    table: str(err.table) ?? str(err.table_name),
    column: str(err.column) ?? str(err.column_name),
    constraint: str(err.constraint) ?? str(err.constraint_name),
  };
  const known = new Set(Object.values(names).filter((v): v is string => !!v));
  // Quoted parts of PostgreSQL's message are values or names: names we know stay.
  const message = String(err.message ?? '').replace(/"([^"]*)"/g, (whole, inner: string) => (known.has(inner) ? whole : '"…"'));
  const out: Record<string, string> = { message, code: String(err.code) };
  for (const [k, v] of Object.entries({ severity: str(err.severity), ...names, routine: str(err.routine) })) if (v) out[k] = v;
  return out;
}
