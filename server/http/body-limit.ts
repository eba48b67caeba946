// Request bodies are limited before anything reads them: a Content-Length over
// the limit is refused at once, a chunked body once it passes the limit, so a
// 10 MB JSON document is never parsed. Wraps hono/body-limit with our answers.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problemJson } from './errors.js';
import { ProblemError } from './problem.js';

/** JSON bodies of the REST API and the forms of the web pages. */
export const REQUEST_BODY_LIMIT = 1024 * 1024;

/** Refuses bodies over `maxBytes` with `answer` (by default a 413 problem). */
export function limitBody(maxBytes: number, answer?: (c: Context) => Response): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      const res =
        answer?.(c) ??
        problemJson(c, new ProblemError(413, 'too-large', 'Request body too large', `Request bodies are limited to ${maxBytes} bytes (${formatSize(maxBytes)})`, { limit: maxBytes }));
      // The rest of the body is still on its way: this connection is not reused
      // (a client sending its next request on it would race the server's cleanup).
      res.headers.set('Connection', 'close');
      return res;
    },
  });
  // A GET or HEAD has no body for Hono (the node adapter gives it none): asking would
  // build the full web Request of every gateway call and REST read for nothing.
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next));
}

function formatSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
