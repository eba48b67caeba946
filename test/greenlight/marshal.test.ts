// Byte strings from Ruby's "marshal format" document (doc/marshal.rdoc): the
// 4.8 header, w_long's one-byte and length-prefixed forms, Bignums past 31 bits,
// Strings tagged with the :E ivar, and the symbol table (';' links). The same
// bytes come out of Ruby 3.1's Marshal.dump.
import { describe, expect, it } from 'vitest';
import { marshalDump, marshalLoad, MarshalError, RubyHash, sym, type RubyValue } from '../../server/greenlight/marshal.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

const cases: Array<[string, RubyValue, string]> = [
  ['nil', null, '040830'],
  ['true', true, '040854'],
  ['false', false, '040846'],
  ['0', 0, '04086900'],
  ['1 (n+5)', 1, '04086906'],
  ['122, the largest one-byte positive', 122, '0408697f'],
  ['123, one length byte', 123, '040869017b'],
  ['255', 255, '04086901ff'],
  ['256, two bytes little-endian', 256, '040869020001'],
  ['-1 (n-5)', -1, '040869fa'],
  ['-123, the smallest one-byte negative', -123, '04086980'],
  ['-124, negative length byte', -124, '040869ff84'],
  ['-256', -256, '040869ff00'],
  ['-257, two bytes', -257, '040869fefffe'],
  ['2**30-1, the largest Fixnum written as i', 2 ** 30 - 1, '04086904ffffff3f'],
  ['2**30, a Bignum', 2 ** 30, '04086c2b0700000040'],
  ['-(2**31), a negative Bignum', -(2 ** 31), '04086c2d0700000080'],
  ['2**70 padded to 16-bit words', 2n ** 70n, '04086c2b0a00000000000000004000'],
  ['UTF-8 String with the E ivar', 'héllo', '040849220b68c3a96c6c6f063a064554'],
  ['Symbol', sym('role'), '04083a09726f6c65'],
  ['non-ASCII Symbol carries its encoding', sym('é'), '0408493a07c3a9063a064554'],
  ['binary String without ivar', Uint8Array.of(0xff), '04082206ff'],
  ['symbol links, E included, and no object links for equal Strings', [sym('a'), sym('a'), 'x', 'x'], '04085b093a06613b0049220678063a06455449220678063b0654'],
  [
    'nested Hash with Symbol keys, as Greenlight v2 sends',
    { role: { name: 'User', provider: 'greenlight' } },
    '04087b063a09726f6c657b073a096e616d6549220955736572063a0645543a0d70726f766964657249220f677265656e6c69676874063b0754',
  ],
];

describe('Ruby Marshal 4.8', () => {
  it.each(cases)('writes %s', (_name, value, expected) => {
    expect(hex(marshalDump(value))).toBe(expected);
  });

  it.each(cases)('reads %s', (_name, value, encoded) => {
    const back = marshalLoad(bytes(encoded));
    if (typeof value === 'bigint') expect(back).toBe(value);
    else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      // a plain object was written as a Hash with Symbol keys
      expect(back).toEqual(new RubyHash([[sym('role'), new RubyHash([[sym('name'), 'User'], [sym('provider'), 'greenlight']])]]));
    } else expect(back).toEqual(value);
  });

  it('resolves object links (@) to the object registered at that index', () => {
    // [s, s] with the same String object: Ruby writes the second as @ 1 (the Array is object 0)
    expect(marshalLoad(bytes('04085b0749220678063a0645544006'))).toEqual(['x', 'x']);
  });

  it('refuses what it does not read instead of guessing', () => {
    expect(() => marshalLoad(bytes('040930'))).toThrow(/not Ruby Marshal 4.8/);
    expect(() => marshalLoad(bytes('04086f3a0b4f626a65637400'))).toThrow(/unsupported marshal type 0x6f/); // an Object
    expect(() => marshalLoad(bytes('04086608312e35'))).toThrow(/unsupported/); // the Float 1.5
    expect(() => marshalLoad(bytes('04084922076161073a0645543a0740616906'))).toThrow(/instance variable @a/); // a String with @a besides E
    expect(() => marshalLoad(bytes('04083030'))).toThrow(/trailing/);
    expect(() => marshalLoad(bytes('0408220a6162'))).toThrow(/too short/);
    expect(() => marshalDump(1.5)).toThrow(/only integers/);
  });

  it('round-trips random values (property, seeded)', () => {
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const ints = [0, 1, -1, 122, 123, -123, -124, 255, 256, -256, -257, 65535, 65536, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 40, -(2 ** 52)];
    const text = () => Array.from({ length: rnd(12) }, () => ['a', 'Z', '0', ' ', 'é', '€', '😀', '\n', '"', '-'][rnd(10)]).join('');
    const gen = (depth: number): RubyValue => {
      switch (rnd(depth > 3 ? 6 : 9)) {
        case 0: return null;
        case 1: return rnd(2) === 0;
        case 2: return rnd(2) ? ints[rnd(ints.length)]! : rnd(2 ** 31) - 2 ** 30;
        case 3: return text();
        case 4: return sym(['role', 'user', 'name', 'é', 'E', 'x'][rnd(6)]!);
        case 5: return rnd(4) === 0 ? 2n ** BigInt(60 + rnd(40)) * (rnd(2) ? 1n : -1n) : text();
        case 6: return Array.from({ length: rnd(5) }, () => gen(depth + 1));
        default: return new RubyHash(Array.from({ length: rnd(5) }, () => [rnd(2) ? sym(text() || 'k') : text(), gen(depth + 1)] as [RubyValue, RubyValue]));
      }
    };
    for (let i = 0; i < 500; i++) {
      const v = gen(0);
      expect(marshalLoad(marshalDump(v))).toEqual(v);
    }
  });
});
