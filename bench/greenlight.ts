// Greenlight import figures: objects moved per second (roles, users, rooms with
// shares, settings) into the Greenlight v3 double of the tests, through the
// Outbound door, each message Marshal-encoded and aes-256-gcm encrypted, each
// room checked on its public page before and after. Baseline in the same run:
// the same number of plain JSON POSTs through the Outbound door to a bare
// node:http server, so the ratio is the import's own cost per object.
// Usage: node dist/bench/greenlight.js [--quick]   (full: 1,000 users and 5,000 rooms)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importToGreenlight, memoryLedger, type ImportPlan } from '../server/greenlight/import.js';
import { Outbound } from '../server/net/outbound.js';
import { startGreenlight } from '../test/support/greenlight.js';
import { figure, QUICK } from './support.js';

const BENCH = 'greenlight';
const SKB = 'b3nchb3nchb3nchb3nchb3nchb3nch00' + '7'.repeat(96);
const USERS = QUICK ? 200 : 1000;
const ROOMS = QUICK ? 1000 : 5000;
const DIGEST = '$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';

function plan(): ImportPlan {
  const email = (i: number) => `member${i}@coop.example`;
  return {
    roles: [{ name: 'Organiser', permissions: { CreateRoom: true, CanRecord: true } }],
    users: Array.from({ length: USERS }, (_, i) => ({
      ref: `acct-${i}`, name: `Member ${i}`, email: email(i), role: i % 10 ? 'User' : 'Organiser',
      login: i % 2 ? ({ kind: 'local', passwordDigest: DIGEST } as const) : ({ kind: 'oidc', sub: `sub-${i}` } as const),
    })),
    rooms: Array.from({ length: ROOMS }, (_, i) => ({
      name: `Room ${i}`, friendlyId: `r${i.toString(36)}-abc-def`, meetingId: `m${i}-`.padEnd(40, '0'), ownerEmail: email(i % USERS),
      settings: { record: i % 2 === 0, guestPolicy: 'ASK_MODERATOR' }, sharedWithEmails: [email((i + 1) % USERS), email((i + 7) % USERS)],
    })),
    settings: { siteSettings: { ShareRooms: true }, roomsConfigurations: { record: 'default_enabled' } },
    objectorEmails: [],
  };
}

const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
const objects = 1 + USERS + ROOMS + 1;

// The import into the double.
const gl = await startGreenlight({ secretKeyBase: SKB });
let t = process.hrtime.bigint();
const report = await importToGreenlight({ baseUrl: gl.url, secretKeyBase: SKB, provider: 'greenlight' }, plan(), { fetch: outbound.fetch, ledger: memoryLedger() });
const importSeconds = Number(process.hrtime.bigint() - t) / 1e9;
if (report.stopped || report.results.some((r) => r.outcome === 'failed' || r.outcome === 'refused')) throw new Error(`the import did not complete: ${report.stopped ?? JSON.stringify(report.results.find((r) => r.outcome === 'failed' || r.outcome === 'refused'))}`);
const requests = gl.requests.length;
await gl.close();

// Baseline: as many plain POSTs of a similar body through the same door to a bare server.
const bare = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"data":{}}'));
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/v1/migrations/rooms.json`;
const body = JSON.stringify({ v2: { encrypted_params: 'x'.repeat(600) } });
t = process.hrtime.bigint();
for (let i = 0; i < requests; i++) {
  const res = await outbound.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  await res.text();
}
const baselineSeconds = Number(process.hrtime.bigint() - t) / 1e9;
bare.close();
await outbound.close();

// Per object: the baseline gets the same number of HTTP exchanges as the import made.
figure(BENCH, `import ${USERS} users ${ROOMS} rooms`, 'double', objects / importSeconds, 'objects/s', objects / baselineSeconds);
figure(BENCH, 'http exchanges per object', 'double', requests / objects, 'requests', 1);
