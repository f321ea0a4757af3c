import type { ValidationError } from 'class-validator';
import { DomainError, FieldProblem } from './domain-error';
import { appendPath, shownKey } from './field-path';

/** How many field problems `detail` spells out; `errors` always has them all. */
const DETAIL_LIMIT = 5;

/** Summarises several field problems in one sentence for `detail`. */
export function summarise(errors: readonly FieldProblem[]): string {
  if (errors.length === 1) return errors[0].message;
  const shown = errors.slice(0, DETAIL_LIMIT).map((problem) => problem.message);
  const more = errors.length > DETAIL_LIMIT ? `; and ${errors.length - DETAIL_LIMIT} more` : '';
  return `${errors.length} problems with the input: ${shown.join('; ')}${more}`;
}

/** 422 `validation-failed`: the request is well-formed JSON but its content is not acceptable. */
export class ValidationFailedError extends DomainError {
  constructor(errors: FieldProblem[]) {
    super({
      code: 'validation-failed',
      status: 422,
      title: 'Invalid input',
      detail: summarise(errors),
      errors,
    });
  }
}

/**
 * class-validator reports nested objects and arrays as a tree whose messages name only the last property
 * ("0 must be a number"). This walks the tree and gives each message its full path ("instances[0] must be a
 * number") so a client can find the field.
 */
export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = appendPath(parent, error.property);
    const shown = shownKey(error.property);
    for (const message of Object.values(error.constraints ?? {})) {
      const withPath = message.startsWith(`${error.property} `)
        ? `${field}${message.slice(error.property.length)}`
        : message.split(error.property).join(shown);
      problems.push({ field, message: withPath });
    }
    if (error.children !== undefined && error.children.length > 0) {
      problems.push(...flattenValidationErrors(error.children, field));
    }
  }
  return problems;
}

/** For ValidationPipe's `exceptionFactory`: every class-validator failure as one 422 problem. */
export function validationProblem(errors: ValidationError[]): ValidationFailedError {
  const problems = flattenValidationErrors(errors);
  // ValidationPipe only calls the factory with at least one error, but a problem must never be empty.
  return new ValidationFailedError(
    problems.length > 0 ? problems : [{ field: '', message: 'the input is invalid' }],
  );
}
