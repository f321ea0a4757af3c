/** One bad field of a request: `field` is a path such as `features[3]` or `instances[1][2]`. */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface DomainErrorInit {
  /** Stable, kebab-case identifier; becomes the problem `type` URI. */
  code: string;
  /** HTTP status the problem is answered with. */
  status: number;
  /** Short summary that is the same for every occurrence of this code. */
  title: string;
  /** What went wrong this time, written for the client: never internals. */
  detail: string;
  errors?: FieldProblem[];
  /** Response headers that belong to the problem, such as Retry-After or WWW-Authenticate. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An expected failure that the client can act on. Libraries subclass it (ModelNotFoundError, ...) and
 * ProblemDetailsFilter turns it into `application/problem+json`; everything it carries is shown to the client.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors?: FieldProblem[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: DomainErrorInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    if (init.errors !== undefined) this.errors = init.errors;
    this.headers = init.headers ?? {};
  }
}
