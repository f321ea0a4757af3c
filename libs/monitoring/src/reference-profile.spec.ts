import { seededRandom } from '../../../test/support/onnx-model-builder';
import { SearchLimits, UNBOUNDED_SEARCH } from './order-statistics';
import {
  ObservedOutput,
  ProfiledModel,
  ReferenceProfile,
  ReferenceProfileBuilder,
} from './reference-profile';

/** Small windows, so a few thousand rows take the bounded path's further passes. */
const SMALL: SearchLimits = { windowCapacity: 512, sketchSize: 64, margin: 3 };

interface Row {
  values: Array<number | null>;
  output?: ObservedOutput;
}

/** Rows of a skewed, a heavy-tailed, a constant and a few-valued feature, some incomplete, with an answer each. */
function trainingRows(count: number, answer: (values: number[]) => ObservedOutput): Row[] {
  const random = seededRandom(5);
  return Array.from({ length: count }, (_, i) => {
    const values = [
      Math.exp(2 * (random() - 0.5) + random()),
      Math.tan(Math.PI * (random() - 0.5)),
      7,
      Math.floor(random() * 4),
    ];
    if (i % 97 === 0) return { values: [values[0], null, values[2], values[3]] };
    return { values, output: answer(values) };
  });
}

const MODEL: ProfiledModel = {
  name: 'm',
  version: '1',
  features: ['skewed', 'heavy', 'constant', 'few'],
  task: 'classification',
  labels: [0, 1],
};
const classify = (values: number[]): ObservedOutput => {
  const p = 1 / (1 + Math.exp(-values[1]));
  return { prediction: p >= 0.5 ? 1 : 0, probability: Math.max(p, 1 - p) };
};

/** The CLI's loop: a first pass with the answers, then the features and the kept scores until done. */
function profileInPasses(model: ProfiledModel, rows: Row[], limits: SearchLimits) {
  const builder = new ReferenceProfileBuilder(model, limits);
  const scores: number[] = [];
  for (const { values, output } of rows) {
    if (!output) builder.addIncompleteRow(values);
    else {
      builder.addRow(values as number[], output);
      const score = builder.scoreOf(output);
      if (score !== undefined) scores.push(score);
    }
  }
  const passes: Array<{ number: number; needsScores: boolean }> = [];
  for (let pass = builder.nextPass(); pass; pass = builder.nextPass()) {
    passes.push({ number: pass.number, needsScores: pass.needsScores });
    // Rows in another order than the first pass: only the values matter.
    for (let i = rows.length - 1; i >= 0; i--) pass.addFeatures(rows[i].values);
    if (pass.needsScores) scores.forEach((score) => pass.addScore(score));
  }
  return { profile: builder.build({ file: 'rows' }, new Date(0)), passes, builder };
}

/** As written to reference.json. */
const json = (profile: ReferenceProfile) => JSON.stringify(profile);

describe('ReferenceProfileBuilder in passes', () => {
  const rows = trainingRows(6000, classify);

  it('builds the very profile that holding every value builds, reading the rows again while it must', () => {
    const bounded = profileInPasses(MODEL, rows, SMALL);
    const exact = profileInPasses(MODEL, rows, UNBOUNDED_SEARCH);
    expect(exact.passes).toEqual([]);
    expect(bounded.passes.length).toBeGreaterThan(0);
    expect(bounded.passes[0]).toEqual({ number: 2, needsScores: true });
    expect(json(bounded.profile)).toBe(json(exact.profile));
    const [skewed, heavy, constant, few] = bounded.profile.features;
    expect([skewed.kind, heavy.kind, constant.kind, few.kind]).toEqual([
      'numeric',
      'numeric',
      'categorical',
      'categorical',
    ]);
    expect(heavy.nulls).toBe(Math.ceil(6000 / 97));
    expect(bounded.profile.prediction.score.kind).toBe('numeric');
  });

  it('leaves the scores alone when only features need another pass', () => {
    // A regressor that always answers the same: its one value makes the score column categorical.
    const regressor: ProfiledModel = { ...MODEL, task: 'regression', labels: undefined };
    const { passes, profile } = profileInPasses(
      regressor,
      trainingRows(3000, () => ({ prediction: 2.5 })),
      SMALL,
    );
    expect(passes.length).toBeGreaterThan(0);
    expect(passes.every((pass) => !pass.needsScores)).toBe(true);
    expect(profile.prediction.score).toMatchObject({ kind: 'categorical', categories: [2.5] });
  });

  it('needs one pass for rows that fit its windows, and says so again when asked', () => {
    const { passes, builder } = profileInPasses(MODEL, rows.slice(0, 400), SMALL);
    expect(passes).toEqual([]);
    expect(builder.nextPass()).toBeUndefined();
  });

  it('refuses to build before the passes it asked for', () => {
    const builder = new ReferenceProfileBuilder(MODEL, SMALL);
    for (const { values, output } of rows) {
      if (output) builder.addRow(values as number[], output);
      else builder.addIncompleteRow(values);
    }
    expect(() => builder.build({ file: 'rows' })).toThrow(/read again/);
  });
});
