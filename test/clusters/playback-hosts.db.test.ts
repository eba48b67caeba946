// A cluster's playback hosts: the host names its recordings are played from,
// which a transfer rewrites in their metadata.xml. Set on create or update,
// shown, audited; empty means the API URL's host; anything but a host[:port]
// is a validation problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';

let s: TestServer;
let coop: string;

beforeAll(async () => {
  s = await startTestServer();
  coop = (await createCoop(s)).id;
});
afterAll(async () => {
  await s?.stop();
});

const body = (over: Record<string, unknown> = {}) => ({ coop, name: `bbb-${Math.random().toString(36).slice(2)}`, apiUrl: 'https://api.north.example/bigbluebutton/api', secret: 'cluster-secret-0123456789', country: 'DE', capacity: 10, ...over });

describe('playback hosts of a cluster', () => {
  it('are empty by default, set on create and update in lower case, and in the audit log', async () => {
    const plain = await s.api('POST', '/api/v1/clusters', { body: body() });
    expect(plain.status, plain.text).toBe(201);
    expect(plain.json.playbackHosts).toEqual([]);
    const created = await s.api('POST', '/api/v1/clusters', { body: body({ playbackHosts: ['Recordings.North.example', 'bbb1.north.example:8443'] }) });
    expect(created.status, created.text).toBe(201);
    expect(created.json.playbackHosts).toEqual(['recordings.north.example', 'bbb1.north.example:8443']);
    const patched = await s.api('PATCH', `/api/v1/clusters/${created.json.id}`, { body: { playbackHosts: ['play.north.example'] }, headers: { 'if-match': created.headers.get('etag')! } });
    expect(patched.status, patched.text).toBe(200);
    expect((await s.api('GET', `/api/v1/clusters/${created.json.id}`)).json.playbackHosts).toEqual(['play.north.example']);
    const [entry] = (await s.api('GET', `/api/v1/audit/entries?subjectType=cluster&subject=${created.json.id}&action=cluster.update`)).json.items;
    expect(entry.json.before.playbackHosts).toEqual(['recordings.north.example', 'bbb1.north.example:8443']);
    expect(entry.json.after.playbackHosts).toEqual(['play.north.example']);
  });

  it('refuses what is not a host name with an optional port', async () => {
    for (const bad of [['https://play.example'], ['play.example/path'], ['play.example:99999'], ['pl ay.example'], ['a.example', 'A.example'], [''], ['user@play.example']]) {
      const res = await s.api('POST', '/api/v1/clusters', { body: body({ playbackHosts: bad }) });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.json.errors[0].path).toMatch(/^playbackHosts/);
    }
  });
});
