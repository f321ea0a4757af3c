import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { register } from 'prom-client';
import {
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  PrometheusModule,
} from '@willsoto/nestjs-prometheus';
import { HttpMetrics, HttpMetricsMiddleware, METRICS_PATH } from './http-metrics.middleware';
import { InferenceMetrics } from './inference-metrics';
import { MetricsController } from './metrics.controller';
import {
  HTTP_DURATION_BUCKETS,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_REQUESTS_TOTAL,
  INFERENCE_DURATION_BUCKETS,
  MODEL_INFERENCE_DURATION_SECONDS,
  MODEL_LOADED,
  MODEL_PREDICTIONS_TOTAL,
  BATCH_ROWS_BUCKETS,
  MODEL_BATCH_ROWS,
  MODEL_QUEUE_ROWS,
  MODEL_QUEUE_WAIT_SECONDS,
  MODEL_LOAD_FAILURES_TOTAL,
  MODEL_VALIDATION_FAILURES_TOTAL,
} from './metric-names';

const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Prometheus exposition at GET /metrics with prom-client's default process metrics (CPU, memory, GC, event-loop
 * lag), HTTP request metrics for every route, and InferenceMetrics for the inference code. Global, so the
 * inference library can inject InferenceMetrics without importing this module.
 *
 * Metrics live in prom-client's global registry: several apps in one process (specs) share them.
 */
@Global()
@Module({
  imports: [
    PrometheusModule.register({
      path: METRICS_PATH,
      defaultMetrics: { enabled: true },
      controller: MetricsController,
    }),
  ],
  providers: [
    makeCounterProvider({
      name: HTTP_REQUESTS_TOTAL,
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
    }),
    makeHistogramProvider({
      name: HTTP_REQUEST_DURATION_SECONDS,
      help: 'Time from receiving an HTTP request to finishing its response, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_DURATION_BUCKETS,
    }),
    makeHistogramProvider({
      name: MODEL_INFERENCE_DURATION_SECONDS,
      help: 'Time spent running one batch through a model session.',
      labelNames: ['model', 'version'],
      buckets: INFERENCE_DURATION_BUCKETS,
    }),
    makeCounterProvider({
      name: MODEL_PREDICTIONS_TOTAL,
      help: 'Predictions made, by model, version and predicted label ("" for regressors).',
      labelNames: ['model', 'version', 'label'],
    }),
    makeGaugeProvider({
      name: MODEL_LOADED,
      help: '1 when the model version is loaded and serving, 0 otherwise.',
      labelNames: ['model', 'version'],
      // Across HTTP workers: 1 only when every worker serves it (a sum would say 2).
      aggregator: 'min',
    }),
    makeHistogramProvider({
      name: MODEL_BATCH_ROWS,
      help: 'Rows per session run after merging concurrent requests.',
      labelNames: ['model', 'version'],
      buckets: BATCH_ROWS_BUCKETS,
    }),
    makeHistogramProvider({
      name: MODEL_QUEUE_WAIT_SECONDS,
      help: 'Time a request waited in the model queue before its batch started running.',
      labelNames: ['model', 'version'],
      buckets: INFERENCE_DURATION_BUCKETS,
    }),
    makeGaugeProvider({
      name: MODEL_QUEUE_ROWS,
      help: 'Rows waiting in the model queue.',
      labelNames: ['model', 'version'],
    }),
    makeCounterProvider({
      name: MODEL_VALIDATION_FAILURES_TOTAL,
      help: 'Model versions refused before taking traffic: outputs off their validation.json, the file unusable, or missing with REQUIRE_VALIDATION.',
      labelNames: ['model', 'version'],
    }),
    makeCounterProvider({
      name: MODEL_LOAD_FAILURES_TOTAL,
      help: 'Model versions that failed to load after the start (unreadable, unservable, refused by the parity gate), by model and version; what served before goes on serving.',
      labelNames: ['model', 'version'],
    }),
    HttpMetrics,
    HttpMetricsMiddleware,
    InferenceMetrics,
  ],
  exports: [HttpMetrics, InferenceMetrics],
})
export class MetricsModule implements NestModule {
  constructor() {
    // prom-client names these gauges `_total`, which Prometheus reserves for counters: `promtool check metrics`
    // rejects the whole exposition for it. They are the least useful of the defaults, so they go.
    for (const name of MISNAMED_DEFAULT_GAUGES) register.removeSingleMetric(name);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
