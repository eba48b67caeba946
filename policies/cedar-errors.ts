// Cedar's errors as an author reads them: Cedar hands back the first error of
// a failed call with the others in its `related`, so joining only the
// top-level messages would name one error per run.
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

/** Every error's message, the related ones included, in Cedar's order. */
export function cedarMessages(errors: readonly DetailedError[]): string[] {
  return errors.flatMap((e) => [e.message, ...cedarMessages(e.related ?? [])]);
}
