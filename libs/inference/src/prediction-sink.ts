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
  /**
   * Each row's feature array as the client wrote it (JSON text, on one line), when the request's bytes allow it:
   * the log then copies it instead of formatting the numbers again, which costs more than the rest of a line.
   */
  rowsText?: readonly string[];
  predictions: readonly Prediction[];
}

/**
 * Where answered predictions go after the response is decided (the prediction log). `record` must not block
 * or throw: a failing sink never fails a prediction. Bound by the monitoring module; absent, nothing is recorded.
 */
export abstract class PredictionSink {
  abstract record(batch: AnsweredBatch): void;
}
