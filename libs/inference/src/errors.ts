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

/**
 * A load asked for through the repository API that did not end with the model (or version) served: the reason
 * names the file and what was wrong with it. What the model served before goes on serving.
 */
export class ModelLoadFailedError extends DomainError {
  constructor(name: string, reason: string) {
    super({
      code: 'model-load-failed',
      status: 400,
      title: 'Model not loaded',
      detail: `Model "${name}" was not loaded: ${reason}.`,
    });
  }
}

/**
 * A request that resolved a version just before the version was taken out of service. Requests are routed and
 * queued in one step, so this is not expected to happen; if it does, the client may retry at once.
 */
export class ModelVersionUnloadedError extends DomainError {
  constructor(name: string, version: string) {
    super({
      code: 'model-version-unloaded',
      status: 503,
      title: 'Model version unloaded',
      detail: `Model "${name}" version ${version} was taken out of service as this request reached it; retry.`,
      headers: { 'Retry-After': '0' },
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
