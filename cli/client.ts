// A thin REST client: JSON in, JSON out, problems turned into one-line errors.
// Without a token from --token, MEETPLANE_TOKEN or the config file, it uses the
// session `meetplane login` stored: the refresh token is traded for a short
// access token and the rotated refresh token is written back (0600).
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import * as oidc from 'openid-client';
import { CliError } from './errors.js';
import { configPath, readSettingsFile, writeSettingsFile, type Connection } from './settings.js';

export const CLI_CLIENT_ID = 'meetplane-cli';

/** The server's sign-on, as the command-line client (public, device flow). */
export async function discoverSignOn(url: string): Promise<oidc.Configuration> {
  const issuer = new URL(url + '/oidc');
  try {
    return await oidc.discovery(issuer, CLI_CLIENT_ID, undefined, oidc.None(), issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {});
  } catch (e) {
    throw new CliError(`cannot reach the sign-on at ${issuer.href}: ${(e as Error).message}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding a lock file beside the config: two commands run at once
 * must not both spend the same refresh token (reuse revokes the whole login).
 */
async function withConfigLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = file + '.lock';
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a killed command is stale after 30 s.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) unlinkSync(lock);
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new CliError(`another meetplane command holds ${lock}; remove it if none is running`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      /* already gone */
    }
  }
}

// One refresh per server and process, however many clients a command makes.
const sessions = new Map<string, Promise<string | undefined>>();

/** An access token from the stored login for `url`, or undefined when there is none for that server. */
export function sessionAccessToken(url: string, file = configPath()): Promise<string | undefined> {
  const key = `${file}\n${url}`;
  let pending = sessions.get(key);
  // No stored login for this server: nothing to lock, nothing to refresh.
  const stored = readSettingsFile(file);
  if (!pending && (typeof stored.refreshToken !== 'string' || (stored.url ?? '').replace(/\/+$/, '') !== url)) return Promise.resolve(undefined);
  if (!pending) {
    pending = withConfigLock(file, async () => {
      const stored = readSettingsFile(file);
      // A refresh token goes only to the server that issued it.
      if (typeof stored.refreshToken !== 'string' || (stored.url ?? '').replace(/\/+$/, '') !== url) return undefined;
      const config = await discoverSignOn(url);
      let tokens;
      try {
        tokens = await oidc.refreshTokenGrant(config, stored.refreshToken);
      } catch {
        throw new CliError('your login expired or was revoked: run `meetplane login` again');
      }
      // Rotation: the old refresh token is spent; keep the new one.
      writeSettingsFile({ ...readSettingsFile(file), refreshToken: tokens.refresh_token ?? stored.refreshToken }, file);
      return tokens.access_token;
    });
    pending.catch(() => sessions.delete(key));
    sessions.set(key, pending);
  }
  return pending;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  etag: string | undefined;
}

export class ApiClient {
  constructor(readonly conn: Connection) {}

  /** The bearer: the given token, else one from the stored login, else none. */
  bearer(): Promise<string | undefined> {
    return this.conn.token ? Promise.resolve(this.conn.token) : sessionAccessToken(this.conn.url);
  }

  async request<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Record<string, string | undefined>; ifMatch?: string; text?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const url = new URL(this.conn.url + '/api/v1' + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: opts.text ? 'text/plain' : 'application/json' };
    const token = await this.bearer();
    if (token) headers.authorization = `Bearer ${token}`;
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
    if (res.status === 401 && !token) throw new CliError('not logged in: run `meetplane login`, or pass --token / set MEETPLANE_TOKEN');
    if (!res.ok) throw new CliError(problemLine(res.status, body), 1, res.status);
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
    const p = body as { title: string; detail?: string; rules?: RuleWords[] };
    return `${p.title} (${status})${p.detail ? `: ${p.detail}` : ''}${Array.isArray(p.rules) ? ruleLines(p.rules) : ''}`;
  }
  return `the server answered ${status}`;
}

/** A rule that refused, in words: what it says and what to do about it (from the policy file, through the server). */
export interface RuleWords {
  id: string;
  explain: string;
  remedy: string;
}

/** The rules under a refusal, one indented pair of lines each (empty when there are none). */
export function ruleLines(rules: readonly RuleWords[]): string {
  return rules.map((r) => `\n  ${r.id}: ${r.explain}\n    what to do: ${r.remedy}`).join('');
}
