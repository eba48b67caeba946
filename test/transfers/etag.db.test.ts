// A transfer is a resource like every other: it answers its ETag, and every
// action on it (check, approve, object, cancel, retry, resolve, recording how
// a member was told) needs If-Match: 428 without it, 412 with a stale one,
// so nobody approves or cancels a transfer that changed since they looked.
// The CLI reads the transfer first and sends its ETag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

async function draft() {
  const source = await createCoop(s, { jurisdiction: 'FR', legalRegime: 'eu_gdpr' });
  const target = await createCoop(s, { jurisdiction: 'DE', legalRegime: 'eu_gdpr' });
  const tenancy = await createTenancy(s, source.id, (await createCluster(s, source.id)).id);
  const res = await s.api('POST', '/api/v1/transfers', { body: { tenancy: tenancy.id, targetCoop: target.id, targetCluster: (await createCluster(s, target.id)).id } });
  expect(res.status, res.text).toBe(201);
  return Object.assign(res, { sourceCoop: source.id });
}

describe('transfers and ETags', () => {
  it('answers an ETag when created and shown, and moves it on with the transfer', async () => {
    const created = await draft();
    const id = created.json.id as string;
    expect(created.headers.get('etag')).toBe(`"${id}.1"`);
    const shown = await s.api('GET', `/api/v1/transfers/${id}`);
    expect(shown.headers.get('etag')).toBe(`"${id}.1"`);

    // Acting on a transfer without saying which version one saw, or on an older one: refused, nothing changes.
    const missing = await s.api('POST', `/api/v1/transfers/${id}/check`);
    expect(missing.status).toBe(428);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.json.type).toMatch(/precondition-required$/);
    const stale = await s.api('POST', `/api/v1/transfers/${id}/check`, { headers: { 'if-match': `"${id}.0"` } });
    expect(stale.status).toBe(412);
    expect(stale.json.type).toMatch(/precondition-failed$/);
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).json).toMatchObject({ state: 'draft', version: 1 });

    const checked = await s.api('POST', `/api/v1/transfers/${id}/check`, { headers: { 'if-match': `"${id}.1"` } });
    expect(checked.status, checked.text).toBe(200);
    expect(checked.headers.get('etag')).toBe(`"${id}.2"`);
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag')).toBe(`"${id}.2"`);
    // What one saw before the check is stale now.
    const again = await s.api('POST', `/api/v1/transfers/${id}/cancel`, { headers: { 'if-match': `"${id}.1"` } });
    expect(again.status).toBe(412);

    const other = (await draft()).json.id as string;
    const cancelled = await s.api('POST', `/api/v1/transfers/${other}/cancel`, { headers: { 'if-match': `"${other}.1"` } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.state).toBe('cancelled');
    expect(cancelled.headers.get('etag')).toBe(`"${other}.2"`);
  });

  it('declares If-Match on every action and refuses each without it', async () => {
    const d = await draft();
    const id = d.json.id as string;
    // Approving is decided for the role first: the source co-op's admin may, and still needs If-Match.
    const approver = await coopAdminWithToken(s, d.sourceCoop);
    const doc = (await s.api('GET', '/api/v1/openapi.json', { token: null })).json as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };
    const actions = Object.entries(doc.paths).filter(([p, ops]) => p.startsWith('/transfers/{id}/') && ops.post);
    expect(actions.map(([p]) => p)).toEqual(expect.arrayContaining(['/transfers/{id}/check', '/transfers/{id}/approve', '/transfers/{id}/object', '/transfers/{id}/cancel', '/transfers/{id}/notices/{accountId}/told']));
    const bodies: Record<string, unknown> = { approve: { as: 'source_admin' }, told: { how: 'phone' }, resolve: { direction: 'roll-back', reason: 'test' } };
    for (const [p, ops] of actions) {
      expect(ops.post!.parameters?.some((x) => x.in === 'header' && x.name === 'if-match'), p).toBe(true);
      const url = '/api/v1' + p.replace('{id}', id).replace('{accountId}', id);
      const res = await s.api('POST', url, { body: bodies[p.split('/').pop()!], ...(p.endsWith('/approve') ? { token: approver.token } : {}) });
      expect(res.status, `${p}: ${res.text}`).toBe(428);
    }
    expect((await s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag')).toBe(`"${id}.1"`);
  });

  it('is what the CLI sends: it reads the transfer, then acts with its ETag', async () => {
    const [id, other] = [(await draft()).json.id as string, (await draft()).json.id as string];
    const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken };
    const check = await runCli(['--json', 'transfers', 'check', id], env);
    // Refused by the rules (exit 3: no agreement, a target never seen online), but checked with the ETag it read.
    expect(check.code, check.stderr).toBe(3);
    expect(JSON.parse(check.stdout)).toMatchObject({ id, version: 2 });
    const cancel = await runCli(['--json', 'transfers', 'cancel', other], env);
    expect(cancel.stderr).toBe('');
    expect(JSON.parse(cancel.stdout)).toMatchObject({ id: other, state: 'cancelled' });
  }, 60_000);
});
