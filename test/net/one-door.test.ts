// The rule behind the outbound policy, checked on the source: no server module
// makes an HTTP request except through server/net/outbound.ts (an Outbound's
// fetch, handed in). A new module that calls the global fetch, or opens its own
// HTTP client, fails here before it can reach loopback or a metadata address.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/import-graph.js';

const DOOR = path.join('server', 'net');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return rel === DOOR ? [] : sources(rel);
    return /\.tsx?$/.test(e.name) ? [rel] : [];
  });
}

/** The code without comments and string contents (good enough for these patterns). */
const code = (file: string) =>
  readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

// The global fetch called or used as a default: `fetch(`, `globalThis.fetch`, `?? fetch`; not `outbound.fetch(` or `this.#fetch(`.
const GLOBAL_FETCH = /(?:^|[^.#\w$])fetch\s*\(|globalThis\.fetch|\bfetch:\s*fetch\b|(?:\?\?|\|\|)\s*fetch\b/m;
// An HTTP client of its own (type-only imports of node:http are the server side: fine).
const OWN_CLIENT = /^\s*import\s+(?!type\b)[^;]*from\s+'(?:node:)?(?:http|https|http2|undici)'/m;

describe('one door out', () => {
  const files = [...sources('server'), ...sources('federation')];

  it('finds the server sources', () => {
    expect(files).toContain(path.join('server', 'gateway', 'gateway.ts'));
    expect(files.length).toBeGreaterThan(50);
  });

  it('no server module calls the global fetch', () => {
    expect(files.filter((f) => GLOBAL_FETCH.test(code(f)))).toEqual([]);
  });

  it('no server module opens an HTTP client of its own', () => {
    expect(files.filter((f) => OWN_CLIENT.test(code(f)))).toEqual([]);
  });

  it('the patterns catch what they are for', () => {
    expect(GLOBAL_FETCH.test('const r = await fetch(url);')).toBe(true);
    expect(GLOBAL_FETCH.test('x = globalThis.fetch;')).toBe(true);
    expect(GLOBAL_FETCH.test('new BbbClient({ apiUrl, fetch: fetch })')).toBe(true);
    expect(GLOBAL_FETCH.test('this.#fetch = options.fetch ?? fetch;')).toBe(true);
    expect(GLOBAL_FETCH.test('await deps.outbound.fetch(url)')).toBe(false);
    expect(GLOBAL_FETCH.test('await this.#fetch(url)')).toBe(false);
    expect(GLOBAL_FETCH.test('refetch(x)')).toBe(false);
    expect(OWN_CLIENT.test("import { request } from 'node:https';")).toBe(true);
    expect(OWN_CLIENT.test("import { Agent } from 'undici';")).toBe(true);
    expect(OWN_CLIENT.test("import type { IncomingMessage } from 'node:http';")).toBe(false);
  });
});
