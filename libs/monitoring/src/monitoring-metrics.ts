import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Provider } from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';
import type { DriftReport } from './drift-report';

export const MODEL_FEATURE_PSI = 'model_feature_psi';
export const MODEL_PREDICTION_PSI = 'model_prediction_psi';
export const MODEL_DRIFT_DETECTED = 'model_drift_detected';
export const DRIFT_CHECK_LAST_RUN = 'model_drift_check_last_run_timestamp_seconds';
export const DRIFT_CHECK_DURATION = 'model_drift_check_duration_seconds';
export const PREDICTION_LOG_RECORDS = 'prediction_log_records_total';
export const PREDICTION_LOG_WRITE_ERRORS = 'prediction_log_write_errors_total';
export const PREDICTION_LOG_DROPPED = 'prediction_log_dropped_records_total';
export const PREDICTION_LOG_DELETED_BYTES = 'prediction_log_deleted_bytes_total';
export const PREDICTION_LOG_DISK_BYTES = 'prediction_log_disk_bytes';

/**
 * Every HTTP worker shows the same drift report (the one it ran, or the newest on disk, read within a minute), so
 * across workers the gauges are not added up. `max` rather than `first`: for the minute in which workers may
 * disagree, the group shows drift and the latest run as soon as one of them does.
 */
const SAME_REPORT_IN_EVERY_WORKER = 'max';

/** The metric declarations; registered in prom-client's global registry like the other metrics of the service. */
export const MONITORING_METRIC_PROVIDERS: Provider[] = [
  makeGaugeProvider({
    name: MODEL_FEATURE_PSI,
    aggregator: SAME_REPORT_IN_EVERY_WORKER,
    help: 'Population Stability Index of each feature in the last drift check, against the reference profile.',
    labelNames: ['model', 'version', 'feature'],
  }),
  makeGaugeProvider({
    name: MODEL_PREDICTION_PSI,
    aggregator: SAME_REPORT_IN_EVERY_WORKER,
    help: 'PSI of the predictions in the last drift check: the larger of the label-share and the score PSI.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: MODEL_DRIFT_DETECTED,
    aggregator: SAME_REPORT_IN_EVERY_WORKER,
    help: '1 when the last drift check found drift (a feature or the predictions above DRIFT_PSI_ALERT), else 0.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: DRIFT_CHECK_LAST_RUN,
    aggregator: SAME_REPORT_IN_EVERY_WORKER,
    help: 'When the last drift check of the model finished, in seconds since the Unix epoch.',
    labelNames: ['model', 'version'],
  }),
  makeGaugeProvider({
    name: DRIFT_CHECK_DURATION,
    aggregator: SAME_REPORT_IN_EVERY_WORKER,
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
  makeCounterProvider({
    name: PREDICTION_LOG_DELETED_BYTES,
    help: 'Bytes of prediction-log files deleted to keep the folder within PREDICTION_LOG_MAX_BYTES.',
  }),
  makeGaugeProvider({
    name: PREDICTION_LOG_DISK_BYTES,
    // Every worker measures the same folder: the group shows it once, not once per worker.
    aggregator: 'max',
    help: 'Bytes of log and count files in the prediction-log folder, at the last flush.',
  }),
];

type ModelLabels = 'model' | 'version';

/** The monitoring metrics, behind methods named after what happened. */
@Injectable()
export class MonitoringMetrics {
  /** Features with a PSI series, per model version: prom-client removes series by their exact labels only. */
  private readonly featuresShown = new Map<string, string[]>();
  /** When the report shown, per model version, was generated (ms since the epoch). */
  private readonly shownAt = new Map<string, number>();

  constructor(
    @InjectMetric(MODEL_FEATURE_PSI) private readonly featurePsi: Gauge<ModelLabels | 'feature'>,
    @InjectMetric(MODEL_PREDICTION_PSI) private readonly predictionPsi: Gauge<ModelLabels>,
    @InjectMetric(MODEL_DRIFT_DETECTED) private readonly detected: Gauge<ModelLabels>,
    @InjectMetric(DRIFT_CHECK_LAST_RUN) private readonly lastRun: Gauge<ModelLabels>,
    @InjectMetric(DRIFT_CHECK_DURATION) private readonly duration: Gauge<ModelLabels>,
    @InjectMetric(PREDICTION_LOG_RECORDS) private readonly records: Counter,
    @InjectMetric(PREDICTION_LOG_WRITE_ERRORS) private readonly writeErrors: Counter,
    @InjectMetric(PREDICTION_LOG_DROPPED) private readonly dropped: Counter,
    @InjectMetric(PREDICTION_LOG_DELETED_BYTES) private readonly deletedBytes: Counter,
    @InjectMetric(PREDICTION_LOG_DISK_BYTES) private readonly diskBytes: Gauge,
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

  logDeleted(bytes: number): void {
    this.deletedBytes.inc(bytes);
  }

  logFolderMeasured(bytes: number): void {
    this.diskBytes.set(bytes);
  }

  /**
   * Shows a drift report: the in-process check's, or one found on disk (a CronJob's). Scores are replaced, not
   * merged, and only a verdict shows them: after insufficient data or without a reference, a feature loses its old
   * series rather than showing a stale score, and drift is never flagged. With `ifNewer`, a report generated no
   * later than the one already shown changes nothing and false is returned.
   */
  showReport(report: DriftReport, { ifNewer = false }: { ifNewer?: boolean } = {}): boolean {
    const labels = { model: report.model, version: report.version };
    const key = `${report.model}\u0000${report.version}`;
    const generatedAt = Date.parse(report.generated_at);
    const shownAt = this.shownAt.get(key);
    if (ifNewer && shownAt !== undefined && !(generatedAt > shownAt)) return false;
    this.shownAt.set(key, generatedAt);

    const verdict = report.verdict === 'drift' || report.verdict === 'no-drift';
    const features = verdict ? report.features.filter((f) => f.psi !== null) : [];
    for (const feature of this.featuresShown.get(key) ?? []) this.featurePsi.remove({ ...labels, feature });
    this.featuresShown.set(
      key,
      features.map((f) => f.name),
    );
    for (const feature of features)
      this.featurePsi.set({ ...labels, feature: feature.name }, feature.psi ?? 0);
    const predictionPsi = verdict ? report.prediction?.psi : undefined;
    if (predictionPsi === undefined || predictionPsi === null) this.predictionPsi.remove(labels);
    else this.predictionPsi.set(labels, predictionPsi);
    this.detected.set(labels, report.verdict === 'drift' ? 1 : 0);
    this.lastRun.set(labels, (generatedAt + report.duration_ms) / 1000);
    this.duration.set(labels, report.duration_ms / 1000);
    return true;
  }
}
