// RFC 9457 problem details. Every error the API returns is one of these, with a
// stable `type` URI clients can switch on; nothing else ever reaches the wire.
export const PROBLEM_BASE = 'https://meetplane.org/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly problemType: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.status = status;
    this.problemType = type;
    this.title = title;
    this.extensions = extensions;
    this.headers = headers;
  }

  body(instance?: string): ProblemBody {
    return {
      type: PROBLEM_BASE + this.problemType,
      title: this.title,
      status: this.status,
      ...(this.message !== this.title ? { detail: this.message } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

// The few problems every module raises; domain modules add their own types.
export const problems = {
  validation: (errors: Array<{ path: string; message: string }>) =>
    new ProblemError(400, 'validation', 'The request is not valid', errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; '), { errors }),
  badRequest: (detail: string) => new ProblemError(400, 'bad-request', 'Bad request', detail),
  unauthorized: (detail = 'A valid bearer token is required') =>
    new ProblemError(401, 'unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="meetplane"' }),
  forbidden: (detail: string, extensions: Record<string, unknown> = {}) =>
    new ProblemError(403, 'forbidden', 'Forbidden', detail, extensions),
  notFound: (what: string) => new ProblemError(404, 'not-found', 'Not found', `${what} not found`),
  conflict: (type: string, detail: string) => new ProblemError(409, type, 'Conflict', detail),
  preconditionRequired: () =>
    new ProblemError(428, 'precondition-required', 'Precondition required', 'Send If-Match with the ETag you last read, so concurrent edits cannot overwrite each other'),
  preconditionFailed: (current: string) =>
    new ProblemError(412, 'precondition-failed', 'Precondition failed', 'The resource changed since you read it; read it again and retry', { currentEtag: current }),
};
