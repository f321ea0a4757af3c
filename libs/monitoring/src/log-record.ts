import { type AnsweredBatch, jsonNumber, jsonNumbers, jsonScalar } from '@app/inference';
import type { LineArena } from './line-arena';

/** One row of a logged request: its features and what was answered for it. */
export interface LoggedRow {
  /** In the model's feature order. */
  features: number[];
  /** Label for a classifier, value (or values) for a regressor. */
  prediction: number | string | number[];
  /** Probability of the predicted label (classifiers only). */
  probability?: number;
}

/**
 * One line of the prediction log: one answered request, its rows as columns, in the order the client sent them
 * (row i is `features[i]`, `predictions[i]`, `probabilities[i]`).
 */
export interface LoggedRequest {
  /** ISO-8601 UTC. */
  ts: string;
  model: string;
  version: string;
  request_id: string;
  /** Each row's features, in the model's feature order. */
  features?: number[][];
  /**
   * In place of `features`, for rows the client sent in binary (binary tensor data, gRPC raw contents): their bytes
   * as sent, base64: float32, little-endian, row-major, the row count that of `predictions`.
   */
  features_f32le?: string;
  /** Each row's label (classifier) or value or values (regressor). */
  predictions: Array<number | string | number[]>;
  /** Each row's probability of its predicted label (classifiers only). */
  probabilities?: number[];
}

/**
 * One logged row with its request's fields: what the readers count and report, whichever form the line had. Logs
 * written before 2026-11-30 hold one such record per line (`features` a row, `prediction` in place of
 * `predictions`); lines of that day's first form hold them in `rows`. Both are still read.
 */
export interface LoggedPrediction extends LoggedRow {
  ts: string;
  model: string;
  version: string;
  request_id: string;
}

/**
 * The batch's line, ending in a newline: the text `JSON.stringify` gives its LoggedRequest (the spec holds it to
 * that), written out directly because at thousands of rows a second the generic path and its intermediate objects
 * cost more than the rest of the log. One line per request, its rows as columns: the request's fields and the
 * keys are written once, and the features are one block, which `writeRecordLine` copies from the request's bytes.
 */
export function recordLine(batch: AnsweredBatch, ts = batch.at.toISOString()): string {
  const float32 = batch.featuresFloat32;
  return float32 === undefined
    ? `${lineHead(batch, ts)}${jsonRows(batch)}${lineTail(batch)}`
    : `${lineHead(batch, ts, FLOAT32_KEY)}"${base64(float32)}"${lineTail(batch)}`;
}

const FLOAT32_KEY = 'features_f32le';

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Appends the batch's line to the arena. Features the client wrote as arrays (`featuresJson`) are copied from the
 * request's bytes as they are, the same numbers once parsed in the client's notation: at 32 rows a request, encoding
 * them again as text was most of what the log cost. Returns the bytes written.
 * @param onFull called before the line goes to a new slab (see LineArena.reserve)
 */
export function writeRecordLine(
  arena: LineArena,
  batch: AnsweredBatch,
  ts: string,
  onFull: () => void,
): number {
  const verbatim = batch.featuresJson;
  // Rows sent in binary are written as their bytes (recordLine): no number is formatted for them either.
  if (verbatim === undefined) return arena.write(recordLine(batch, ts), onFull);
  const head = `${lineHead(batch, ts)}${verbatim.oneRow ? '[' : ''}`;
  const tail = `${verbatim.oneRow ? ']' : ''}${lineTail(batch)}`;
  arena.reserve(head.length * 3 + (verbatim.end - verbatim.start) + tail.length * 3, onFull);
  return (
    arena.append(head) + arena.appendBytes(verbatim.body, verbatim.start, verbatim.end) + arena.append(tail)
  );
}

/** The line up to the features' value. */
function lineHead(batch: AnsweredBatch, ts: string, featuresKey = 'features'): string {
  return `{"ts":"${ts}","model":${JSON.stringify(batch.model)},"version":${JSON.stringify(
    batch.version,
  )},"request_id":${JSON.stringify(batch.requestId)},"${featuresKey}":`;
}

/** The line after the features: the answers' columns. */
function lineTail({ predictions }: AnsweredBatch): string {
  let answers = '';
  let probabilities = '';
  let classifier = true;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    const comma = i === 0 ? '' : ',';
    if (p.task === 'classification') {
      answers += comma + jsonScalar(p.label);
      probabilities += comma + jsonNumber(p.probability);
    } else {
      answers += comma + (typeof p.value === 'number' ? jsonNumber(p.value) : jsonNumbers(p.value));
      classifier = false;
    }
  }
  return `,"predictions":[${answers}]${classifier ? `,"probabilities":[${probabilities}]` : ''}}\n`;
}

function jsonRows({ features, featureCount: width, predictions }: AnsweredBatch): string {
  let out = '';
  for (let i = 0; i < predictions.length; i++) {
    out += (i === 0 ? '' : ',') + jsonNumbers(features.subarray(i * width, (i + 1) * width));
  }
  return `[${out}]`;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

const isRow = (value: unknown): value is LoggedRow => {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<LoggedRow>;
  if (!Array.isArray(r.features) || !r.features.every(isNumber)) return false;
  const p = r.prediction;
  if (!(isNumber(p) || typeof p === 'string' || (Array.isArray(p) && p.every(isNumber)))) return false;
  return r.probability === undefined || isNumber(r.probability);
};

/**
 * The rows of one line, each with its request's fields: every row of a request line (columns, or the `rows` of
 * the day the format had them), the one row of a line in the earlier per-row form, none for anything else (a torn
 * line after a crash, a line someone edited). A row that is not one is skipped, not its neighbours: readers count
 * what they can rather than fail the whole check.
 */
export function parseRecords(line: string): LoggedPrediction[] {
  if (line.length < 2 || line[0] !== '{') return [];
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return [];
  }
  if (typeof value !== 'object' || value === null) return [];
  const r = value as Partial<LoggedRequest & LoggedPrediction & { rows: unknown }>;
  if (typeof r.model !== 'string' || typeof r.version !== 'string') return [];
  const { ts, model, version, request_id } = r as LoggedPrediction;
  let rows: unknown[];
  const features =
    typeof r.features_f32le === 'string' ? float32Rows(r.features_f32le, r.predictions) : r.features;
  if (Array.isArray(r.predictions) && Array.isArray(features)) {
    const { predictions, probabilities } = r;
    // A classifier's row without its probability is not one (isRow refuses NaN).
    const probability = (i: number): unknown =>
      Array.isArray(probabilities) ? (probabilities[i] ?? NaN) : NaN;
    rows = predictions.map((prediction, i) =>
      probabilities === undefined
        ? { features: features[i], prediction }
        : { features: features[i], prediction, probability: probability(i) },
    );
  } else if (Array.isArray(r.rows)) {
    rows = r.rows;
  } else {
    return isRow(r) ? [r as LoggedPrediction] : [];
  }
  const records: LoggedPrediction[] = [];
  for (const row of rows) {
    if (!isRow(row)) continue;
    const { features, prediction, probability } = row;
    records.push(
      probability === undefined
        ? { ts, model, version, request_id, features, prediction }
        : { ts, model, version, request_id, features, prediction, probability },
    );
  }
  return records;
}

/**
 * `features_f32le` back into rows: float32 little-endian values, as many rows as predictions. Undefined when the
 * bytes do not make whole rows (a line someone edited): the line's rows are then skipped like any broken row.
 */
function float32Rows(encoded: string, predictions: unknown): number[][] | undefined {
  if (!Array.isArray(predictions) || predictions.length === 0) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  const values = bytes.length / 4;
  const width = values / predictions.length;
  if (!Number.isInteger(width) || width === 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: number[][] = [];
  for (let row = 0; row < predictions.length; row++) {
    const cells = new Array<number>(width);
    for (let column = 0; column < width; column++)
      cells[column] = view.getFloat32((row * width + column) * 4, true);
    rows.push(cells);
  }
  return rows;
}
