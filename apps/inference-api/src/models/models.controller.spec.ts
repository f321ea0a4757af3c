import type { Prediction, PredictionResult, ServedModel } from '@app/inference';
import { kservePredictResponse, kservePredictResponseJson } from './models.controller';

const result = (predictions: Prediction[], name = 'seed_gbc', version = '1'): PredictionResult => ({
  model: { name, version } as ServedModel,
  predictions,
  latencyMs: 1,
});

const klass = (label: number | string, probabilities: Record<string, number>): Prediction => ({
  task: 'classification',
  label,
  probability: probabilities[String(label)],
  probabilities,
});

describe('kservePredictResponseJson', () => {
  it.each([
    [
      'integer labels',
      result([klass(1, { 0: 0.05522730201482773, 1: 0.9447726979851723 }), klass(0, { 0: 1, 1: 0 })]),
    ],
    // Integer-like keys come first and ascending in a JavaScript object, whatever the order they were set in.
    ['labels whose key order is not insertion order', result([klass('b', { b: 0.5, 10: 0.25, 2: 0.25 })])],
    [
      'string labels needing escapes, row after row',
      result([
        klass('set"osa\u2028', { 'set"osa\u2028': 0.75, x: 0.25 }),
        klass('x', { 'set"osa\u2028': 0.125, x: 0.875 }),
      ]),
    ],
    ['non-finite scores', result([klass(0, { 0: Number.NaN, 1: Infinity })])],
    [
      'a regressor',
      result([
        { task: 'regression', value: -2.5e-7 },
        { task: 'regression', value: [1, Infinity] },
      ]),
    ],
    ['an odd model name', result([{ task: 'regression', value: 3 }], 'm"\\odel', 'v"2')],
  ])('writes what JSON.stringify writes of the answer for %s', (_, answered) => {
    expect(kservePredictResponseJson(answered)).toBe(JSON.stringify(kservePredictResponse(answered)));
  });
});
