// Turns zod failures into one RFC 9457 problem listing every bad field. zod's
// messages name the expected type, never the value received, so a secret sent
// in the wrong field is not echoed back.
import type { ZodError } from 'zod';
import { problems } from './problem.js';
import { TEXT_RULE, uncleanTextAt } from './text.js';

export function zodProblem(error: ZodError) {
  return problems.validation(
    error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

/**
 * The `defaultHook` of every OpenAPIHono router: fail with a problem, never a
 * 500. What passed the schema is also checked for text the server refuses in
 * every field (NUL, other control characters, unpaired surrogates), so no route
 * can forget it: path ids, query values, headers and JSON bodies alike.
 */
export function validationHook(result: { success: boolean; error?: unknown; data?: unknown; target?: string }): void {
  if (!result.success) throw zodProblem(result.error as ZodError);
  const at = uncleanTextAt(result.data);
  if (at) throw problems.validation([{ path: at.join('.'), message: TEXT_RULE }]);
}
