import { DomainError, type FieldProblem } from '@app/observability';

export class ModelNotFoundError extends DomainError {
  constructor(name: string, known: readonly string[]) {
    super({
      code: 'model-not-found',
      status: 404,
      title: 'Model not found',
      detail: `No model named "${name}" is served here. Served models: ${known.join(', ') || 'none'}.`,
    });
  }
}

export class ModelNotReadyError extends DomainError {
  constructor(name: string) {
    super({
      code: 'model-not-ready',
      status: 503,
      title: 'Model not ready',
      detail: `Model "${name}" is still loading; retry shortly.`,
      headers: { 'Retry-After': '1' },
    });
  }
}

/** Rows that do not fit the model: wrong length, non-numbers, non-finite numbers, unknown feature names. */
export class InvalidInstancesError extends DomainError {
  constructor(errors: FieldProblem[]) {
    super({
      code: 'validation-failed',
      status: 422,
      title: 'Invalid input',
      detail:
        errors.length === 1
          ? errors[0].message
          : `${errors.length} problems with the input: ${errors[0].message}; ...`,
      errors,
    });
  }
}

export class TooManyInstancesError extends DomainError {
  constructor(count: number, max: number) {
    super({
      code: 'too-many-instances',
      status: 413,
      title: 'Too many instances',
      detail: `The request has ${count} instances; at most ${max} are accepted per request (MAX_BATCH_SIZE).`,
    });
  }
}
