// What meetplane sends a Greenlight, read by real Ruby: Debian's ruby and
// ruby-activesupport (6.1; its MessageEncryptor reads the same "dual
// serialized" envelope as Rails 7.2's), decrypting as Greenlight's
// ExternalController#decrypted_params does. And the other way: what Ruby's
// encrypt_and_sign(params, expires_in: 10.seconds) makes (Greenlight v2's
// migration task), read by meetplane's decoder. .ci/run installs the packages.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decryptAndVerify, encryptAndSign } from '../../server/greenlight/envelope.js';
import { importToGreenlight, memoryLedger } from '../../server/greenlight/import.js';
import { RubyHash, sym } from '../../server/greenlight/marshal.js';
import { Outbound } from '../../server/net/outbound.js';
import { startGreenlight } from '../support/greenlight.js';

const SKB = '9f8e7d6c5b4a39281706f5e4d3c2b1a0' + '1'.repeat(96);

/** Runs Ruby with ActiveSupport (and ActionPack's strong parameters) and Greenlight's encryptor on `crypt`; answers stdout. */
function ruby(script: string, ...args: string[]): string {
  const prelude = `require "active_support"; require "active_support/message_encryptor"; require "active_support/core_ext/numeric/time"; require "action_controller"
crypt = ActiveSupport::MessageEncryptor.new(ENV.fetch("SKB")[0..31], cipher: "aes-256-gcm", serializer: Marshal)
`;
  const r = spawnSync('ruby', ['-e', prelude + script, ...args], { env: { ...process.env, SKB }, encoding: 'utf8' });
  if (r.error) throw new Error(`ruby could not run (install Debian's ruby and ruby-activesupport): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ruby failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe('Greenlight migration messages and real Ruby', () => {
  it('Ruby reads the exact Hash meetplane sends, UTF-8 text, integers and empty collections included', () => {
    const params = {
      room: {
        name: 'Chœur – répétitions', friendly_id: 'abc-def-ghi-jkl', meeting_id: 'f'.repeat(40), owner_email: 'Ada@coop.example', provider: 'greenlight',
        room_settings: { record: 'true', glViewerAccessCode: 'x7k2q1' }, shared_users_emails: ['bob@coop.example'], big: 2 ** 40, none: null, empty: {},
      },
    };
    const out = ruby('v = crypt.decrypt_and_verify(ARGV[0]); puts v.inspect; puts v[:room][:name].encoding', encryptAndSign(params, SKB));
    expect(out).toBe(
      '{:room=>{:name=>"Chœur – répétitions", :friendly_id=>"abc-def-ghi-jkl", :meeting_id=>"' + 'f'.repeat(40) +
        '", :owner_email=>"Ada@coop.example", :provider=>"greenlight", :room_settings=>{:record=>"true", :glViewerAccessCode=>"x7k2q1"}, :shared_users_emails=>["bob@coop.example"], :big=>1099511627776, :none=>nil, :empty=>{}}}\nUTF-8',
    );
  });

  it('Ruby answers nil for a message past its 10 seconds, and refuses another key', () => {
    expect(ruby('p crypt.decrypt_and_verify(ARGV[0])', encryptAndSign({ a: 1 }, SKB, { now: new Date(Date.now() - 11_000) }))).toBe('nil');
    expect(ruby('p crypt.decrypt_and_verify(ARGV[0])', encryptAndSign({ a: 1 }, SKB, { now: new Date(Date.now() - 5_000) }))).toBe('{:a=>1}');
    const other = encryptAndSign({ a: 1 }, 'a'.repeat(128));
    expect(ruby('begin; crypt.decrypt_and_verify(ARGV[0]); rescue ActiveSupport::MessageEncryptor::InvalidMessage; puts "InvalidMessage"; end', other)).toBe('InvalidMessage');
  });

  it("meetplane reads what Greenlight v2's task makes with Ruby", () => {
    const message = ruby('print crypt.encrypt_and_sign({ user: { name: "Zoë", email: "z@x.example", provider: "greenlight", n: -300 } }, expires_in: 10.seconds)');
    expect(decryptAndVerify(message, SKB)).toEqual(
      new RubyHash([[sym('user'), new RubyHash([[sym('name'), 'Zoë'], [sym('email'), 'z@x.example'], [sym('provider'), 'greenlight'], [sym('n'), -300]])]]),
    );
    expect(decryptAndVerify(message, SKB, { now: new Date(Date.now() + 10_001) })).toBeNull();
  });
});

// ExternalController's role_params, user_params, room_params and settings_params, verbatim.
const PERMITTED = `
require "json"
ActionController::Parameters.action_on_unpermitted_parameters = false
PERMIT = {
  "roles" => ->(p) { p.require(:role).permit(:name, :provider, role_permissions: %w[CreateRoom CanRecord ManageUsers ManageRoles ManageRooms ManageRecordings ManageSiteSettings]) },
  "users" => ->(p) { p.require(:user).permit(:name, :email, :password_digest, :provider, :external_id, :language, :role, :created_at) },
  "rooms" => ->(p) { p.require(:room).permit(:name, :friendly_id, :meeting_id, :last_session, :owner_email, :provider, shared_users_emails: [], room_settings: %w[record muteOnStart guestPolicy glAnyoneCanStart glAnyoneJoinAsModerator glViewerAccessCode glModeratorAccessCode], presentation: %w[blob filename]) },
  "settings" => ->(p) { p.require(:settings).permit(:provider, site_settings: %w[PrimaryColor PrimaryColorLight Terms PrivacyPolicy RegistrationMethod ShareRooms PreloadPresentation], rooms_configurations: %w[record muteOnStart guestPolicy glAnyoneCanStart glAnyoneJoinAsModerator glRequireAuthentication]) },
}
ARGV.each_slice(2) { |kind, m| puts JSON.generate([kind, PERMIT.fetch(kind).(ActionController::Parameters.new(crypt.decrypt_and_verify(m) || {})).to_h]) }
`;

describe("what the import sends, through Greenlight's strong parameters in Ruby", () => {
  it('gives exactly the hashes the controller works with: every key kept, booleans as strings, the always-needed keys present', async () => {
    const gl = await startGreenlight({ secretKeyBase: SKB });
    const sent: string[] = [];
    const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
    const recording = async (url: string | URL, init?: RequestInit) => {
      const kind = /migrations\/(\w+)\.json$/.exec(String(url))?.[1];
      if (kind && typeof init?.body === 'string') sent.push(kind, (JSON.parse(init.body) as { v2: { encrypted_params: string } }).v2.encrypted_params);
      return outbound.fetch(url, init);
    };
    try {
      await importToGreenlight({ baseUrl: gl.url, secretKeyBase: SKB, provider: 'greenlight' }, {
        roles: [{ name: 'Organiser', permissions: { CreateRoom: true, ManageUsers: false } }],
        users: [
          { ref: 'a', name: 'Ada', email: 'ada@coop.example', role: 'Organiser', createdAt: '2024-01-02T03:04:05Z', login: { kind: 'local', passwordDigest: '$2a$12$abcdefghijklmnopqrstuv' } },
          { ref: 'b', name: 'Bob', email: 'bob@coop.example', role: 'User', language: 'de', login: { kind: 'oidc', sub: 'sub-b' } },
        ],
        rooms: [
          { name: 'Board', friendlyId: 'abc-def-ghi-jkl', meetingId: 'f'.repeat(40), ownerEmail: 'ada@coop.example', settings: { record: true, guestPolicy: 'ASK_MODERATOR' }, sharedWithEmails: ['bob@coop.example'] },
          { name: 'Bare', friendlyId: 'bar-bar-bar-bar', meetingId: 'e'.repeat(40), ownerEmail: 'bob@coop.example', settings: {}, sharedWithEmails: [] },
        ],
        settings: { siteSettings: { ShareRooms: false }, roomsConfigurations: {} },
        objectorEmails: [],
      }, { fetch: recording, ledger: memoryLedger() });
    } finally {
      await gl.close();
      await outbound.close();
    }
    expect(ruby(PERMITTED, ...sent).split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      ['roles', { name: 'Organiser', provider: 'greenlight', role_permissions: { CreateRoom: 'true', ManageUsers: 'false' } }],
      ['users', { name: 'Ada', email: 'ada@coop.example', provider: 'greenlight', role: 'Organiser', language: 'default', created_at: '2024-01-02T03:04:05Z', password_digest: '$2a$12$abcdefghijklmnopqrstuv' }],
      ['users', { name: 'Bob', email: 'bob@coop.example', provider: 'greenlight', role: 'User', language: 'de', external_id: 'sub-b' }],
      ['rooms', { name: 'Board', friendly_id: 'abc-def-ghi-jkl', meeting_id: 'f'.repeat(40), owner_email: 'ada@coop.example', provider: 'greenlight', room_settings: { record: 'true', guestPolicy: 'ASK_MODERATOR' }, shared_users_emails: ['bob@coop.example'] }],
      ['rooms', { name: 'Bare', friendly_id: 'bar-bar-bar-bar', meeting_id: 'e'.repeat(40), owner_email: 'bob@coop.example', provider: 'greenlight', room_settings: {}, shared_users_emails: [] }],
      ['settings', { provider: 'greenlight', site_settings: { ShareRooms: 'false' }, rooms_configurations: {} }],
    ]);
  });
});
