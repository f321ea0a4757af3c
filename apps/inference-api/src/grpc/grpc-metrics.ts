import {
  GRPC_REQUEST_DURATION_SECONDS,
  GRPC_REQUESTS_TOTAL,
  HTTP_DURATION_BUCKETS,
} from '@app/observability/metrics/metric-names';
import { Injectable, Provider } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';

type GrpcLabels = 'method' | 'code';

/**
 * The two series of gRPC calls, by method (`inference.GRPCInferenceService/ModelInfer`) and status code name (`OK`,
 * `INVALID_ARGUMENT`): the gRPC twins of http_requests_total and http_request_duration_seconds, in the same
 * registry, so the cluster primary aggregates them with the rest.
 */
export const GRPC_METRIC_PROVIDERS: Provider[] = [
  makeCounterProvider({
    name: GRPC_REQUESTS_TOTAL,
    help: 'gRPC calls answered, by method and status code.',
    labelNames: ['method', 'code'],
  }),
  makeHistogramProvider({
    name: GRPC_REQUEST_DURATION_SECONDS,
    help: 'Time from receiving a gRPC call to sending its status, by method and status code.',
    labelNames: ['method', 'code'],
    buckets: HTTP_DURATION_BUCKETS,
  }),
];

interface Series {
  calls: Counter.Internal;
  duration: Histogram.Internal<GrpcLabels>;
}

/** Counts and times calls; each method and code's series is looked up once and kept, as HttpMetrics does. */
@Injectable()
export class GrpcMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    @InjectMetric(GRPC_REQUESTS_TOTAL) private readonly calls: Counter<GrpcLabels>,
    @InjectMetric(GRPC_REQUEST_DURATION_SECONDS) private readonly duration: Histogram<GrpcLabels>,
  ) {}

  observe(method: string, code: string, seconds: number): void {
    const key = `${method} ${code}`;
    let found = this.series.get(key);
    if (found === undefined) {
      const labels = { method, code };
      found = { calls: this.calls.labels(labels), duration: this.duration.labels(labels) };
      this.series.set(key, found);
    }
    found.calls.inc();
    found.duration.observe(seconds);
  }
}
