export { DomainError, type DomainErrorInit, type FieldProblem } from './problems/domain-error';
export {
  ProblemDetailsFilter,
  type ProblemDocument,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
} from './problems/problem-details.filter';
export {
  flattenValidationErrors,
  validationProblem,
  ValidationFailedError,
} from './problems/validation-problem';
export { LOG_DESTINATION, LoggingModule } from './logging/logging.module';
export { REQUEST_ID_HEADER } from './logging/request-id';
export { MetricsModule } from './metrics/metrics.module';
export { InferenceMetrics } from './metrics/inference-metrics';
export { HttpEdgeModule } from './http-edge/http-edge.module';
export {
  MalformedJsonError,
  NonFiniteNumberError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from './http-edge/body-errors';
