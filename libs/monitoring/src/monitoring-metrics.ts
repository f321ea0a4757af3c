import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Provider } from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';

export const MODEL_FEATURE_PSI = 'model_feature_psi';
export const MODEL_PREDICTION_PSI = 'model_prediction_psi';
export const MODEL_DRIFT_DETECTED = 'model_drift_detected';
export const DRIFT_CHECK_LAST_RUN = 'model_drift_check_last_run_timestamp_seconds';
export const DRIFT_CHECK_DURATION = 'model_drift_check_duration_seconds';
export const PREDICTION_LOG_RECORDS = 'prediction_log_records_total';
export const PREDICTION_LOG_WRITE_ERRORS = 'prediction_log_write_errors_total';
export const PREDICTION_LOG_DROPPED = 'prediction_log_dropped_records_total';

/** The metric declarations; registered in prom-client's global registry like the other metrics of the service. */
export const MONITORING_METRIC_PROVIDERS: Provider[] = [
  makeGaugeProvider({
    name: MODEL_FEATURE_PSI,
    help: 'Population Stability Index of each feature in the last drift check, against the reference profile.',
    labelNames: ['model', 'version', 'feature'],
  }),
  makeGaugeProvider({
    name: MODEL_PREDICTION_PSI,
    help: 'PSI of the predictions in the last drift check: the larger of the label-share and the score PSI.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: MODEL_DRIFT_DETECTED,
    help: '1 when the last drift check found drift (a feature or the predictions above DRIFT_PSI_ALERT), else 0.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: DRIFT_CHECK_LAST_RUN,
    help: 'When the last drift check of the model finished, in seconds since the Unix epoch.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: DRIFT_CHECK_DURATION,
    help: 'How long the last drift check of the model took.',
    labelNames: ['model', 'version'],
  }),
  makeCounterProvider({
    name: PREDICTION_LOG_RECORDS,
    help: 'Predictions written to the prediction log.',
  }),
  makeCounterProvider({
    name: PREDICTION_LOG_WRITE_ERRORS,
    help: 'Failed writes to the prediction log (the rows are kept and retried, within a bound).',
  }),
  makeCounterProvider({
    name: PREDICTION_LOG_DROPPED,
    help: 'Predictions never written because the log could not be written for too long (the buffer is bounded).',
  }),
];

type ModelLabels = 'model' | 'version';

/** The monitoring metrics, behind methods named after what happened. */
@Injectable()
export class MonitoringMetrics {
  /** Features with a PSI series, per model version: prom-client removes series by their exact labels only. */
  private readonly featuresShown = new Map<string, string[]>();

  constructor(
    @InjectMetric(MODEL_FEATURE_PSI) private readonly featurePsi: Gauge<ModelLabels | 'feature'>,
    @InjectMetric(MODEL_PREDICTION_PSI) private readonly predictionPsi: Gauge<ModelLabels>,
    @InjectMetric(MODEL_DRIFT_DETECTED) private readonly detected: Gauge<ModelLabels>,
    @InjectMetric(DRIFT_CHECK_LAST_RUN) private readonly lastRun: Gauge<ModelLabels>,
    @InjectMetric(DRIFT_CHECK_DURATION) private readonly duration: Gauge<ModelLabels>,
    @InjectMetric(PREDICTION_LOG_RECORDS) private readonly records: Counter,
    @InjectMetric(PREDICTION_LOG_WRITE_ERRORS) private readonly writeErrors: Counter,
    @InjectMetric(PREDICTION_LOG_DROPPED) private readonly dropped: Counter,
  ) {}

  recordsWritten(count: number): void {
    this.records.inc(count);
  }

  writeFailed(): void {
    this.writeErrors.inc();
  }

  recordsDropped(count: number): void {
    this.dropped.inc(count);
  }

  /**
   * The outcome of one check. Scores are replaced, not merged: a feature absent from this check (insufficient
   * data) loses its old series rather than showing a stale score.
   */
  driftChecked(result: {
    model: string;
    version: string;
    features?: Array<{ name: string; psi: number }>;
    predictionPsi?: number;
    drift: boolean;
    finishedAt: Date;
    seconds: number;
  }): void {
    const labels = { model: result.model, version: result.version };
    const key = `${result.model}\u0000${result.version}`;
    for (const feature of this.featuresShown.get(key) ?? []) this.featurePsi.remove({ ...labels, feature });
    this.featuresShown.set(
      key,
      (result.features ?? []).map((f) => f.name),
    );
    for (const feature of result.features ?? []) {
      this.featurePsi.set({ ...labels, feature: feature.name }, feature.psi);
    }
    if (result.predictionPsi === undefined) this.predictionPsi.remove(labels);
    else this.predictionPsi.set(labels, result.predictionPsi);
    this.detected.set(labels, result.drift ? 1 : 0);
    this.lastRun.set(labels, result.finishedAt.getTime() / 1000);
    this.duration.set(labels, result.seconds);
  }
}
