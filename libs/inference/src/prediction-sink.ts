import type { FeatureValues } from './feature-rows';
import { Prediction } from './model-signature';

/**
 * Bytes [start, end) of a request's body: JSON text as the client wrote it, on one line, all of it ASCII. Holds
 * the rows' feature arrays as one array (`[[…],[…]]`), or the one row's array (`oneRow`: `{"features": […]}`).
 */
export interface VerbatimRows {
  body: Uint8Array;
  start: number;
  end: number;
  oneRow: boolean;
}

/** One answered request, as the prediction log keeps it. */
export interface AnsweredBatch {
  model: string;
  version: string;
  requestId: string;
  /** When the prediction was made. */
  at: Date;
  /** The rows' feature values, row-major in the model's feature order: `predictions.length` rows of `featureCount`. */
  features: FeatureValues;
  featureCount: number;
  /**
   * The rows' feature arrays as the client wrote them, when the request's bytes allow it: the log then copies them
   * instead of formatting the numbers again, which cost more than the rest of a line.
   */
  featuresJson?: VerbatimRows;
  /**
   * The rows as the client sent them in binary (binary tensor data, gRPC raw contents): float32, little-endian,
   * row-major, exactly the rows' values. The log then writes these bytes (base64) instead of formatting the numbers.
   */
  featuresFloat32?: Uint8Array;
  predictions: readonly Prediction[];
}

/**
 * Where answered predictions go after the response is decided (the prediction log). `record` must not block
 * or throw: a failing sink never fails a prediction. Bound by the monitoring module; absent, nothing is recorded.
 */
export abstract class PredictionSink {
  abstract record(batch: AnsweredBatch): void;
}
