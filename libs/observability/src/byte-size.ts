const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Parses the sizes BODY_LIMIT and PREDICTION_LOG_MAX_BYTES accept (`100000`, `512kb`, `1mb`, `1.5mb`, `20gb`), with
 * Express' 1024-based units.
 * Throws on anything else, though the environment schema has rejected that already.
 */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (match === null) throw new Error(`not a byte size: "${text}"`);
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]);
}
