// The double must hold callers to the rules a real BBB server holds them to, or tests
// against it would pass code that fails in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksum, signQuery } from '../../server/bbb/checksum.js';
import { parseResponse, text } from '../../server/bbb/xml.js';
import { startBbbDouble, type BbbDouble } from '../support/bbb/server.js';

const SECRET = 'double-secret-9876543210';

let dir: string;
let bbb: BbbDouble;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bbb-double-'));
  bbb = await startBbbDouble({ secret: SECRET, recordingsDir: dir, algorithm: ['sha256', 'sha512'] });
});

afterAll(async () => {
  await bbb.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(name: string, query: string, init?: RequestInit): Promise<{ status: number; type: string | null; key?: string; body: string }> {
  const res = await fetch(`${bbb.url}/${name}?${query}`, { redirect: 'manual', ...init });
  const body = await res.text();
  const key = res.headers.get('content-type')?.startsWith('text/xml') ? text(parseResponse(body), 'messageKey') : undefined;
  return { status: res.status, type: res.headers.get('content-type'), body, ...(key === undefined ? {} : { key }) };
}

describe('BBB double rules', () => {
  it('answers in the BBB XML envelope', async () => {
    const res = await call('create', signQuery('create', { meetingID: 'rules-1', name: 'Rules' }, SECRET, 'sha256'));
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml;charset=UTF-8');
    expect(res.body).toMatch(/^<response><returncode>SUCCESS<\/returncode><meetingID>rules-1<\/meetingID>/);
  });

  it('rejects an altered, extended or shortened query string', async () => {
    const signed = signQuery('join', { meetingID: 'rules-1', fullName: 'Eve', role: 'VIEWER' }, SECRET, 'sha256');
    expect((await call('join', signed)).status).toBe(302);
    for (const altered of [
      signed.replace('role=VIEWER', 'role=MODERATOR'),
      `role=MODERATOR&${signed}`,
      signed.replace('&role=VIEWER', ''),
      signed.replace('fullName=Eve', 'fullName=Eve+'),
    ]) {
      expect(await call('join', altered)).toMatchObject({ status: 200, key: 'checksumError' });
    }
    expect(bbb.meetings.get('rules-1')?.attendees.map((a) => a.role)).toEqual(['VIEWER']);
  });

  it('rejects a checksum for another call, a missing checksum and unaccepted algorithms', async () => {
    const query = 'meetingID=rules-1';
    expect(await call('end', `${query}&checksum=${checksum('getMeetingInfo', query, SECRET, 'sha256')}`)).toMatchObject({ key: 'checksumError' });
    expect(await call('end', query)).toMatchObject({ key: 'checksumError' });
    expect(await call('end', signQuery('end', { meetingID: 'rules-1' }, SECRET, 'sha1'))).toMatchObject({ key: 'checksumError' });
    expect(await call('end', signQuery('end', { meetingID: 'rules-1' }, SECRET, 'sha384'))).toMatchObject({ key: 'checksumError' });
    expect(bbb.meetings.has('rules-1')).toBe(true);
  });

  it('verifies the raw query string, so %20 works as well as + when signed as sent', async () => {
    const query = 'meetingID=rules-2&name=Spaced%20Name';
    const res = await call('create', `${query}&checksum=${checksum('create', query, SECRET, 'sha512')}`);
    expect(res.body).toContain('<returncode>SUCCESS</returncode>');
    expect(bbb.meetings.get('rules-2')?.name).toBe('Spaced Name');
    const reencoded = `meetingID=rules-3&name=Spaced+Name&checksum=${checksum('create', 'meetingID=rules-3&name=Spaced%20Name', SECRET, 'sha512')}`;
    expect(await call('create', reencoded)).toMatchObject({ key: 'checksumError' });
  });

  it('takes a POST body only on create, and only as XML', async () => {
    const signed = signQuery('create', { meetingID: 'rules-4', name: 'Posted' }, SECRET, 'sha256');
    const form = await call('create', signed, { method: 'POST', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.key).toBe('unsupportedContentType');
    const broken = await call('create', signed, { method: 'POST', body: '<modules><module>', headers: { 'content-type': 'application/xml' } });
    expect(broken.key).toBe('invalidRequestBody');
    expect(bbb.meetings.has('rules-4')).toBe(false);
  });

  it('answers unsupportedRequest to calls it does not know', async () => {
    expect(await call('sendCoffee', signQuery('sendCoffee', {}, SECRET, 'sha256'))).toMatchObject({ key: 'unsupportedRequest' });
  });
});
