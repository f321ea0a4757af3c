import type { AnsweredBatch, TensorRows } from '@app/inference';

/** Flat row-major values cut into rows of `width`. */
export function rowsOfValues(values: ArrayLike<number>, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, row) =>
    Array.from({ length: width }, (_, column) => values[row * width + column]),
  );
}

/** The rows either form of TensorRows holds: rows as they are, or the float32 values cut into rows of `width`. */
export function rowsIn(tensor: TensorRows, width: number): unknown[][] {
  return tensor.float32 === undefined ? tensor.rows : rowsOfValues(tensor.values, width);
}

/** Rows as an AnsweredBatch holds them: one flat array of doubles and the row width. */
export function answeredFeatures(
  rows: readonly number[][],
): Pick<AnsweredBatch, 'features' | 'featureCount'> {
  return { features: Float64Array.from(rows.flat()), featureCount: rows[0]?.length ?? 0 };
}
