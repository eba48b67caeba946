// Erasure (POST /audit/forget/{accountId}) of an id no account has: a 404
// problem, and nothing written to the audit log; someone who may not erase
// gets the same refusal for an unknown id as for a real one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditCount, createCoop, memberWithToken } from '../support/fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

describe('erasing an unknown account', () => {
  it('answers 404 and writes no audit entry', async () => {
    const before = await auditCount(s);
    const res = await s.api('POST', `/api/v1/audit/forget/${randomUUID()}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json).toMatchObject({ status: 404 });
    expect(await auditCount(s)).toBe(before);
  });

  it('still erases a real account (204, on record)', async () => {
    const coop = await createCoop(s);
    const member = await memberWithToken(s, coop.id);
    const before = await auditCount(s);
    expect((await s.api('POST', `/api/v1/audit/forget/${member.accountId}`)).status).toBe(204);
    expect(await auditCount(s)).toBe(before + 1);
  });

  it('refuses one who may not erase alike for an unknown id and a real one', async () => {
    const coop = await createCoop(s);
    const member = await memberWithToken(s, coop.id);
    const other = await memberWithToken(s, coop.id);
    const real = await s.api('POST', `/api/v1/audit/forget/${other.accountId}`, { token: member.token });
    const unknown = await s.api('POST', `/api/v1/audit/forget/${randomUUID()}`, { token: member.token });
    expect(real.status).toBe(403);
    expect(unknown.status).toBe(real.status);
  });
});
