/**
 * How values are put into bins. The bins are frozen when the reference profile is built, so counts made at any
 * time, on any replica, add up exactly.
 *
 * - numeric: `edges` e_0 < … < e_{k−1} make k+1 bins: (−∞, e_0), [e_0, e_1), …, [e_{k−1}, +∞). The first and
 *   last bins are open-ended, so values outside the reference range are still counted.
 * - categorical: one bin per reference value, in `categories` order, and a last "other" bin for anything else.
 */
export type Binning =
  { kind: 'numeric'; edges: number[] } | { kind: 'categorical'; categories: Array<number | string> };

/** At most this many distinct reference values make a feature categorical. */
export const MAX_CATEGORIES = 20;

/** Reference deciles: 10 bins. */
export const QUANTILE_BINS = 10;

export function binCount(binning: Binning): number {
  return binning.kind === 'numeric' ? binning.edges.length + 1 : binning.categories.length + 1;
}

/** The bin a value falls in. */
export function binIndex(binning: Binning, value: number | string): number {
  return binFinder(binning)(value);
}

/**
 * `binIndex` for one binning, prepared once: the prediction log counts every row it records on the same bins, and a
 * prepared finder (a Map for categories, the edges captured for the binary search) costs a fraction of the
 * generic path per value.
 */
export function binFinder(binning: Binning): (value: number | string) => number {
  if (binning.kind === 'categorical') {
    const other = binning.categories.length;
    const index = new Map<number | string, number>();
    // The first of equal categories wins, as findIndex would pick it.
    binning.categories.forEach((category, i) => {
      if (!index.has(category)) index.set(category, i);
    });
    return (value) => index.get(value) ?? other;
  }
  const edges = binning.edges;
  // The bin is the number of edges the value is not below (NaN: all of them, the last bin). Counted one by one for
  // a profile's usual few edges: a binary search over live traffic's values mispredicts about every other branch,
  // and took twice as long over 9 edges as adding up the comparisons, which has no branch to mispredict.
  if (edges.length <= LINEAR_EDGES) {
    return (value) => {
      if (typeof value !== 'number') return edges.length;
      let bin = 0;
      for (let i = 0; i < edges.length; i++) bin += +!(value < edges[i]);
      return bin;
    };
  }
  return (value) => {
    if (typeof value !== 'number') return edges.length;
    // Binary search for the first edge greater than the value: that edge's index is the bin.
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (value < edges[middle]) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

/** Up to this many edges a value's bin is found by comparing it with each (see binFinder). */
const LINEAR_EDGES = 32;

/** Human-readable bin names for reports: `< 0.12`, `0.12 – 0.5`, `≥ 2.3`, a category, `other`. */
export function binLabels(binning: Binning): string[] {
  if (binning.kind === 'categorical') return [...binning.categories.map(String), 'other'];
  const { edges } = binning;
  if (edges.length === 0) return ['all'];
  const f = formatNumber;
  return [
    `< ${f(edges[0])}`,
    ...edges.slice(1).map((edge, i) => `${f(edges[i])} – ${f(edge)}`),
    `≥ ${f(edges[edges.length - 1])}`,
  ];
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

/**
 * Decile edges from sorted values: the k-th edge sits halfway between the values at ranks ⌊k·n/10⌋ − 1 and
 * ⌊k·n/10⌋, so with distinct values each bin holds a tenth of the reference exactly. Repeated values can make
 * neighbouring edges equal; duplicates are dropped, leaving fewer (wider) bins rather than empty ones.
 */
export function quantileEdges(sorted: ArrayLike<number>, bins = QUANTILE_BINS): number[] {
  if (sorted.length === 0) return [];
  return quantileCuts(sorted.length, (rank) => sorted[rank], sorted[0], bins).map((cut) => cut.edge);
}

/** A decile edge and the cut rank it was set at: it lies between the values at ranks `rank − 1` and `rank`. */
export interface QuantileCut {
  edge: number;
  rank: number;
}

/** The cut ranks ⌊k·n/bins⌋ strictly inside 0 … n: an edge needs the values at the rank and the one before. */
export function quantileCutRanks(n: number, bins = QUANTILE_BINS): number[] {
  const ranks: number[] = [];
  for (let k = 1; k < bins; k++) {
    const rank = Math.floor((k * n) / bins);
    if (rank > 0 && rank < n) ranks.push(rank);
  }
  return ranks;
}

/**
 * `quantileEdges` from order statistics rather than a sorted array, for a column too large to hold:
 * `valueAt(rank)` is the value at a 0-based rank (asked only for the ranks around `quantileCutRanks`), `min` the
 * smallest value. The same arithmetic, so both give the same edges to the bit.
 */
export function quantileCuts(
  n: number,
  valueAt: (rank: number) => number,
  min: number,
  bins = QUANTILE_BINS,
): QuantileCut[] {
  const cuts: QuantileCut[] = [];
  for (const rank of quantileCutRanks(n, bins)) {
    const edge = (valueAt(rank - 1) + valueAt(rank)) / 2;
    // A tie across the cut leaves the edge on a value; values equal to it go to the upper bin.
    if (cuts.length === 0 || edge > cuts[cuts.length - 1].edge) cuts.push({ edge, rank });
  }
  // An edge at or below the minimum would leave the first bin empty by construction.
  return cuts.filter((cut) => cut.edge > min);
}

/** Categorical when there are few distinct values: numbers sort numerically, strings by code point. */
export function categoricalBinning(distinct: Iterable<number | string>): Binning {
  const categories = [...distinct].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1,
  );
  return { kind: 'categorical', categories };
}
