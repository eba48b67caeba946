// The one place errors become responses: problems as they are, Hono's own
// HTTP errors (e.g. malformed JSON) as problems, anything else as an opaque 500
// whose details go to the log only, never to the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './env.js';
import { ProblemError } from './problem.js';

export function problemJson(c: Context, problem: ProblemError): Response {
  const body = problem.body(c.req.path);
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { 'Content-Type': 'application/problem+json', ...problem.headers, 'X-Request-Id': c.get('requestId') ?? '' },
  });
}

export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ProblemError) return problemJson(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    const detail = err.message || 'The request could not be read';
    return problemJson(c, new ProblemError(err.status, 'bad-request', 'Bad request', detail));
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
