// The hook every router validates with (server/http/validation.ts): what a
// client reads back when a field it sent is refused, by the schema or for text
// the server does not store.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProblemError } from '../../server/http/problem.js';
import { validationHook } from '../../server/http/validation.js';

function refusal(result: Parameters<typeof validationHook>[0]): ProblemError {
  try {
    validationHook(result);
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('a refused request', () => {
  it('names the field with a control character and says what is not allowed', () => {
    const p = refusal({ success: true, data: { name: 'ok', reasons: ['fine', 'hidden\u001b[2Jtext'] } });
    expect(p.status).toBe(400);
    expect(p.body().type).toBe('https://meetplane.org/problems/validation');
    const errors = p.extensions.errors as Array<{ path: string; message: string }>;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('reasons.1');
    expect(errors[0]!.message).toMatch(/must not contain control characters .*tab and line breaks.* unpaired surrogates/);
    expect(p.message).toBe(`reasons.1: ${errors[0]!.message}`);
  });

  it('names every field the schema refused, never the value sent', () => {
    const parsed = z.object({ slug: z.string(), seats: z.number() }).strict().safeParse({ slug: 7, seats: 'mp_pat_secretvalue1', extra: 1 });
    const p = refusal({ success: false, error: parsed.error });
    const errors = p.extensions.errors as Array<{ path: string; message: string }>;
    expect(errors.map((e) => e.path).sort()).toEqual(['', 'seats', 'slug']);
    expect(JSON.stringify(p.body())).not.toContain('secretvalue');
  });

  it('lets clean text through, line breaks included', () => {
    expect(() => validationHook({ success: true, data: { reason: 'line one\r\nline two\tand a tab', n: 1 } })).not.toThrow();
  });
});
