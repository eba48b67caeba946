// Request id, one log line per request, and the counters /metrics exposes.
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import type { Logger } from '../logger.js';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export class HttpMetrics {
  readonly #counts = new Map<string, number>();
  #durationSum = 0;
  #durationCount = 0;

  record(method: string, status: number, seconds: number): void {
    const key = `method="${method}",code="${status}"`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#durationSum += seconds;
    this.#durationCount += 1;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines = [
      '# HELP meetplane_http_requests_total HTTP requests answered, by method and status.',
      '# TYPE meetplane_http_requests_total counter',
      ...[...this.#counts].map(([k, v]) => `meetplane_http_requests_total{${k}} ${v}`),
      '# HELP meetplane_http_request_duration_seconds Time spent answering HTTP requests.',
      '# TYPE meetplane_http_request_duration_seconds summary',
      `meetplane_http_request_duration_seconds_sum ${this.#durationSum}`,
      `meetplane_http_request_duration_seconds_count ${this.#durationCount}`,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage().rss}`,
      '# HELP process_uptime_seconds Seconds since the process started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${process.uptime()}`,
    ];
    return lines.join('\n') + '\n';
  }
}

/** The status sent: oidc-provider answers on the Node response itself, behind Hono's placeholder. */
function answeredStatus(c: Context): number {
  const outgoing = (c.env as { outgoing?: { statusCode?: number } } | undefined)?.outgoing;
  return c.res.headers.get('x-hono-already-sent') && typeof outgoing?.statusCode === 'number' ? outgoing.statusCode : c.res.status;
}

export function observe(log: Logger, metrics: HttpMetrics): MiddlewareHandler<AppEnv> {
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
