import type { AnsweredBatch } from '@app/inference';

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

/** The batch as log records, one per row. */
export function toRecords(batch: AnsweredBatch): LoggedPrediction[] {
  const ts = batch.at.toISOString();
  return batch.rows.map((features, i) => {
    const p = batch.predictions[i];
    const base = { ts, model: batch.model, version: batch.version, request_id: batch.requestId, features };
    return p.task === 'classification'
      ? { ...base, prediction: p.label, probability: p.probability }
      : { ...base, prediction: p.value };
  });
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
