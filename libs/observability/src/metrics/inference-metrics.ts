import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import {
  MODEL_BATCH_ROWS,
  MODEL_INFERENCE_DURATION_SECONDS,
  MODEL_LOAD_FAILURES_TOTAL,
  MODEL_LOADED,
  MODEL_PREDICTIONS_TOTAL,
  MODEL_QUEUE_ROWS,
  MODEL_QUEUE_WAIT_SECONDS,
  MODEL_VALIDATION_FAILURES_TOTAL,
} from './metric-names';

type ModelLabels = 'model' | 'version';

/**
 * The model metrics, behind methods so the inference code names what happened rather than which metric moves.
 * Label values are model names, versions and class labels: bounded by what the model repository serves.
 */
@Injectable()
export class InferenceMetrics {
  constructor(
    @InjectMetric(MODEL_INFERENCE_DURATION_SECONDS) private readonly inferenceSeconds: Histogram<ModelLabels>,
    @InjectMetric(MODEL_PREDICTIONS_TOTAL) private readonly predictions: Counter<ModelLabels | 'label'>,
    @InjectMetric(MODEL_LOADED) private readonly loaded: Gauge<ModelLabels>,
    @InjectMetric(MODEL_BATCH_ROWS) private readonly batchRows: Histogram<ModelLabels>,
    @InjectMetric(MODEL_QUEUE_WAIT_SECONDS) private readonly queueWait: Histogram<ModelLabels>,
    @InjectMetric(MODEL_QUEUE_ROWS) private readonly queueRows: Gauge<ModelLabels>,
    @InjectMetric(MODEL_VALIDATION_FAILURES_TOTAL) private readonly validationFailures: Counter<ModelLabels>,
    @InjectMetric(MODEL_LOAD_FAILURES_TOTAL) private readonly loadFailures: Counter<ModelLabels>,
  ) {}

  /** Time spent in the runtime for one batch (not the whole request: http_request_duration_seconds has that). */
  observeInference(model: string, version: string, seconds: number): void {
    this.inferenceSeconds.observe({ model, version }, seconds);
  }

  /**
   * Predictions made, per predicted class label. A regressor has no classes: pass `label` '' (the exposition
   * then shows `label=""`), so its counter is one series per model version and still sums like the others.
   */
  countPredictions(model: string, version: string, label: string, count = 1): void {
    this.predictions.inc({ model, version, label }, count);
  }

  /** 1 once the model's session is ready, 0 while it loads or after it failed or was unloaded. */
  setModelLoaded(model: string, version: string, loaded: boolean): void {
    this.loaded.set({ model, version }, loaded ? 1 : 0);
  }

  /** Rows in one merged run. */
  observeBatch(model: string, version: string, rows: number): void {
    this.batchRows.observe({ model, version }, rows);
  }

  /** How long one request waited for its batch to start. */
  observeQueueWait(model: string, version: string, seconds: number): void {
    this.queueWait.observe({ model, version }, seconds);
  }

  setQueueDepth(model: string, version: string, rows: number): void {
    this.queueRows.set({ model, version }, rows);
  }

  /** A version the parity gate refused: it never takes traffic. */
  countValidationFailure(model: string, version: string): void {
    this.validationFailures.inc({ model, version });
  }

  /** A version that failed to load after the start (hot reload, the repository API): what served goes on serving. */
  countLoadFailure(model: string, version: string): void {
    this.loadFailures.inc({ model, version });
  }
}
