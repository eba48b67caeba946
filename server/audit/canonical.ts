/**
 * RFC 8785 (JCS) canonical JSON bytes for audit entries. The `canonicalize` package does the
 * serialisation; this module first rejects values JSON would silently drop or alter
 * (undefined, functions, NaN, Dates, Maps...), because a dropped field would be a field that
 * was never audited.
 */
import canonicalize from 'canonicalize';

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

const className = (value: object): string => value.constructor?.name ?? 'object without prototype';

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws with the JSON path of the first value that has no exact JSON form. */
function assertJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path} is ${value}, which JSON cannot represent`);
      return;
    case 'object':
      if (value === null) return;
      if (ancestors.has(value)) throw new CanonicalJsonError(`${path} is a circular reference`);
      ancestors.add(value);
      assertContainer(value, path, ancestors);
      ancestors.delete(value);
      return;
    default:
      throw new CanonicalJsonError(`${path} is ${typeof value}, which JSON cannot represent`);
  }
}

function assertContainer(value: object, path: string, ancestors: Set<object>): void {
  if (Array.isArray(value)) {
    // An index loop, so holes in sparse arrays are seen as undefined.
    for (let i = 0; i < value.length; i++) assertJson(value[i], `${path}[${i}]`, ancestors);
  } else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) assertJson(child, `${path}.${key}`, ancestors);
  } else {
    throw new CanonicalJsonError(`${path} is a ${className(value)}; convert it to plain JSON first`);
  }
}

export function canonicalJson(value: unknown): string {
  assertJson(value, '$', new Set());
  try {
    return canonicalize(value) as string;
  } catch (error) {
    // The package still rejects strings with lone surrogates (not valid Unicode).
    throw new CanonicalJsonError(`value has no canonical JSON form: ${(error as Error).message}`);
  }
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
