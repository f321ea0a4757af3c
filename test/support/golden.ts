import { readFileSync } from 'node:fs';
import { FIXTURES } from './app';

export interface Golden {
  inputs: number[][];
  labels: number[];
  probabilities: number[][];
  logits?: number[][];
}

export function readGolden(name: 'seed_gbc_zipmap' | 'seed_torch_mlp'): Golden {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}.golden.json`, 'utf8')) as Golden;
}

/**
 * Absolute and relative tolerance together, as the fixtures' README advises for float32 outputs. A value missing
 * from an answer (an optional member of a response type) fails like any other mismatch.
 */
export function expectClose(
  actual: number | undefined,
  expected: number | undefined,
  tolerance = 1e-5,
): void {
  const allowed = tolerance + tolerance * Math.abs(expected ?? NaN);
  if (actual === undefined || expected === undefined || !(Math.abs(actual - expected) <= allowed)) {
    throw new Error(`expected ${actual} to be within ${allowed} of ${expected}`);
  }
}
