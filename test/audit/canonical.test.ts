import { describe, it, expect } from 'vitest';
import { CanonicalJsonError, canonicalBytes, canonicalJson } from '../../server/audit/canonical.js';

/** A double from its IEEE 754 bit pattern, as RFC 8785 Appendix B lists them. */
function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('RFC 8785 canonical JSON', () => {
  it('serialises the RFC §3.2.4 example (escapes, numbers, literals) to the expected UTF-8', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const want = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalJson(JSON.parse(input))).toBe(want);
    expect(Buffer.from(canonicalBytes(JSON.parse(input))).toString('hex').slice(0, 36)).toBe(
      '7b226c6974657261' + '6c73223a5b6e756c' + '6c2c', // {"literals":[null,
    );
    expect(canonicalBytes({ s: '€' })).toEqual(new Uint8Array([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0xac, 0x22, 0x7d]));
  });

  it('sorts keys by UTF-16 code units (RFC §3.2.3 example), recursively', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // Values in the order the RFC lists (not Object.keys, which puts "1" first).
    const values = [...canonicalJson(JSON.parse(input)).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson({ b: [{ z: 1, a: 2 }], a: { y: null, x: true } })).toBe('{"a":{"x":true,"y":null},"b":[{"a":2,"z":1}]}');
  });

  it('escapes only what JSON requires: controls as \\u00xx or short forms, not DEL or non-ASCII', () => {
    expect(canonicalJson('\u0000\u0008\t\n\f\r\u001f\u007f\u0080"\\/é😀')).toBe(
      String.raw`"\u0000\b\t\n\f\r\u001f` + '\u007f\u0080' + String.raw`\"\\/é😀"`,
    );
  });

  // RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('formats the double %s as %s', (bits, want) => {
    expect(canonicalJson(fromBits(bits))).toBe(want);
  });
});

describe('values with no exact JSON form are rejected', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it.each([
    ['undefined', undefined, '$ is undefined'],
    ['an undefined property', { a: { b: undefined } }, '$.a.b is undefined'],
    ['an undefined array element', [1, undefined], '$[1] is undefined'],
    ['a sparse array', [1, , 3], '$[1] is undefined'], // a hole, which JSON.stringify would turn into null
    ['NaN', { n: Number.NaN }, '$.n is NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0] is Infinity'],
    ['a function', { f: () => 1 }, '$.f is function'],
    ['a bigint', { n: 1n }, '$.n is bigint'],
    ['a symbol', { s: Symbol('x') }, '$.s is symbol'],
    ['a Date', { at: new Date(0) }, '$.at is a Date'],
    ['a Map', new Map(), '$ is a Map'],
    ['a circular reference', circular, '$.self is a circular reference'],
    ['a lone surrogate', { s: '\ud800' }, 'Lone surrogate'],
  ])('rejects %s', (_name, value, message) => {
    expect(() => canonicalBytes(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalBytes(value)).toThrow(message);
  });

  it('names an object that inherits from a prototype-less object, and says why a lone surrogate has no form', () => {
    const orphan = Object.create(Object.create(null) as object) as object;
    expect(() => canonicalJson({ x: orphan })).toThrow(new CanonicalJsonError('$.x is a object without prototype; convert it to plain JSON first'));
    expect(() => canonicalJson(['\udc00'])).toThrow(/^value has no canonical JSON form: .*Lone surrogate/);
    // The name is what a stack trace in the server's log starts with.
    expect(String(new CanonicalJsonError('x'))).toBe('CanonicalJsonError: x');
  });

  it('accepts shared (non-circular) references and null-prototype objects', () => {
    const shared = { x: 1 };
    const bare = Object.assign(Object.create(null) as object, { b: 2, a: 1 });
    expect(canonicalJson({ p: shared, q: shared, bare })).toBe('{"bare":{"a":1,"b":2},"p":{"x":1},"q":{"x":1}}');
  });
});
