// npm run bench:authz — authorisation decisions per second on one core: the
// evaluator as the server runs it (schema and policies pre-parsed once,
// statefulIsAuthorized) next to re-parsing both on every call (isAuthorized),
// measured in the same run over the same mix of requests (every role, reads
// and changes, allowed and denied). Prints figures; asserts nothing.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { Evaluator, type PrincipalFacts, type ResourceRef } from '../policies/evaluator.js';
import { requestData } from '../policies/entities.js';
import { fmt } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

const TA1 = { id: 'TA1', coopId: 'A', clusterId: 'A1' };
const resources: Array<[string, ResourceRef]> = [
  ['coop.read', { type: 'Coop', id: 'A' }],
  ['coop.update', { type: 'Coop', id: 'B' }],
  ['cluster.drain', { type: 'Cluster', id: 'A1', coopId: 'A' }],
  ['cluster.readSecret', { type: 'Cluster', id: 'A2', coopId: 'A' }],
  ['tenancy.read', { type: 'Tenancy', ...TA1 }],
  ['tenancy.update', { type: 'Tenancy', id: 'TB1', coopId: 'B', clusterId: 'B1' }],
  ['membership.set', { type: 'Tenancy', ...TA1 }],
  ['transfer.approve', { type: 'Transfer', id: 'tr', tenancy: TA1, targetCoopId: 'B' }],
  ['grant.revoke', { type: 'Grant', id: 'g', scope: { type: 'Cluster', id: 'A1', coopId: 'A' }, holderId: 'x', delegatorIds: ['h'] }],
  ['audit.read', { type: 'Platform' }],
];
const principals: PrincipalFacts[] = [
  { accountId: 'pa', coopId: null, grants: [{ id: 'g1', role: 'platform_admin', scope: { type: 'global' }, delegable: true }] },
  { accountId: 'ca', coopId: 'A', grants: [{ id: 'g2', role: 'coop_admin', scope: { type: 'coop', id: 'A' }, delegable: true }] },
  { accountId: 'ok', coopId: 'B', grants: [{ id: 'g3', role: 'cluster_operator', scope: { type: 'cluster', id: 'A1' }, delegable: false }] },
  { accountId: 'to', coopId: 'A', grants: [{ id: 'g4', role: 'tenancy_owner', scope: { type: 'tenancy', id: 'TA1' }, delegable: true }], memberOf: ['TA1'] },
  { accountId: 'no', coopId: 'A', grants: [] },
];
const mix = principals.flatMap((p) => resources.map(([action, r]) => ({ p, action, r })));

function measure(label: string, decide: (i: number) => string): number {
  for (let i = 0; i < 500; i++) decide(i); // warm up
  let n = 0;
  let allowed = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++, n++) if (decide(n) === 'allow') allowed++;
  }
  const rate = n / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(44)} ${fmt(rate).padStart(8)} decisions/s  (${fmt((allowed / n) * 100)}% allowed)`);
  return rate;
}

const t0 = performance.now();
const evaluator = Evaluator.load();
const loadMs = performance.now() - t0;
const t1 = performance.now();
evaluator.authorize(principals[0]!, 'coop.read', { type: 'Coop', id: 'A' }, { grantsVerified: true });
const firstMs = performance.now() - t1;
console.log(`policy set ${evaluator.policySetHash.slice(0, 16)}…  ${evaluator.list().length} policies, ${evaluator.actions.size} actions`);
console.log(`load + strict validation + pre-parse: ${fmt(loadMs)} ms; first decision: ${fmt(firstMs, 1)} ms\n`);

const ctx = { grantsVerified: true };
const pre = measure('pre-parsed (Evaluator.authorize)', (i) => {
  const m = mix[i % mix.length]!;
  return evaluator.authorize(m.p, m.action, m.r, ctx).decision;
});
const { schema, policies } = evaluator.source;
const reparsed = measure('re-parsed per call (isAuthorized)', (i) => {
  const m = mix[i % mix.length]!;
  const data = requestData(m.p, m.r);
  const a = cedar.isAuthorized({
    principal: data.principal,
    action: { type: 'Action', id: m.action },
    resource: data.resource,
    context: ctx,
    schema,
    validateRequest: true,
    policies: { staticPolicies: policies },
    entities: data.entities,
  });
  return a.type === 'success' && a.response.diagnostics.errors.length === 0 ? a.response.decision : 'deny';
});
console.log(`\npre-parsed / re-parsed: ${fmt(pre / reparsed, 2)}×`);

// REST: an authorised read (GET /api/v1/coops/{id}): token check, the caller's
// grants (with their delegation chains) and memberships read from the database,
// one Cedar decision; 50 connections. (JWT against PAT: see bench:oidc.)
{
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { randomBytes } = await import('node:crypto');
  const { cli, load, scratchPostgres, serve } = await import('./support.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-bench-authz-'));
  const pg = await scratchPostgres();
  const env: Record<string, string> = { MASTER_KEY: randomBytes(32).toString('base64'), DATA_DIR: dir, WORKER: 'off', ...(pg ? { DATABASE_URL: pg.url } : {}) };
  try {
    const admin = (await cli(['admin', 'bootstrap', '--email', 'root@bench.example', '--name', 'Root'], env)).trim().split('\n').pop()!;
    const server = await serve(env);
    try {
      const api = async (method: string, p: string, token: string, body?: unknown) => {
        const res = await fetch(server.url + '/api/v1' + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
        if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
        return res.json() as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      const coop = await api('POST', '/coops', admin, { slug: 'bench', name: 'Bench', jurisdiction: 'DE', contactEmail: 'b@bench.example', legalRegime: 'eu_gdpr' });
      // The platform admin's own token: its grant is read and decided on like any other.
      const token = (await api('POST', '/tokens', admin, { name: 'bench' })).token as string;
      const asAdmin = await load({ url: `${server.url}/api/v1/coops/${coop.id}`, headers: { authorization: `Bearer ${token}` }, connections: 50, seconds: SECONDS + 2 });
      const health = await load({ url: `${server.url}/healthz`, connections: 50, seconds: SECONDS + 2 });
      console.log(
        `\nREST ${pg ? 'postgres' : 'pglite'}: GET /api/v1/coops/{id} (token + grants from the database + Cedar), 50 connections: ` +
          `${fmt(asAdmin.rps)} req/s, p50 ${asAdmin.p50} ms, p99 ${asAdmin.p99} ms  | /healthz ${fmt(health.rps)} req/s`,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
