// The Greenlight double answers as Greenlight's migration controller does,
// quirks included: these are the facts the import is built around.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptAndSign } from '../../server/greenlight/envelope.js';
import type { RubyValue } from '../../server/greenlight/marshal.js';
import { startGreenlight, type GreenlightDouble } from '../support/greenlight.js';

const SKB = '0123456789abcdef0123456789abcdef' + 'e'.repeat(96);
let gl: GreenlightDouble;
beforeAll(async () => {
  gl = await startGreenlight({ secretKeyBase: SKB });
});
afterAll(() => gl.close());

async function post(path: string, params: RubyValue, accept = 'application/json'): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gl.url}/api/v1/migrations/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ v2: { encrypted_params: encryptAndSign(params, SKB) } }),
  });
  return { status: res.status, body: await res.text() };
}

describe('the Greenlight v3 migration API double', () => {
  it('migrates nothing without a JSON request: it serves its web page', async () => {
    const role = { role: { name: 'Quiet', provider: 'greenlight', role_permissions: {} } };
    expect((await post('roles', role, 'text/html')).body).toMatch(/<!DOCTYPE html>/); // format html
    expect((await post('roles.json', role, 'text/html')).body).toMatch(/<!DOCTYPE html>/); // format json, but Accept does not name JSON
    expect(gl.roles.some((r) => r.name === 'Quiet')).toBe(false);
    expect(await post('roles.json', role)).toEqual({ status: 201, body: '{"data":{}}' });
  });

  it('stores a boolean as "t" (a string column), drops unknown keys, and 500s after saving when a key is missing', async () => {
    expect((await post('roles.json', { role: { name: 'Bools', provider: 'greenlight', role_permissions: { CanRecord: true, Unknown: 'x', ManageRooms: ['no'] } } })).status).toBe(201);
    const bools = gl.roles.find((r) => r.name === 'Bools')!;
    expect(bools.permissions.get('CanRecord')).toBe('t');
    expect(bools.permissions.has('Unknown')).toBe(false);
    expect(bools.permissions.get('ManageRooms')).toBe('false');

    expect((await post('roles.json', { role: { name: 'Half', provider: 'greenlight' } })).status).toBe(500);
    expect(gl.roles.some((r) => r.name === 'Half')).toBe(true);
  });

  it('never updates a user, answers 400 to a re-sent mixed-case e-mail, and shares by exact e-mail', async () => {
    const user = (email: string, name = 'Mia') => ({ user: { name, email, provider: 'greenlight', role: 'User', password_digest: 'digest' } });
    expect((await post('users.json', user('Mia@Example.org'))).status).toBe(201);
    expect((await post('users.json', user('Mia@Example.org', 'Renamed'))).body).toBe('{"errors":["Email has already been taken"]}');
    expect((await post('users.json', user('lo@example.org'))).status).toBe(201);
    expect((await post('users.json', user('lo@example.org', 'Renamed'))).status).toBe(201);
    expect(gl.users.map((u) => u.name)).toEqual(['Mia', 'Mia']);

    const room = (shared: string[]) => ({ room: { name: 'R', friendly_id: 'fid-1', meeting_id: 'm1', owner_email: 'lo@example.org', provider: 'greenlight', room_settings: {}, shared_users_emails: shared } });
    expect((await post('rooms.json', room(['mia@example.org']))).status).toBe(201); // no such e-mail: skipped silently
    expect(gl.roomByFriendlyId('fid-1')!.shared_user_ids).toEqual([]);
    expect((await post('rooms.json', room(['Mia@Example.org']))).status).toBe(201);
    expect((await post('rooms.json', room(['Mia@Example.org']))).body).toBe('{"errors":"Something went wrong when sharing the room."}');
    expect(gl.roomByFriendlyId('fid-1')!.shared_user_ids).toHaveLength(1);
    expect((await post('rooms.json', { room: { ...room([]).room, friendly_id: 'fid-2' } })).body).toBe('{"errors":["Meeting has already been taken"]}');
  });
});
