import { PrimaryMetrics, RegistrySnapshot } from '@app/observability/metrics/process-group-metrics';
import { localRegistrySnapshot } from '@app/observability';
import { NestExpressApplication } from '@nestjs/platform-express';
import { execFileSync } from 'node:child_process';
import request from 'supertest';
import { startApp } from './support/app';

const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/**
 * How the app's metrics combine across HTTP workers: the primary aggregates the registries the workers send it
 * (see test/cluster.e2e-spec.ts for the real cluster). Here, two "workers" are the real app's registry and a copy.
 */
describe('metrics of several HTTP workers, aggregated', () => {
  let app: NestExpressApplication;
  let worker: RegistrySnapshot;

  beforeAll(async () => {
    app = await startApp({ MODEL_REPOSITORY: './models' });
    await request(app.getHttpServer()).post('/predict').send({ features: ROW }).expect(200);
    worker = await localRegistrySnapshot();
  });
  afterAll(() => app.close());

  /** A copy of a snapshot with one metric's values replaced, as another worker might report it. */
  const withValues = (
    snapshot: RegistrySnapshot,
    name: string,
    values: Array<{ labels: Record<string, string>; value: number }>,
  ): RegistrySnapshot => {
    const copy = structuredClone(
      snapshot.map(({ collect: _collect, ...metric }) => metric),
    ) as RegistrySnapshot;
    const metric = copy.find((m) => m.name === name);
    if (!metric) throw new Error(`no metric ${name}`);
    metric.values = values;
    return copy;
  };

  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('says for every gauge of the service how it combines (prom-client would add them up)', () => {
    const own = worker.filter(
      (m) => String(m.type) === 'gauge' && !m.name.startsWith('nodejs_') && !m.name.startsWith('process_'),
    );
    expect(Object.fromEntries(own.map((m) => [m.name, m.aggregator]))).toEqual({
      // 1 only when every worker serves the model.
      model_loaded: 'min',
      // Rows waiting in the whole group.
      model_queue_rows: 'sum',
      // Every worker shows the same drift report: the newest wins, never a sum.
      model_feature_psi: 'max',
      model_prediction_psi: 'max',
      model_drift_detected: 'max',
      model_drift_check_last_run_timestamp_seconds: 'max',
      model_drift_check_duration_seconds: 'max',
      // Every worker measures the same prediction-log folder.
      prediction_log_disk_bytes: 'max',
    });
  });

  it('adds counters and histograms up, takes the minimum of model_loaded and the maximum of the drift gauges', async () => {
    const labels = { model: 'seed_gbc', version: '1' };
    const loading = withValues(
      withValues(worker, 'model_loaded', [{ labels, value: 0 }]),
      'model_drift_detected',
      [{ labels, value: 1 }],
    );
    const serving = withValues(worker, 'model_drift_detected', [{ labels, value: 0 }]);
    const primary = new PrimaryMetrics();
    primary.workerRestarted();

    const text = await primary.exposition([serving, loading]);
    expect(sample(text, 'http_requests_total{method="POST",route="/predict",status="200"}')).toBe(2);
    expect(
      sample(text, 'http_request_duration_seconds_count{method="POST",route="/predict",status="200"}'),
    ).toBe(2);
    expect(sample(text, 'model_loaded{model="seed_gbc",version="1"}')).toBe(0);
    expect(sample(text, 'model_drift_detected{model="seed_gbc",version="1"}')).toBe(1);
    expect(sample(text, 'http_worker_restarts_total')).toBe(1);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });
});
