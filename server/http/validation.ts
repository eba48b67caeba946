// Turns zod failures into one RFC 9457 problem listing every bad field. zod's
// messages name the expected type, never the value received, so a secret sent
// in the wrong field is not echoed back.
import type { ZodError } from 'zod';
import { problems } from './problem.js';

export function zodProblem(error: ZodError) {
  return problems.validation(
    error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

/** The `defaultHook` of every OpenAPIHono router: fail with a problem, never a 500. */
export function validationHook(result: { success: boolean; error?: unknown }): void {
  if (!result.success) throw zodProblem(result.error as ZodError);
}
