// zod building blocks shared by the REST boundary.
import { z } from '@hono/zod-openapi';
import { isCountryCode } from '../geo/countries.js';
import { SLUG_RE } from '../ids.js';
import { LINE_CONTROL } from './text.js';

// Every string a route accepts is also checked for NUL, control characters and
// unpaired surrogates after validation (validation.ts); the single-line fields
// below refuse tabs and line breaks as well.
const singleLine = (s: string) => !LINE_CONTROL.test(s);

export const Country = z
  .string()
  .refine(isCountryCode, { message: 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. DE' })
  .openapi({ example: 'DE', description: 'ISO 3166-1 alpha-2' });

export const Slug = z
  .string()
  .regex(SLUG_RE, 'must be 1-63 lower-case letters, digits or hyphens, not starting or ending with a hyphen')
  .openapi({ example: 'north-coop' });

export const Name = z.string().trim().min(1).max(200).refine(singleLine, { message: 'must be one line without control characters' });

export const Email = z.email().max(320).transform((e) => e.toLowerCase());

// The same pattern as UUID_RE, without the `i` flag an OpenAPI pattern cannot carry.
export const Uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID');

/** A path parameter that is either the object's UUID or its slug. */
export const IdOrSlug = z
  .string()
  .min(1)
  .max(63)
  .refine(singleLine, { message: 'must be an id or a slug' })
  .openapi({ param: { name: 'id', in: 'path' }, example: 'north-coop' });

export const IdParam = z.object({ id: IdOrSlug });

export const IfMatchHeader = z.object({
  'if-match': z.string().optional().openapi({ description: 'ETag of the version being changed (required)' }),
});

export const Timestamp = z.string().openapi({ format: 'date-time' });

export function problemResponse(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  } as const;
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

export const commonErrors = {
  400: problemResponse('Invalid input'),
  401: problemResponse('Missing or invalid token'),
  403: problemResponse('Not permitted'),
  404: problemResponse('Not found (or not visible to you)'),
} as const;

/** A JSON response entry for createRoute. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A required JSON request body for createRoute. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true };
}

/** Date.parse takes 30 February for 2 March: the calendar date and the clock must exist as written. */
function realDateTime(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const [hh, mm] = v.slice(11, 16).split(':').map(Number) as [number, number];
  return !Number.isNaN(Date.parse(v)) && new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d && hh < 24 && mm < 60;
}

/** A planned freeze (a weekend cut-over): ISO 8601 with a time zone, a date and time that exist. */
export const FreezeAtIn = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/, 'must be an ISO 8601 date and time with a time zone, e.g. 2026-12-31T20:00Z')
  .refine(realDateTime, { message: 'no such date and time' })
  .optional()
  .openapi({ description: 'Planned freeze date and time (e.g. a weekend cut-over), at least noticeDays from now; the freeze still waits until every member has had the full notice' });
