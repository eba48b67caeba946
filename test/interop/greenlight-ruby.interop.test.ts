// What meetplane sends a Greenlight, read by real Ruby: Debian's ruby and
// ruby-activesupport (6.1; its MessageEncryptor reads the same "dual
// serialized" envelope as Rails 7.2's), decrypting as Greenlight's
// ExternalController#decrypted_params does. And the other way: what Ruby's
// encrypt_and_sign(params, expires_in: 10.seconds) makes (Greenlight v2's
// migration task), read by meetplane's decoder. .ci/run installs the packages.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decryptAndVerify, encryptAndSign } from '../../server/greenlight/envelope.js';
import { RubyHash, sym } from '../../server/greenlight/marshal.js';

const SKB = '9f8e7d6c5b4a39281706f5e4d3c2b1a0' + '1'.repeat(96);

/** Runs Ruby with ActiveSupport and Greenlight's encryptor on `crypt`; answers stdout. */
function ruby(script: string, ...args: string[]): string {
  const prelude = `require "active_support"; require "active_support/message_encryptor"; require "active_support/core_ext/numeric/time"
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
