import { seededRandom } from '../../../test/support/onnx-model-builder';
import {
  binIndex,
  Binning,
  categoricalBinning,
  MAX_CATEGORIES,
  quantileCutRanks,
  quantileEdges,
} from './binning';
import { BOUNDED_SEARCH, OrderStatisticSearch, SearchLimits } from './order-statistics';
import { sharesOf } from './psi';
import { RankSketch } from './rank-sketch';
import { ColumnAccumulator, DistributionProfile } from './reference-profile';

/** Ways to draw a value, in the shapes that break naive binning: skewed, heavy-tailed, constant, few values, ties. */
const SHAPES: Array<[string, (random: () => number) => () => number]> = [
  ['lognormal (skewed)', (random) => () => Math.exp(1.5 * normal(random))],
  ['Cauchy (heavy-tailed)', (random) => () => Math.tan(Math.PI * (random() - 0.5))],
  ['Pareto, alpha 1.1 (heavy-tailed)', (random) => () => 1 / positive(random) ** (1 / 1.1)],
  ['constant', () => () => 4.2],
  ['5 distinct values', (random) => () => Math.floor(random() * 5)],
  ['30 distinct values, unequal weights', (random) => () => Math.floor(30 * random() ** 2)],
  ['half zeros, half lognormal', (random) => () => (random() < 0.5 ? 0 : Math.exp(normal(random)))],
  ['normal rounded to 0.01 (many ties)', (random) => () => Math.round(normal(random) * 100) / 100],
  ['tiny spread around 1000', (random) => () => 1000 + random() * 1e-9],
];

const positive = (random: () => number) => random() || 0.5 ** 32;
const normal = (random: () => number) =>
  Math.sqrt(-2 * Math.log(positive(random))) * Math.cos(2 * Math.PI * random());

/** A column of n values of each shape (or of the shapes named). */
function columns(n: number, seed = 1, names?: string[]): Array<[string, Float64Array]> {
  return SHAPES.filter(([name]) => !names || names.includes(name)).map(([name, shape]) => {
    const draw = shape(seededRandom(seed));
    return [name, Float64Array.from({ length: n }, draw)];
  });
}

const sortedCopy = (values: Float64Array) => values.slice().sort();

/** First index of `value` in sorted values and the index past its last: the ranks it occupies. */
function ranksOf(sorted: Float64Array, value: number): [number, number] {
  const search = (strict: boolean) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (sorted[middle] < value || (!strict && sorted[middle] === value)) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return [search(true), search(false)];
}

/** The profile the way it was always made: every value held, sorted, edges read off, then each value binned. */
function exactProfile(name: string, values: Float64Array): DistributionProfile {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  const distinct = new Set<number>();
  let mean = 0;
  let m2 = 0;
  values.forEach((value, i) => {
    if (distinct.size <= MAX_CATEGORIES) distinct.add(value);
    const delta = value - mean;
    mean += delta / (i + 1);
    m2 += delta * (value - mean);
  });
  const binning: Binning =
    distinct.size <= MAX_CATEGORIES
      ? categoricalBinning(distinct)
      : { kind: 'numeric', edges: quantileEdges(sorted) };
  const counts = new Array<number>(
    binning.kind === 'numeric' ? binning.edges.length + 1 : distinct.size + 1,
  ).fill(0);
  for (const value of sorted) counts[binIndex(binning, value)]++;
  return {
    name,
    ...binning,
    counts,
    shares: sharesOf(counts),
    count: n,
    nulls: 0,
    mean,
    std: Math.sqrt(m2 / (n - 1)),
    min: sorted[0],
    max: sorted[n - 1],
  };
}

/**
 * Runs a search over a column, revisiting the values (in reverse: the order must not matter) until done, and
 * notes the most memory its windows and sketches took (looked at every 256 values).
 */
function search(values: Float64Array, limits: SearchLimits) {
  const decileRanks = (count: number) => quantileCutRanks(count).flatMap((rank) => [rank - 1, rank]);
  const found = new OrderStatisticSearch(decileRanks, limits);
  let peak = 0;
  const add = (i: number) => {
    found.add(values[i]);
    if ((i & 255) === 0) peak = Math.max(peak, found.allocatedValues);
  };
  for (let i = 0; i < values.length; i++) add(i);
  while (!found.endPass()) for (let i = values.length - 1; i >= 0; i--) add(i);
  return { found, ranks: decileRanks(values.length), peak };
}

describe('RankSketch', () => {
  const n = 200_000;

  it.each(columns(n))(
    'places each decile of a %s column within 0.1 percentage point of rank at the profile size (k = 8192)',
    (_, values) => {
      const sketch = new RankSketch(BOUNDED_SEARCH.sketchSize);
      values.forEach((value) => sketch.add(value));
      const sorted = sortedCopy(values);
      expect(sketch.count).toBe(n);
      for (const rank of quantileCutRanks(n)) {
        const [first, past] = ranksOf(sorted, sketch.valueAtRank(rank));
        // A value repeated across the rank is exactly right; otherwise, how far its ranks are from the wanted one.
        const miss = rank < first ? first - rank : rank >= past ? rank - past + 1 : 0;
        expect(miss / n).toBeLessThanOrEqual(0.001);
      }
    },
  );

  it('misses by less than the margin the search allows (3/k of the count), over seeds and shapes', () => {
    const k = 128;
    let worst = 0;
    for (let seed = 1; seed <= 3; seed++) {
      for (const [, values] of columns(30_000, seed)) {
        const sketch = new RankSketch(k, seed);
        values.forEach((value) => sketch.add(value));
        const sorted = sortedCopy(values);
        for (const rank of quantileCutRanks(values.length)) {
          const [first, past] = ranksOf(sorted, sketch.valueAtRank(rank));
          const miss = rank < first ? first - rank : rank >= past ? rank - past + 1 : 0;
          worst = Math.max(worst, (miss / values.length) * k);
        }
      }
    }
    expect(worst).toBeGreaterThan(0); // a sketch this small does miss: the check has teeth
    expect(worst).toBeLessThan(BOUNDED_SEARCH.margin);
  });

  it('is exact while it holds every value', () => {
    const sketch = new RankSketch(64);
    const values = [5, 3, 9, 1, 7, 3];
    values.forEach((value) => sketch.add(value));
    expect([0, 1, 2, 3, 4, 5].map((rank) => sketch.valueAtRank(rank))).toEqual([1, 3, 3, 5, 7, 9]);
    expect(sketch.rankOf(5)).toBe(3);
  });
});

describe('OrderStatisticSearch', () => {
  const n = 30_000;
  const data = columns(n);

  /** Each wanted rank's value and the count below it, against the sorted column. */
  const expectExact = (values: Float64Array, result: ReturnType<typeof search>) => {
    const sorted = sortedCopy(values);
    for (const rank of result.ranks) {
      const { value, below } = result.found.at(rank);
      // + 0 makes −0 and 0 one value, as they are to the profile (JSON writes both as 0) and to `===`.
      expect(value + 0).toBe(sorted[rank] + 0);
      expect(below).toBe(ranksOf(sorted, value)[0]);
    }
  };

  it.each(data)(
    'finds the exact deciles of a %s column in two passes when the sketch is sized for it',
    (_, values) => {
      const result = search(values, { windowCapacity: 4096, sketchSize: 64, margin: 3 });
      expectExact(values, result);
      expect(result.found.passesDone).toBe(2);
    },
  );

  it.each(data)('narrows over more passes when windows overflow: %s', (_, values) => {
    // Guesses reach 3·30 000/16 ≈ 5 600 ranks, far more than a window keeps: each pass narrows by about k.
    const result = search(values, { windowCapacity: 300, sketchSize: 16, margin: 3 });
    expectExact(values, result);
    expect(result.peak).toBeLessThanOrEqual(18 * (300 + 6 * 16 * 2));
  });

  it.each(columns(10_000, 2))('recovers from guesses that miss (no margin at all): %s', (_, values) => {
    const result = search(values, { windowCapacity: 500, sketchSize: 32, margin: 0 });
    expectExact(values, result);
  });

  it('misses and recovers in the no-margin case, at a cost of passes', () => {
    const [, lognormal] = data[0];
    const withMargin = search(lognormal, { windowCapacity: 2000, sketchSize: 32, margin: 3 });
    const without = search(lognormal, { windowCapacity: 2000, sketchSize: 32, margin: 0 });
    expect(without.found.passesDone).toBeGreaterThan(withMargin.found.passesDone);
  });

  it('answers a column that fits in one pass, as sorting it would', () => {
    const [, values] = data[0];
    const small = values.subarray(0, 1000);
    const result = search(small, BOUNDED_SEARCH);
    expect(result.found.passesDone).toBe(1);
    expectExact(small, result);
  });

  it('holds a fixed amount whatever the count: under 1 MB for 1 000 000 values (8 MB held as they are)', () => {
    const [[, values]] = columns(1_000_000, 1, ['lognormal (skewed)']);
    const run = search(values, BOUNDED_SEARCH);
    expectExact(values, run);
    expect(run.found.passesDone).toBe(2);
    // The first pass's window (32 768 values), then its sketch: about 3·k values in buffers that at most double.
    const { windowCapacity, sketchSize } = BOUNDED_SEARCH;
    expect(run.peak).toBeLessThanOrEqual(windowCapacity + 6 * sketchSize);
    expect(run.peak * 8).toBeLessThan(1 << 20);
  });

  it('refuses a pass whose values differ in number from the first', () => {
    const [, values] = data[0];
    const found = new OrderStatisticSearch((count) => [count >> 1], {
      ...BOUNDED_SEARCH,
      windowCapacity: 100,
    });
    values.forEach((value) => found.add(value));
    expect(found.endPass()).toBe(false);
    values.subarray(1).forEach((value) => found.add(value));
    expect(() => found.endPass()).toThrow(/30000 values in the first pass and 29999 in pass 2/);
  });
});

describe('ColumnAccumulator with bounded memory', () => {
  const n = 40_000;
  const limits: SearchLimits = { windowCapacity: 1024, sketchSize: 128, margin: 3 };

  it.each(columns(n, 7))(
    'profiles a %s column exactly as holding every value does: edges, counts, statistics',
    (name, values) => {
      const column = new ColumnAccumulator(name, undefined, limits);
      values.forEach((value) => column.add(value));
      let passes = 1;
      while (!column.endPass()) {
        passes++;
        values.forEach((value) => column.revisit(value));
      }
      // Compared as written to reference.json, where −0 and 0 are both 0.
      const json = (profile: DistributionProfile) =>
        JSON.parse(JSON.stringify(profile)) as DistributionProfile;
      const profile = column.finish();
      expect(json(profile)).toEqual(json(exactProfile(name, values)));
      // Categorical columns are done after one pass; numeric ones here need more than one.
      expect(passes > 1).toBe(profile.kind === 'numeric');
    },
  );
});
