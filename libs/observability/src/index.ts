export { DomainError, type DomainErrorInit, type FieldProblem } from './problems/domain-error';
export { appendPath, ROOT_PATH, shownKey } from './problems/field-path';
export {
  answerWithProblem,
  ProblemDetailsFilter,
  type ProblemDocument,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
} from './problems/problem-details.filter';
export {
  flattenValidationErrors,
  summarise,
  validationProblem,
  ValidationFailedError,
} from './problems/validation-problem';
export { LOG_DESTINATION, LoggingModule } from './logging/logging.module';
export { REQUEST_ID_HEADER, requestIdFrom } from './logging/request-id';
export { RequestLog } from './logging/request-log';
export { MetricsModule } from './metrics/metrics.module';
export { InferenceMetrics } from './metrics/inference-metrics';
export { GroupMetricsSource, localRegistrySnapshot } from './metrics/process-group-metrics';
export { MetricsController } from './metrics/metrics.controller';
export { HttpMetrics } from './metrics/http-metrics.middleware';
export { parseByteSize } from './byte-size';
