// Operations endpoints and cross-cutting HTTP behaviour: health, readiness,
// metrics, the OpenAPI description, request ids and opaque 500s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCluster, createCoop, createTenancy } from '../support/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

describe('operations', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect((await s.api('GET', '/healthz', { token: null })).json).toEqual({ status: 'ok' });
    const ready = await s.api('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', database: 'ok' });
  });

  it('counts requests for Prometheus', async () => {
    await s.api('GET', '/api/v1/coops');
    const metrics = await s.api('GET', '/metrics', { token: null });
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/^meetplane_http_requests_total\{method="GET",code="200"\} \d+$/m);
    expect(metrics.text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('exports the process metrics and the state of the domain, read at each scrape', async () => {
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    // A gateway call nobody signed: refused, counted without the tenancy a stranger named.
    await fetch(`${s.url}/t/no-such-tenancy/bigbluebutton/api/getMeetings?checksum=00`);
    const text = (await s.api('GET', '/metrics', { token: null })).text;
    // GC durations appear once a collection was seen; the histogram is declared from the start.
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram\n');
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total'])
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'));
    expect(text).toMatch(/^meetplane_http_request_duration_seconds_bucket\{le="0.1",method="GET"\} \d+$/m);
    expect(text).toContain(`meetplane_cluster_up{cluster="${cluster.slug}",state="unknown"} 0\n`);
    expect(text).toMatch(/^meetplane_audit_entries [1-9]\d*$/m);
    expect(text).toMatch(/^meetplane_audit_unsigned_entries \d+$/m);
    expect(text).toMatch(/^meetplane_mail_outbox\{state="pending"\} \d+$/m);
    expect(text).toMatch(/^meetplane_jobs_due \d+$/m);
    expect(text).toMatch(/^meetplane_jobs_lease_expired 0$/m);
    expect(text).toMatch(/^meetplane_gateway_calls_total\{tenancy="-",call="-",outcome="refused"\} [1-9]\d*$/m);
    expect(text).not.toContain('no-such-tenancy');
    // A transfer shows up under its state.
    const t = await createTenancy(s, coop.id, cluster.id);
    const other = await createCoop(s);
    const target = await createCluster(s, other.id);
    const created = await s.api('POST', '/api/v1/transfers', { body: { tenancy: t.id, targetCoop: other.id, targetCluster: target.id } });
    expect(created.status, created.text).toBe(201);
    expect((await s.api('GET', '/metrics', { token: null })).text).toMatch(/^meetplane_transfers\{state="draft"\} [1-9]\d*$/m);
  });

  it('describes every route in OpenAPI 3.1, with the bearer scheme', async () => {
    const res = await s.api('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    expect(res.json.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const paths = Object.keys(res.json.paths);
    for (const p of ['/coops', '/coops/{id}', '/clusters', '/clusters/{id}', '/tenancies', '/tenancies/{id}', '/tenancies/{id}/rotate-secret', '/tenancies/{id}/members', '/accounts', '/tokens', '/audit/checkpoint', '/audit/proof/inclusion'])
      expect(paths).toContain(p);
    expect(JSON.stringify(res.json.components.schemas.ClusterCreate)).toContain('writeOnly');
  });

  it('echoes a sane X-Request-Id, replaces an unsafe one, and logs it', async () => {
    const mine = await s.api('GET', '/healthz', { token: null, headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('abc-123');
    expect(s.logs()).toContain('"requestId":"abc-123"');
    const unsafe = await s.api('GET', '/healthz', { token: null, headers: { 'x-request-id': 'a b\tc' + 'x'.repeat(100) } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports not ready, and answers an opaque 500 without a stack, when the database is gone', async () => {
    const other = await startTestServer();
    const token = other.adminToken;
    await other.database.close();
    const ready = await other.api('GET', '/readyz', { token: null });
    expect(ready.status).toBe(503);
    const res = await other.api('GET', '/api/v1/coops', { token });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json.detail).toMatch(/quote request id [0-9a-f-]{36}/);
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(other.logs()).toContain('unhandled error');
    await other.stop().catch(() => {});
  });
});
