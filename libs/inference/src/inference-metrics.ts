import type { Provider } from '@nestjs/common';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';

export const MODEL_LOAD_FAILURES_TOTAL = 'model_load_failures_total';

/**
 * The runtime registry's own series, beside the model metrics of the observability library: loads after the start
 * (hot reload, the repository API) that ended without the version served. Registered in prom-client's global
 * registry like the others, so /metrics and the cluster primary's aggregation show it.
 */
export const INFERENCE_METRIC_PROVIDERS: Provider[] = [
  makeCounterProvider({
    name: MODEL_LOAD_FAILURES_TOTAL,
    help: 'Model versions that failed to load after the start (unreadable, unservable, refused by the parity gate), by model and version; what served before goes on serving.',
    labelNames: ['model', 'version'],
  }),
];
