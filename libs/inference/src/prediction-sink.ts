import { Prediction } from './model-signature';

/** One answered request, as the prediction log keeps it. */
export interface AnsweredBatch {
  model: string;
  version: string;
  requestId: string;
  /** When the prediction was made. */
  at: Date;
  /** Rows in the model's feature order, as fed to the model. */
  rows: readonly number[][];
  predictions: readonly Prediction[];
}

/**
 * Where answered predictions go after the response is decided (the prediction log). `record` must not block
 * or throw: a failing sink never fails a prediction. Bound by the monitoring module; absent, nothing is recorded.
 */
export abstract class PredictionSink {
  abstract record(batch: AnsweredBatch): void;
}
