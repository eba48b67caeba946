// A thin REST client: JSON in, JSON out, problems turned into one-line errors.
import { CliError } from './errors.js';
import type { Connection } from './settings.js';

export interface ApiResponse<T> {
  status: number;
  body: T;
  etag: string | undefined;
}

export class ApiClient {
  constructor(readonly conn: Connection) {}

  async request<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Record<string, string | undefined>; ifMatch?: string; text?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const url = new URL(this.conn.url + '/api/v1' + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: opts.text ? 'text/plain' : 'application/json' };
    if (this.conn.token) headers.authorization = `Bearer ${this.conn.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e) {
      throw new CliError(`cannot reach ${this.conn.url}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
    }
    const text = await res.text();
    const body = opts.text && res.ok ? text : text ? safeJson(text) : undefined;
    if (!res.ok) throw new CliError(problemLine(res.status, body));
    return { status: res.status, body: body as T, etag: res.headers.get('etag') ?? undefined };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function problemLine(status: number, body: unknown): string {
  if (body && typeof body === 'object' && 'title' in body) {
    const p = body as { title: string; detail?: string };
    return `${p.title} (${status})${p.detail ? `: ${p.detail}` : ''}`;
  }
  return `the server answered ${status}`;
}
