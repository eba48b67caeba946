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
