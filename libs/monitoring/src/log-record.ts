import { type AnsweredBatch, jsonNumber, jsonNumbers, jsonScalar, type Prediction } from '@app/inference';
import type { ObservedOutput } from './reference-profile';

/** One line of the prediction log. */
export interface LoggedPrediction {
  /** ISO-8601 UTC. */
  ts: string;
  model: string;
  version: string;
  request_id: string;
  /** In the model's feature order. */
  features: number[];
  /** Label for a classifier, value (or values) for a regressor. */
  prediction: number | string | number[];
  /** Probability of the predicted label (classifiers only). */
  probability?: number;
}

/** What the counts need of a row's answer: its label or value, and the probability of the label. */
export function observedOutput(prediction: Prediction): ObservedOutput {
  return prediction.task === 'classification'
    ? { prediction: prediction.label, probability: prediction.probability }
    : { prediction: prediction.value };
}

/**
 * The batch as log lines, one per row, each ending in a newline: the text `JSON.stringify` gives each of the
 * batch's LoggedPrediction records (the spec holds it to that), written out directly because at thousands of rows a
 * second the generic path and its intermediate objects cost more than the rest of the log. Features the client
 * wrote are copied as written (`rowsText`): the same numbers once parsed, in the client's notation.
 */
export function recordLines(batch: AnsweredBatch, ts = batch.at.toISOString()): string {
  const head = `{"ts":"${ts}","model":${JSON.stringify(batch.model)},"version":${JSON.stringify(
    batch.version,
  )},"request_id":${JSON.stringify(batch.requestId)},"features":`;
  let out = '';
  for (let i = 0; i < batch.rows.length; i++) {
    const p = batch.predictions[i];
    const answer =
      p.task === 'classification'
        ? `"prediction":${jsonScalar(p.label)},"probability":${jsonNumber(p.probability)}`
        : `"prediction":${typeof p.value === 'number' ? jsonNumber(p.value) : jsonNumbers(p.value)}`;
    out += `${head}${batch.rowsText?.[i] ?? jsonNumbers(batch.rows[i])},${answer}}\n`;
  }
  return out;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * One line back into a record, or undefined for anything that is not one (a torn line after a crash, a line
 * someone edited): readers skip such lines rather than fail the whole check.
 */
export function parseRecord(line: string): LoggedPrediction | undefined {
  if (line.length < 2 || line[0] !== '{') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<LoggedPrediction>;
  if (typeof r.model !== 'string' || typeof r.version !== 'string') return undefined;
  if (!Array.isArray(r.features) || !r.features.every(isNumber)) return undefined;
  const p = r.prediction;
  if (!(isNumber(p) || typeof p === 'string' || (Array.isArray(p) && p.every(isNumber)))) return undefined;
  if (r.probability !== undefined && !isNumber(r.probability)) return undefined;
  return r as LoggedPrediction;
}
