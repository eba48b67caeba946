// MessageEncryptor (aes-256-gcm, Marshal) with the metadata envelope Greenlight
// v2's migration task sends, read back the way Rails 7.2's decrypt_and_verify does.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptAndVerify, encryptAndSign, InvalidMessage, migrationKey } from '../../server/greenlight/envelope.js';
import { marshalDump, RubyHash, sym } from '../../server/greenlight/marshal.js';

const SKB = '5f2b7c1e9a0d4b3c8e6f1a2b3c4d5e6f' + 'b'.repeat(96); // rails secret: 128 hex characters
const OTHER = 'ffffffffffffffffffffffffffffffff' + 'b'.repeat(96); // same tail, other first 32 characters
const params = { user: { name: 'Ada', email: 'ada@example.org', provider: 'greenlight' } };
const at = new Date('2026-11-30T12:00:00.000Z');
const later = (s: number) => new Date(at.getTime() + s * 1000);

/** What the message holds before encryption (to check the envelope itself). */
function openEnvelope(message: string, skb: string): string {
  const [data, iv, tag] = message.split('--').map((p) => Buffer.from(p, 'base64'));
  const d = createDecipheriv('aes-256-gcm', migrationKey(skb), iv!);
  d.setAuthTag(tag!);
  return Buffer.concat([d.update(data!), d.final()]).toString('utf8');
}

describe('the migration message', () => {
  it('has three strict base64 parts: data, a 12-byte IV and a 16-byte tag', () => {
    const m = encryptAndSign(params, SKB, { now: at });
    const parts = m.split('--');
    expect(parts).toHaveLength(3);
    expect(Buffer.from(parts[1]!, 'base64')).toHaveLength(12);
    expect(Buffer.from(parts[2]!, 'base64')).toHaveLength(16);
    expect(encryptAndSign(params, SKB, { now: at })).not.toBe(m); // a fresh IV each time
  });

  it('wraps Marshal data in the JSON envelope with a 10-second expiry and no purpose', () => {
    const inner = openEnvelope(encryptAndSign(params, SKB, { now: at }), SKB);
    expect(inner).toBe(`{"_rails":{"message":"${Buffer.from(marshalDump(params)).toString('base64')}","exp":"2026-11-30T12:00:10.000Z","pur":null}}`);
  });

  it('is read back as the same Hash, Symbol keys kept, before it expires', () => {
    const back = decryptAndVerify(encryptAndSign(params, SKB, { now: at }), SKB, { now: later(9.999) });
    expect(back).toEqual(new RubyHash([[sym('user'), new RubyHash([[sym('name'), 'Ada'], [sym('email'), 'ada@example.org'], [sym('provider'), 'greenlight']])]]));
  });

  it('is nil from the moment it expires (Rails ignores expired content)', () => {
    const m = encryptAndSign(params, SKB, { now: at });
    expect(decryptAndVerify(m, SKB, { now: later(10) })).toBeNull();
    expect(decryptAndVerify(m, SKB, { now: later(3600) })).toBeNull();
  });

  it('cannot be read with another key, nor after tampering', () => {
    const m = encryptAndSign(params, SKB, { now: at });
    expect(() => decryptAndVerify(m, OTHER, { now: at })).toThrow(InvalidMessage);
    const flipped = (m[0] === 'A' ? 'B' : 'A') + m.slice(1);
    expect(() => decryptAndVerify(flipped, SKB, { now: at })).toThrow(InvalidMessage);
    expect(() => decryptAndVerify(m.replace(/--/, '-'), SKB, { now: at })).toThrow(InvalidMessage);
    expect(() => decryptAndVerify('not a message', SKB, { now: at })).toThrow(InvalidMessage);
  });

  it('uses only the first 32 characters of SECRET_KEY_BASE', () => {
    const m = encryptAndSign(params, SKB, { now: at });
    expect(decryptAndVerify(m, SKB.slice(0, 32) + 'anything else', { now: at })).not.toBeNull();
    expect(() => migrationKey('short')).toThrow(/at least 32/);
    expect(() => migrationKey('é'.repeat(40))).toThrow(/ASCII/);
  });

  it('also reads the Rails 7.1+ envelope (Marshal of {"_rails"=>{"data"=>...,"exp"=>...}})', () => {
    const seal = (value: Parameters<typeof marshalDump>[0]) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', migrationKey(SKB), iv);
      const data = Buffer.concat([c.update(marshalDump(value)), c.final()]);
      return [data, iv, c.getAuthTag()].map((p) => p.toString('base64')).join('--');
    };
    const envelope = (exp: string, pur: string | null = null) =>
      new RubyHash([['_rails', new RubyHash([['data', 'hello'], ['exp', exp], ...(pur ? ([['pur', pur]] as Array<[string, string]>) : [])])]]);
    expect(decryptAndVerify(seal(envelope('2026-11-30T12:00:10.000Z')), SKB, { now: at })).toBe('hello');
    expect(decryptAndVerify(seal(envelope('2026-11-30T12:00:10.000Z')), SKB, { now: later(10) })).toBeNull();
    expect(decryptAndVerify(seal(envelope('2026-11-30T12:00:10.000Z', 'login')), SKB, { now: at })).toBeNull(); // a purpose nobody asked for
  });
});
