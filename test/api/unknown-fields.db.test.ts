// Every write route refuses fields it does not know, generated from the
// server's own OpenAPI document: a misspelt or smuggled field (`"platformAdmin":
// true` on an account, `"state"` on a transfer) is an error the caller sees,
// never silently dropped or, worse, applied. Each JSON body the document
// declares is sent with one unknown field, at the top and inside each nested
// object, and the 400 problem must name that field.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let s: TestServer;
let doc: Json;

beforeAll(async () => {
  s = await startTestServer({ WORKER: 'off' });
  doc = (await s.api('GET', '/api/v1/openapi.json', { token: null })).json;
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

const UNKNOWN = 'unexpectedField';
const deref = (schema: Json): Json => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
const isObject = (schema: Json) => {
  const t = deref(schema)?.type;
  return t === 'object' || (Array.isArray(t) && t.includes('object'));
};

/** Every write operation with a JSON body: method, path and body schema. */
function writeRoutes(): Array<{ method: string; path: string; schema: Json }> {
  return Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method, op]) => ['post', 'put', 'patch'].includes(method) && op.requestBody?.content?.['application/json'])
      .map(([method, op]) => ({ method: method.toUpperCase(), path, schema: deref(op.requestBody.content['application/json'].schema) })),
  );
}

/**
 * The bodies to send: the unknown field alone at the top, and for each nested
 * object field (however deep, through arrays and each alternative of a union) a
 * body holding that object with the unknown field in it. Each with the path
 * zod reports.
 */
function probes(schema: Json): Array<{ at: string; body: unknown }> {
  const out: Array<{ at: string; body: unknown }> = [];
  const walk = (s: Json, wrap: (inner: unknown) => unknown, at: string[], tag?: string) => {
    s = deref(s);
    if (!s) return;
    const alts: Json[] = [...(s.oneOf ?? []), ...(s.anyOf ?? [])].map(deref);
    // The field every alternative has as an enum is the one that picks it (zod's discriminated unions).
    const picker = s.discriminator?.propertyName ?? Object.keys(alts[0]?.properties ?? {}).find((k) => alts.every((a) => Array.isArray(deref(a.properties?.[k])?.enum)));
    for (const alt of [...alts, ...(s.allOf ?? [])]) walk(alt, wrap, at, picker);
    if (s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array'))) walk(s.items, (inner) => wrap([inner]), [...at, '0']);
    if (!isObject(s)) return;
    out.push({ at: at.join('.'), body: wrap({ ...discriminators(s, tag), [UNKNOWN]: true }) });
    for (const [name, prop] of Object.entries(s.properties ?? {})) walk(prop, (inner) => wrap({ [name]: inner }), [...at, name]);
  };
  walk(schema, (inner) => inner, []);
  return out;
}

/** The field of an alternative that says which one it is (kind: 'eea'), so a union picks it. */
function discriminators(schema: Json, tag: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {}) as Array<[string, Json]>) {
    const p = deref(prop);
    if (p?.const !== undefined) out[name] = p.const;
    else if (Array.isArray(p?.enum) && (p.enum.length === 1 || name === tag)) out[name] = p.enum[0];
  }
  return out;
}

/** A path with every parameter filled in with a well-formed id that names nothing. */
const fill = (path: string) => path.replace(/\{[^}]+\}/g, () => randomUUID());

describe('unknown fields in request bodies', () => {
  it('finds the write routes in the document', () => {
    const routes = writeRoutes().map((r) => `${r.method} ${r.path}`);
    expect(routes.length).toBeGreaterThan(20);
    for (const r of ['POST /coops', 'PATCH /coops/{id}', 'POST /transfers', 'POST /accounts', 'PATCH /tenancies/{id}', 'POST /grants'])
      expect(routes).toContain(r);
  });

  it('are refused at every level of every write route, naming the field', async () => {
    const accepted: string[] = [];
    let sent = 0;
    for (const { method, path, schema } of writeRoutes()) {
      for (const probe of probes(schema)) {
        const res = await s.api(method, `/api/v1${fill(path)}`, { body: probe.body });
        sent++;
        const errors: Array<{ path: string; message: string }> = res.json?.errors ?? [];
        const named = errors.some((e) => e.message.includes(UNKNOWN) && e.path === probe.at);
        if (res.status !== 400 || !res.headers.get('content-type')?.startsWith('application/problem+json') || !named)
          accepted.push(`${method} ${path} ${JSON.stringify(probe.body)} -> ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
    expect(sent).toBeGreaterThan(25);
    expect(accepted.join('\n')).toBe('');
  });

  it('declares every request body object closed (additionalProperties: false) in the document', () => {
    const open: string[] = [];
    const check = (s: Json, where: string, seen: Set<Json>) => {
      s = deref(s);
      if (!s || seen.has(s)) return;
      seen.add(s);
      for (const alt of [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])]) check(alt, where, seen);
      if (s.items) check(s.items, `${where}[]`, seen);
      if (!isObject(s)) return;
      if (s.additionalProperties !== false) open.push(where);
      for (const [name, prop] of Object.entries(s.properties ?? {})) check(prop, `${where}.${name}`, seen);
    };
    for (const { method, path, schema } of writeRoutes()) check(schema, `${method} ${path}`, new Set());
    expect(open).toEqual([]);
  });
});
