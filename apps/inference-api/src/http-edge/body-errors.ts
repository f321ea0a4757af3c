import { DomainError, FieldProblem, summarise } from '@app/observability';

export class PayloadTooLargeError extends DomainError {
  constructor(limit: string) {
    super({
      code: 'payload-too-large',
      status: 413,
      title: 'Payload too large',
      detail: `The body is larger than the limit of ${limit} (BODY_LIMIT).`,
    });
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(detail: string) {
    super({ code: 'unsupported-media-type', status: 415, title: 'Unsupported media type', detail });
  }
}

export class MalformedJsonError extends DomainError {
  constructor(reason: string) {
    super({
      code: 'malformed-json',
      status: 400,
      title: 'Malformed JSON',
      detail: `The body is not valid JSON: ${reason}`,
    });
  }
}

export class RequestAbortedError extends DomainError {
  constructor() {
    super({
      code: 'request-aborted',
      status: 400,
      title: 'Request aborted',
      detail: 'The connection closed before the whole body arrived.',
    });
  }
}

/** Arrays or objects nested deeper than JSON_MAX_DEPTH: no model input needs it, and deep recursion is an attack. */
export class NestingTooDeepError extends DomainError {
  constructor(path: string, maxDepth: number) {
    super({
      code: 'nesting-too-deep',
      status: 422,
      title: 'Nesting too deep',
      detail: `The body nests arrays and objects deeper than ${maxDepth} levels (JSON_MAX_DEPTH), at ${path}.`,
      errors: [{ field: path, message: `${path} is nested deeper than ${maxDepth} levels (JSON_MAX_DEPTH)` }],
    });
  }
}

/** NaN, ±Infinity or a number too large for a double: JSON has no such values, but Python's json.dumps writes them. */
export class NonFiniteNumberError extends DomainError {
  constructor(errors: FieldProblem[]) {
    super({
      code: 'non-finite-number',
      status: 422,
      title: 'Non-finite number',
      detail: summarise(errors),
      errors,
    });
  }
}
