// Request id, one log line per request, and the request counters /metrics exposes.
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import type { Logger } from '../logger.js';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Where the request counters go (server/metrics/registry.ts). */
export interface RequestMetrics {
  record(method: string, status: number, seconds: number): void;
}

/** The status sent: oidc-provider answers on the Node response itself, behind Hono's placeholder. */
function answeredStatus(c: Context): number {
  const outgoing = (c.env as { outgoing?: { statusCode?: number } } | undefined)?.outgoing;
  return c.res.headers.get('x-hono-already-sent') && typeof outgoing?.statusCode === 'number' ? outgoing.statusCode : c.res.status;
}

export function observe(log: Logger, metrics: RequestMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const offered = c.req.header('x-request-id');
    const requestId = offered && REQUEST_ID_RE.test(offered) ? offered : randomUUID();
    const reqLog = log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', reqLog);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const status = answeredStatus(c);
    metrics.record(c.req.method, status, seconds);
    // The path only (query strings carry codes, states, checksums); the logger
    // redacts token-shaped segments in it (an invitation link, an interaction id).
    reqLog.info({ method: c.req.method, path: c.req.path, status, ms: Math.round(seconds * 1000) }, 'request');
  };
}
