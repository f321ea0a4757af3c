import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { seededRandom } from './onnx-model-builder';

/** The default model's training data (test/fixtures/seed_train.csv): columns f0…f9 and label. */
export const SEED_TRAIN_CSV = resolve(__dirname, '../fixtures/seed_train.csv');

export function seedTrainingRows(): number[][] {
  const [, ...lines] = readFileSync(SEED_TRAIN_CSV, 'utf8').trim().split('\n');
  return lines.map((line) => line.split(',').slice(0, 10).map(Number));
}

/** `count` rows drawn with replacement from the training rows. */
export function sampleRows(rows: readonly number[][], count: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => [...rows[Math.floor(random() * rows.length)]]);
}

export function standardDeviations(rows: readonly number[][]): number[] {
  return rows[0].map((_, j) => {
    const mean = rows.reduce((sum, row) => sum + row[j], 0) / rows.length;
    return Math.sqrt(rows.reduce((sum, row) => sum + (row[j] - mean) ** 2, 0) / (rows.length - 1));
  });
}

/** The rows with the chosen features moved by `stds` of their training standard deviation. */
export function shiftFeatures(
  rows: readonly number[][],
  features: number[],
  stds: number,
  reference: readonly number[][],
) {
  const sd = standardDeviations(reference);
  return rows.map((row) => row.map((value, j) => (features.includes(j) ? value + stds * sd[j] : value)));
}
