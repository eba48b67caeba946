// Ruby Marshal 4.8 for the values Greenlight's migration API carries: nil,
// true/false, Integer, String (UTF-8, tagged with the :E ivar as Ruby does),
// Symbol, Array and Hash. Greenlight decrypts its migration payloads with
// `serializer: Marshal`, so this is the only encoding it reads. Format: the
// "marshal format" document of Ruby (doc/marshal.rdoc); no other type is
// written, and the decoder refuses the rest (objects, floats, user classes),
// so a hostile payload cannot ask for anything but plain data.

/** A Ruby Symbol (`:name`). Interned: `sym('a') === sym('a')`. */
export class RubySymbol {
  private constructor(readonly name: string) {}
  static #table = new Map<string, RubySymbol>();
  static of(name: string): RubySymbol {
    let s = RubySymbol.#table.get(name);
    if (!s) RubySymbol.#table.set(name, (s = new RubySymbol(name)));
    return s;
  }
}
export const sym = (name: string): RubySymbol => RubySymbol.of(name);

/** A Ruby Hash whose keys may be any value (Symbols and Strings in practice), in insertion order. */
export class RubyHash {
  constructor(readonly entries: Array<[RubyValue, RubyValue]> = []) {}
  /** The value under a Symbol or String key named `name` (Rails' indifferent access). */
  get(name: string): RubyValue | undefined {
    for (const [k, v] of this.entries) if ((k instanceof RubySymbol && k.name === name) || k === name) return v;
    return undefined;
  }
}

/** A plain object is written as a Hash with Symbol keys (as Greenlight v2's task sends). Uint8Array is a binary (ASCII-8BIT) String. */
export type RubyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | RubySymbol
  | RubyValue[]
  | RubyHash
  | { readonly [key: string]: RubyValue };

export class MarshalError extends Error {
  override name = 'MarshalError';
}

const MAJOR = 4;
const MINOR = 8;
// Ruby writes 'i' when the tagged VALUE (2n+1) fits in 32 bits, i.e. n in 31 bits; else a Bignum.
const FIXNUM_MIN = -(2 ** 30);
const FIXNUM_MAX = 2 ** 30 - 1;
// w_long itself (lengths, symbol links) takes any 32-bit signed value.
const LONG_MIN = -(2 ** 31);
const LONG_MAX = 2 ** 31 - 1;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------- encoding

class Writer {
  bytes: number[] = [MAJOR, MINOR];
  symbols = new Map<string, number>();

  byte(b: number): void {
    this.bytes.push(b & 0xff);
  }
  raw(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }
  /** marshal.c w_long: small values in one byte, else a length byte and little-endian bytes. */
  long(x: number): void {
    if (!Number.isInteger(x) || x < LONG_MIN || x > LONG_MAX) throw new MarshalError(`length or fixnum out of range: ${x}`);
    if (x === 0) return this.byte(0);
    if (x > 0 && x < 123) return this.byte(x + 5);
    if (x < 0 && x > -124) return this.byte(x - 5);
    const out: number[] = [];
    let v = x;
    for (let i = 1; i <= 4; i++) {
      out.push(v & 0xff);
      v >>= 8; // arithmetic shift, as RSHIFT on a signed long
      if (v === 0) return (this.byte(i), out.forEach((b) => this.byte(b)));
      if (v === -1) return (this.byte(-i), out.forEach((b) => this.byte(b)));
    }
  }
  bytesWithLength(data: Uint8Array): void {
    this.long(data.length);
    this.raw(data);
  }
  symbol(name: string): void {
    const known = this.symbols.get(name);
    if (known !== undefined) {
      this.byte(0x3b); // ';' symlink
      this.long(known);
      return;
    }
    this.symbols.set(name, this.symbols.size);
    const data = utf8.encode(name);
    const ascii = data.every((b) => b < 0x80);
    if (!ascii) this.byte(0x49); // 'I': a non-ASCII Symbol carries its encoding
    this.byte(0x3a); // ':'
    this.bytesWithLength(data);
    if (!ascii) this.utf8Ivar();
  }
  utf8Ivar(): void {
    this.long(1);
    this.symbol('E');
    this.byte(0x54); // 'T': E true = UTF-8
  }
  integer(n: bigint): void {
    if (n >= BigInt(FIXNUM_MIN) && n <= BigInt(FIXNUM_MAX)) {
      this.byte(0x69); // 'i'
      this.long(Number(n));
      return;
    }
    this.byte(0x6c); // 'l' Bignum: sign, length in 16-bit words, little-endian magnitude
    this.byte(n < 0n ? 0x2d : 0x2b);
    let mag = n < 0n ? -n : n;
    const out: number[] = [];
    while (mag > 0n) {
      out.push(Number(mag & 0xffn));
      mag >>= 8n;
    }
    if (out.length % 2) out.push(0);
    this.long(out.length / 2);
    out.forEach((b) => this.byte(b));
  }
  value(v: RubyValue, depth: number): void {
    if (depth > 64) throw new MarshalError('value nested too deeply');
    if (v === null) return this.byte(0x30); // '0'
    if (v === true) return this.byte(0x54); // 'T'
    if (v === false) return this.byte(0x46); // 'F'
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new MarshalError(`only integers are written (got ${v})`);
      return this.integer(BigInt(v));
    }
    if (typeof v === 'bigint') return this.integer(v);
    if (typeof v === 'string') {
      this.byte(0x49); // 'I'
      this.byte(0x22); // '"'
      this.bytesWithLength(utf8.encode(v));
      return this.utf8Ivar();
    }
    if (v instanceof Uint8Array) {
      this.byte(0x22);
      return this.bytesWithLength(v);
    }
    if (v instanceof RubySymbol) return this.symbol(v.name);
    if (Array.isArray(v)) {
      this.byte(0x5b); // '['
      this.long(v.length);
      for (const e of v) this.value(e, depth + 1);
      return;
    }
    const entries: Array<[RubyValue, RubyValue]> =
      v instanceof RubyHash ? v.entries : Object.entries(v).map(([k, e]) => [sym(k), e] as [RubyValue, RubyValue]);
    this.byte(0x7b); // '{'
    this.long(entries.length);
    for (const [k, e] of entries) {
      if (e === undefined) throw new MarshalError('undefined is not a Ruby value');
      this.value(k, depth + 1);
      this.value(e, depth + 1);
    }
  }
}

/** `Marshal.dump(value)`: the bytes Ruby's Marshal.load reads back as the same value. */
export function marshalDump(value: RubyValue): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return Uint8Array.from(w.bytes);
}

// ---------------------------------------------------------------- decoding

class Reader {
  pos = 2;
  symbols: string[] = [];
  objects: RubyValue[] = [];
  constructor(readonly data: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.data.length) throw new MarshalError('marshal data too short');
    return this.data[this.pos++]!;
  }
  /** marshal.c r_long. */
  long(): number {
    const c = (this.byte() << 24) >> 24; // as a signed char
    if (c === 0) return 0;
    if (c > 0) {
      if (c > 4) return c - 5;
      let x = 0;
      for (let i = 0; i < c; i++) x += this.byte() * 2 ** (8 * i); // up to 4 bytes, non-negative
      return x;
    }
    if (c < -4) return c + 5;
    let x = -1;
    for (let i = 0; i < -c; i++) {
      x &= ~(0xff << (8 * i));
      x |= this.byte() << (8 * i);
    }
    return x;
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.data.length) throw new MarshalError('marshal data too short');
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  symbol(): string {
    const t = this.byte();
    if (t === 0x3a) return this.symbolBody(false);
    if (t === 0x3b) return this.symlink();
    if (t === 0x49 && this.data[this.pos] === 0x3a) {
      this.pos++;
      return this.symbolBody(true);
    }
    throw new MarshalError(`expected a symbol, found type 0x${t.toString(16)}`);
  }
  symlink(): string {
    const i = this.long();
    const s = this.symbols[i];
    if (s === undefined) throw new MarshalError(`bad symbol link ${i}`);
    return s;
  }
  symbolBody(withIvars: boolean): string {
    const bytes = this.take(this.long());
    const index = this.symbols.length;
    this.symbols.push(''); // registered before its ivars, as Ruby does
    let name: string;
    if (withIvars) name = this.decodeText(bytes, this.encodingIvars());
    else name = this.decodeText(bytes, 'US-ASCII');
    this.symbols[index] = name;
    return name;
  }
  /** Reads an ivar list that may only name the string's encoding; answers it. */
  encodingIvars(): 'UTF-8' | 'US-ASCII' | 'ASCII-8BIT' {
    const n = this.long();
    let enc: 'UTF-8' | 'US-ASCII' | 'ASCII-8BIT' = 'ASCII-8BIT';
    for (let i = 0; i < n; i++) {
      const key = this.symbol();
      const t = this.byte();
      if (key === 'E' && (t === 0x54 || t === 0x46)) enc = t === 0x54 ? 'UTF-8' : 'US-ASCII';
      else throw new MarshalError(`unsupported instance variable ${key} (only the encoding is read)`);
    }
    return enc;
  }
  decodeText(bytes: Uint8Array, enc: 'UTF-8' | 'US-ASCII' | 'ASCII-8BIT'): string {
    if (enc === 'US-ASCII' && bytes.some((b) => b >= 0x80)) throw new MarshalError('US-ASCII text with a byte above 0x7f');
    try {
      return utf8Strict.decode(bytes);
    } catch {
      throw new MarshalError('invalid UTF-8 in a string');
    }
  }
  register<T extends RubyValue>(v: T): number {
    this.objects.push(v);
    return this.objects.length - 1;
  }
  value(depth: number): RubyValue {
    if (depth > 64) throw new MarshalError('value nested too deeply');
    const t = this.byte();
    switch (t) {
      case 0x30:
        return null;
      case 0x54:
        return true;
      case 0x46:
        return false;
      case 0x69:
        return this.long();
      case 0x6c: {
        const sign = this.byte();
        if (sign !== 0x2b && sign !== 0x2d) throw new MarshalError('bad bignum sign');
        const bytes = this.take(this.long() * 2);
        let mag = 0n;
        for (let i = bytes.length - 1; i >= 0; i--) mag = (mag << 8n) | BigInt(bytes[i]!);
        const n = sign === 0x2d ? -mag : mag;
        const v = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
        this.register(v);
        return v;
      }
      case 0x22: {
        const v = Uint8Array.from(this.take(this.long()));
        this.register(v);
        return v;
      }
      case 0x3a:
        return sym(this.symbolBody(false));
      case 0x3b:
        return sym(this.symlink());
      case 0x49: {
        const inner = this.byte();
        if (inner === 0x3a) return sym(this.symbolBody(true));
        if (inner !== 0x22) throw new MarshalError(`instance variables on type 0x${inner.toString(16)} are not supported`);
        const bytes = this.take(this.long());
        const slot = this.register(null);
        const text = this.decodeText(bytes, this.encodingIvars());
        this.objects[slot] = text;
        return text;
      }
      case 0x5b: {
        const arr: RubyValue[] = [];
        this.register(arr);
        const n = this.long();
        if (n < 0) throw new MarshalError('negative array length');
        for (let i = 0; i < n; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case 0x7b: {
        const hash = new RubyHash();
        this.register(hash);
        const n = this.long();
        if (n < 0) throw new MarshalError('negative hash size');
        for (let i = 0; i < n; i++) {
          const k = this.value(depth + 1);
          hash.entries.push([k, this.value(depth + 1)]);
        }
        return hash;
      }
      case 0x40: {
        const i = this.long();
        const v = this.objects[i];
        if (v === undefined) throw new MarshalError(`bad object link ${i}`);
        return v;
      }
      default:
        throw new MarshalError(`unsupported marshal type 0x${t.toString(16)} (only nil, booleans, integers, strings, symbols, arrays and hashes)`);
    }
  }
}

/** `Marshal.load(bytes)` for the subset above; MarshalError on anything else or trailing bytes. */
export function marshalLoad(bytes: Uint8Array): RubyValue {
  if (bytes.length < 2 || bytes[0] !== MAJOR || bytes[1] !== MINOR) throw new MarshalError('not Ruby Marshal 4.8 data');
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw new MarshalError('trailing bytes after the marshalled value');
  return v;
}
