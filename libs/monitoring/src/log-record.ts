import { type AnsweredBatch, jsonNumber, jsonNumbers, jsonScalar, type Prediction } from '@app/inference';
import type { ObservedOutput } from './reference-profile';

/** One row of a logged request: its features and what was answered for it. */
export interface LoggedRow {
  /** In the model's feature order. */
  features: number[];
  /** Label for a classifier, value (or values) for a regressor. */
  prediction: number | string | number[];
  /** Probability of the predicted label (classifiers only). */
  probability?: number;
}

/** One line of the prediction log: one answered request, its rows in the order the client sent them. */
export interface LoggedRequest {
  /** ISO-8601 UTC. */
  ts: string;
  model: string;
  version: string;
  request_id: string;
  rows: LoggedRow[];
}

/**
 * One logged row with its request's fields: what the readers count and report, whichever form the line had. Logs
 * written before 2026-11-30 hold one such record per line (`features` in place of `rows`); they are still read.
 */
export interface LoggedPrediction extends LoggedRow {
  ts: string;
  model: string;
  version: string;
  request_id: string;
}

/** What the counts need of a row's answer: its label or value, and the probability of the label. */
export function observedOutput(prediction: Prediction): ObservedOutput {
  return prediction.task === 'classification'
    ? { prediction: prediction.label, probability: prediction.probability }
    : { prediction: prediction.value };
}

/**
 * The batch's line, ending in a newline: the text `JSON.stringify` gives its LoggedRequest (the spec holds it to
 * that), written out directly because at thousands of rows a second the generic path and its intermediate objects
 * cost more than the rest of the log. One line per request rather than per row: the request's fields are written
 * once, which took a third of the bytes, and the bytes are most of what the log costs. Features the client wrote are
 * copied as written (`rowsText`): the same numbers once parsed, in the client's notation.
 */
export function recordLine(batch: AnsweredBatch, ts = batch.at.toISOString()): string {
  let out = `{"ts":"${ts}","model":${JSON.stringify(batch.model)},"version":${JSON.stringify(
    batch.version,
  )},"request_id":${JSON.stringify(batch.requestId)},"rows":[`;
  for (let i = 0; i < batch.rows.length; i++) {
    const p = batch.predictions[i];
    const answer =
      p.task === 'classification'
        ? `"prediction":${jsonScalar(p.label)},"probability":${jsonNumber(p.probability)}`
        : `"prediction":${typeof p.value === 'number' ? jsonNumber(p.value) : jsonNumbers(p.value)}`;
    out += `${i === 0 ? '' : ','}{"features":${batch.rowsText?.[i] ?? jsonNumbers(batch.rows[i])},${answer}}`;
  }
  return `${out}]}\n`;
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
 * The rows of one line, each with its request's fields: every row of a request line, the one row of a line in the
 * earlier per-row form, none for anything else (a torn line after a crash, a line someone edited). A row that is
 * not one is skipped, not its neighbours: readers count what they can rather than fail the whole check.
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
  const r = value as Partial<LoggedRequest & LoggedPrediction>;
  if (typeof r.model !== 'string' || typeof r.version !== 'string') return [];
  const { ts, model, version, request_id } = r as LoggedRequest;
  if (!Array.isArray(r.rows)) return isRow(r) ? [r as LoggedPrediction] : [];
  const records: LoggedPrediction[] = [];
  for (const row of r.rows as unknown[]) {
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
