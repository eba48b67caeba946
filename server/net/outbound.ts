// The one door out: every HTTP request the server makes (cluster API calls,
// health polls, inventories, recording-ready callbacks, upstream identity
// providers) goes through an Outbound's fetch. It allows http(s) URLs without
// credentials only, and connects only to addresses addresses.ts allows: a
// literal IP is checked before connecting; a name is resolved at connect time
// by the agent's own lookup, every address checked, and the socket opened to
// one of those checked addresses, so a name that re-resolves elsewhere (DNS
// rebinding) cannot slip past. Redirects are followed by hand, each hop checked.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type BlockList } from 'node:net';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { checkAddress, cidrList, type AddressVerdict } from './addresses.js';

/** Resolves a host name to every address it has (like dns.lookup with all: true). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundOptions {
  /** OUTBOUND_ALLOW: CIDRs of special ranges (loopback, private, ...) that may be reached. */
  allow?: readonly string[];
  /** Name resolution; the system resolver unless given (tests inject one). */
  resolve?: Resolver;
  /** Redirects followed for redirect: 'follow' (the default of fetch). */
  maxRedirects?: number;
}

/** A request the policy refuses; the message names the host and why, never the URL's path, query or credentials. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

const systemResolve: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function refusal(target: string, verdict: Exclude<AddressVerdict, { allowed: true }>): OutboundRefused {
  const hint = verdict.listable ? '; list it in OUTBOUND_ALLOW to allow it' : '';
  return new OutboundRefused(`outbound request to ${target} refused: ${verdict.kind} address${hint}`);
}

/**
 * What is wrong with a URL regardless of where its host resolves: not http(s),
 * or credentials in it. Undefined when it is fine. Used to validate stored URLs.
 */
export function urlShapeProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are allowed (got ${url.protocol})`;
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not allowed';
  return undefined;
}

export interface OutboundRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** the longest wait for the answer's headers, and for each part of its body */
  timeoutMs?: number;
}

/** An answer of Outbound.request: header names in lower case, the body read whole. */
export interface OutboundAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class Outbound {
  readonly #allow: BlockList;
  readonly #resolve: Resolver;
  readonly #maxRedirects: number;
  readonly #agent: Agent;

  constructor(options: OutboundOptions = {}) {
    this.#allow = cidrList(options.allow ?? []);
    this.#resolve = options.resolve ?? systemResolve;
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#agent = new Agent({ connect: { lookup: this.#lookup } });
  }

  /**
   * Checks what can be checked without resolving: scheme, credentials, and the
   * host when it is an IP address (URL parsing has already turned 2130706433
   * or 0x7f.1 into 127.0.0.1). Throws OutboundRefused; answers the parsed URL.
   */
  checkUrl(input: string | URL): URL {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new OutboundRefused('outbound request refused: not a valid URL');
    }
    const shape = urlShapeProblem(url);
    if (shape) throw new OutboundRefused(`outbound request to ${url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol} refused: ${shape}`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const verdict = checkAddress(host, this.#allow);
      if (!verdict.allowed) throw refusal(host, verdict);
    }
    return url;
  }

  /** Resolves the URL's host and checks every address, as a request would. */
  async checkTarget(input: string | URL): Promise<void> {
    const url = this.checkUrl(input);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!isIP(host)) await this.#resolveChecked(host);
  }

  /** fetch with the policy applied on every hop. Refusals reject with OutboundRefused. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('Outbound.fetch takes a URL, not a Request');
    let url = this.checkUrl(input);
    const mode = init.redirect ?? 'follow';
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);
    for (let hop = 0; ; hop++) {
      const res = await this.#send(url, { ...init, method, body, headers, redirect: 'manual' });
      const location = res.headers.get('location');
      if (mode === 'manual' || !REDIRECTS.has(res.status) || location === null) return res;
      await res.body?.cancel();
      if (mode === 'error') throw new TypeError(`redirected by ${url.host}, and redirects are not allowed for this request`);
      if (hop >= this.#maxRedirects) throw new TypeError(`more than ${this.#maxRedirects} redirects from ${url.host}`);
      const next = this.checkUrl(new URL(location, url));
      // As fetch does: 303 (and 301/302 after a POST) continue as a GET without body.
      if ((res.status === 303 && method !== 'GET' && method !== 'HEAD') || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = null;
        for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
      }
      if (next.origin !== url.origin) for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name);
      url = next;
    }
  };

  /**
   * One request under the same policy, its answer read whole; a redirect is returned as it
   * came (never followed). Through undici's dispatcher API rather than fetch: the gateway
   * makes one of these per BBB call, and fetch's Request, Headers, streams and abort signal
   * cost it more CPU than the rest of the call (a profile under load). `timeoutMs` bounds
   * the wait for the headers and each wait for more of the body.
   */
  async request(input: string | URL, init: OutboundRequestInit = {}): Promise<OutboundAnswer> {
    const url = this.checkUrl(input);
    try {
      const res = await this.#agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: (init.method ?? 'GET') as 'GET',
        headers: init.headers,
        body: init.body,
        headersTimeout: init.timeoutMs,
        bodyTimeout: init.timeoutMs,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      return { status: res.statusCode, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
    } catch (err) {
      // A refusal at connect time may come wrapped, as with fetch.
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof OutboundRefused) throw cause;
      throw err;
    }
  }

  /** Ends the agent's idle connections (at shutdown). */
  close(): Promise<void> {
    return this.#agent.close();
  }

  async #send(url: URL, init: RequestInit): Promise<Response> {
    try {
      // undici's Response is the standard one (the global fetch is undici too).
      const headers = [...new Headers(init.headers)];
      return (await undiciFetch(url, { ...(init as UndiciRequestInit), headers, dispatcher: this.#agent })) as unknown as Response;
    } catch (err) {
      // A refusal at connect time comes wrapped in fetch's generic TypeError.
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof OutboundRefused) throw cause;
      throw err;
    }
  }

  async #resolveChecked(hostname: string): Promise<LookupAddress[]> {
    const addresses = await this.#resolve(hostname);
    if (addresses.length === 0) throw new OutboundRefused(`outbound request to ${hostname} refused: the name has no address`);
    for (const a of addresses) {
      const verdict = checkAddress(a.address, this.#allow);
      if (!verdict.allowed) throw refusal(`${hostname} (${a.address})`, verdict);
    }
    return addresses;
  }

  // net.connect's lookup: called for host names only (an IP literal connects directly; checkUrl checked it).
  readonly #lookup = (
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.#resolveChecked(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
        const usable = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '');
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}

const byConfig = new WeakMap<object, Outbound>();

/** The instance's outbound policy, one per configuration (so one connection pool per process). */
export function outboundFor(config: { outboundAllow: readonly string[] }): Outbound {
  let outbound = byConfig.get(config);
  if (!outbound) {
    outbound = new Outbound({ allow: config.outboundAllow });
    byConfig.set(config, outbound);
  }
  return outbound;
}
