/**
 * JSON text of numbers exactly as `JSON.stringify` writes them, for the hot paths that write their JSON directly (the
 * prediction log's lines, the KServe answer): a non-finite value, which a model may emit, is `null`.
 */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

export function jsonNumbers(values: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + jsonNumber(values[i]);
  return `[${out}]`;
}

/** A label or any other JSON scalar of a prediction. */
export function jsonScalar(value: number | string): string {
  return typeof value === 'string' ? JSON.stringify(value) : jsonNumber(value);
}
