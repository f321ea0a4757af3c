/** Names and buckets in one place, so the exposition test and the dashboards read the same spelling. */
export const HTTP_REQUESTS_TOTAL = 'http_requests_total';
export const HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';
export const GRPC_REQUESTS_TOTAL = 'grpc_requests_total';
export const GRPC_REQUEST_DURATION_SECONDS = 'grpc_request_duration_seconds';
export const MODEL_INFERENCE_DURATION_SECONDS = 'model_inference_duration_seconds';
export const MODEL_PREDICTIONS_TOTAL = 'model_predictions_total';
export const MODEL_LOADED = 'model_loaded';
export const MODEL_BATCH_ROWS = 'model_batch_rows';
export const MODEL_QUEUE_WAIT_SECONDS = 'model_queue_wait_seconds';
export const MODEL_QUEUE_ROWS = 'model_queue_rows';
export const MODEL_VALIDATION_FAILURES_TOTAL = 'model_validation_failures_total';
export const MODEL_LOAD_FAILURES_TOTAL = 'model_load_failures_total';

/** Rows per merged run: 1 (no merging) up to large batches. */
export const BATCH_ROWS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** Whole requests: 1 ms (a probe) to 10 s (a large batch on a busy CPU). */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One session run: 0.1 ms (a small tree ensemble) to 1 s (a large network on a batch). */
export const INFERENCE_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
