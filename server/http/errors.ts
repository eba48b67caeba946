// The one place errors become responses: problems as they are, Hono's own
// HTTP errors (e.g. malformed JSON) as problems, values the database refused as
// 4xx problems, anything else as an opaque 500 whose details go to the log
// only, never to the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { AppEnv } from './env.js';
import { ProblemError } from './problem.js';
import { FOREIGN_KEY_VIOLATION, pgErrorCode } from '../db/errors.js';
import { explainRules } from '../../policies/explanations.js';

export function problemJson(c: Context, problem: ProblemError): Response {
  const body = problem.body(c.req.path);
  // A refusal that names rules says what each means and what to do about it (the words beside the rule in its policy file).
  if (Array.isArray(body.policyIds) && body.rules === undefined) {
    const rules = explainRules(body.policyIds.filter((i): i is string => typeof i === 'string'));
    if (rules.length) body.rules = rules.map(({ id, explain, remedy }) => ({ id, explain, remedy }));
  }
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { 'Content-Type': 'application/problem+json', ...problem.headers, 'X-Request-Id': c.get('requestId') ?? '' },
  });
}

// SQLSTATEs that mean "the request carried a value the database cannot take":
// bad encoding (22021, 22P05), text that is no number/uuid/date (22P02, 22007),
// values out of range or too long (22001, 22003, 22008), too large for an index
// or too deep (54000, 54001). Validation should refuse these first; this is the
// last line, so a forgotten check answers 400, not 500.
const REFUSED_VALUE = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05', '54000', '54001']);

/** The 4xx problem for a database error the request caused, or undefined for a real failure. */
export function databaseProblem(err: unknown): ProblemError | undefined {
  const code = pgErrorCode(err);
  if (code === undefined) return undefined;
  if (REFUSED_VALUE.has(code)) return new ProblemError(400, 'bad-request', 'Bad request', 'A value in the request cannot be stored (wrong encoding, format or size)');
  if (code === FOREIGN_KEY_VIOLATION)
    return new ProblemError(409, 'conflict', 'Conflict', 'The change refers to something that does not exist, or something still refers to what it would remove');
  return undefined;
}

export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ProblemError) return problemJson(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    const detail = err.message || 'The request could not be read';
    return problemJson(c, new ProblemError(err.status, 'bad-request', 'Bad request', detail));
  }
  const refused = databaseProblem(err);
  if (refused) {
    // The SQLSTATE only: the error itself carries the statement and its parameters.
    (c.get('log') ?? console).warn({ sqlstate: pgErrorCode(err), method: c.req.method, route: routePath(c, -1) }, 'database refused a value the request carried');
    return problemJson(c, refused);
  }
  (c.get('log') ?? console).error({ err }, 'unhandled error');
  return problemJson(
    c,
    new ProblemError(500, 'internal', 'Internal server error', `Something went wrong on our side; quote request id ${c.get('requestId') ?? '-'} to the operator`),
  );
}

export function notFound(c: Context<AppEnv>): Response {
  return problemJson(c, new ProblemError(404, 'not-found', 'Not found', `No route for ${c.req.method} ${c.req.path}`));
}
