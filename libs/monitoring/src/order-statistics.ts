// Exact order statistics of a column in bounded memory: a rank sketch guesses a window around each wanted rank, a
// second pass keeps only the values inside it. One algorithm, its limits and its fall-backs; longer than 300 lines
// because each step carries the reasoning that makes it exact.
import { RankSketch } from './rank-sketch';

/**
 * The value at a rank of a column's sorted values, and how many values are smaller than it (fewer than the rank
 * when the value repeats): enough to count the values below an edge set between two neighbouring ranks.
 */
export interface OrderStatistic {
  value: number;
  below: number;
}

/** How much a search may hold per window, and how it guesses. */
export interface SearchLimits {
  /** Values a window keeps before it summarises the rest in a sketch; Infinity keeps every value (one pass). */
  windowCapacity: number;
  /** The sketch's k (`RankSketch`): it holds about 3·k values and misses a rank by about 1/k of its count. */
  sketchSize: number;
  /**
   * How far beyond its target a window reaches, in sketch errors of 1/k of the count. Measured misses were at most
   * 1.2/k (the spec checks that they stay below 3/k), so 3 leaves room; a miss only costs a pass.
   */
  margin: number;
}

/**
 * The profile's default: 32 768 values (256 KB) per window and a sketch of k = 8192 (200 to 400 KB). The first
 * pass pins files of up to 32 768 values down at once; a second pass's windows hold about 6/k of the count each,
 * so two passes suffice up to about 40 M rows and each further pass multiplies that by about 1,000.
 */
export const BOUNDED_SEARCH: SearchLimits = { windowCapacity: 1 << 15, sketchSize: 8192, margin: 3 };

/** Every value kept, as the profile was built before it streamed: one pass, 8 bytes a value. */
export const UNBOUNDED_SEARCH: SearchLimits = { windowCapacity: Infinity, sketchSize: 8192, margin: 3 };

/** One end of a window: values equal to `value` are inside when `closed`. */
interface Bound {
  value: number;
  closed: boolean;
}

const OPEN_BELOW: Bound = { value: -Infinity, closed: false };
const OPEN_ABOVE: Bound = { value: Infinity, closed: false };

/**
 * A range of values watched during one pass: it counts (exactly) the values below it and at each closed end, and
 * keeps the values strictly inside, up to a capacity past which it feeds them to a sketch instead. A run of equal
 * values at an end is counted rather than kept, so a column of few distinct values does not fill it.
 */
class RankWindow {
  below = 0;
  atLow = 0;
  atHigh = 0;
  innerCount = 0;
  private inner: Float64Array;
  private sketch?: RankSketch;
  private sorted?: Float64Array;

  constructor(
    readonly low: Bound,
    readonly high: Bound,
    private readonly limits: SearchLimits,
  ) {
    this.inner = new Float64Array(Math.min(1024, limits.windowCapacity));
  }

  add(value: number): void {
    const { low, high } = this;
    if (value < low.value || (value === low.value && !low.closed)) {
      this.below++;
      return;
    }
    if (value > high.value || (value === high.value && !high.closed)) return;
    if (value === low.value) {
      this.atLow++;
      return;
    }
    if (value === high.value) {
      this.atHigh++;
      return;
    }
    if (this.sketch) {
      this.innerCount++;
      this.sketch.add(value);
      return;
    }
    if (this.innerCount === this.inner.length) {
      if (this.innerCount >= this.limits.windowCapacity) {
        // Over capacity: what was kept goes into a sketch, and the buffer is given back.
        this.sketch = new RankSketch(this.limits.sketchSize);
        for (let i = 0; i < this.innerCount; i++) this.sketch.add(this.inner[i]);
        this.inner = new Float64Array(0);
        this.innerCount++;
        this.sketch.add(value);
        return;
      }
      const grown = new Float64Array(Math.min(this.inner.length * 2, this.limits.windowCapacity));
      grown.set(this.inner);
      this.inner = grown;
    }
    this.inner[this.innerCount++] = value;
  }

  /** Slots of 8 bytes its buffers take. */
  get allocatedValues(): number {
    return this.inner.length + (this.sketch?.allocatedValues ?? 0);
  }

  /** The sketch of the inner values, when there were more than the window could keep. */
  get overflow(): RankSketch | undefined {
    return this.sketch;
  }

  /** The order statistic at a rank (global, 0-based) that falls on this window's kept values or its ends. */
  statisticAt(rank: number): OrderStatistic {
    if (rank < this.below + this.atLow) return { value: this.low.value, below: this.below };
    const inner = rank - this.below - this.atLow;
    if (inner >= this.innerCount)
      return { value: this.high.value, below: this.below + this.atLow + this.innerCount };
    this.sorted ??= this.inner.subarray(0, this.innerCount).sort();
    const value = this.sorted[inner];
    return { value, below: this.below + this.atLow + firstIndexOf(this.sorted, value) };
  }
}

/** Index of the first element not less than `value` in sorted values. */
function firstIndexOf(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A rank being looked for: the window watching for it this pass, and a range of values known to hold it. */
interface Target {
  rank: number;
  window: RankWindow;
  /** Its value lies strictly inside (open) or within (closed) these; counted in an earlier pass. */
  region: { low: Bound; high: Bound };
}

/**
 * Finds exact order statistics of a column that is read several times in the same order, in memory that does not
 * depend on the number of values. The first pass keeps up to `windowCapacity` values; a column that fits is
 * answered from them at once, exactly as sorting the whole column would. A larger one is summarised in a
 * `RankSketch`, which guesses a narrow range of values around each wanted rank. The next pass counts the values
 * below each range exactly and keeps those inside it, so the wanted rank's value is read off the sorted range; a
 * range the guess missed (or one still too full) is narrowed again in a further pass. The answers are exact
 * whatever the sketch does; its accuracy only decides how many passes there are.
 *
 * Memory: per column, at most one window per wanted rank (two ranks per decile edge share one), each holding at
 * most `windowCapacity` values plus a sketch; it grows with the number of columns and wanted ranks, not rows.
 */
export class OrderStatisticSearch {
  private targets: Target[] = [];
  private windows: RankWindow[];
  private readonly found = new Map<number, OrderStatistic>();
  private total = 0;
  private seen = 0;
  private passes = 0;

  constructor(
    /** The ranks (0-based, each in 0 … count−1) wanted, once the first pass has counted the values. */
    private readonly wanted: (count: number) => number[],
    private readonly limits: SearchLimits = BOUNDED_SEARCH,
  ) {
    if (!(limits.windowCapacity >= 64 && limits.sketchSize > 4 * limits.margin && limits.margin >= 0))
      throw new RangeError('a search needs windows of at least 64 values and a sketch size above 4 × margin');
    this.windows = [new RankWindow(OPEN_BELOW, OPEN_ABOVE, limits)];
  }

  /** Values counted in the first pass. */
  get count(): number {
    return this.total;
  }

  /** Passes finished so far. */
  get passesDone(): number {
    return this.passes;
  }

  /** Slots of 8 bytes the windows and sketches of this pass take: bounded by the limits, not the count. */
  get allocatedValues(): number {
    return this.windows.reduce((sum, window) => sum + window.allocatedValues, 0);
  }

  /** True once every wanted rank is known. */
  get done(): boolean {
    return this.passes > 0 && this.targets.length === 0;
  }

  /** Each value of the column, in every pass the same values (their order may differ). */
  add(value: number): void {
    this.seen++;
    const windows = this.windows;
    for (let i = 0; i < windows.length; i++) windows[i].add(value);
  }

  /** Ends a pass; returns true when every wanted rank is known, false when another pass is needed. */
  endPass(): boolean {
    if (this.passes === 0) {
      this.total = this.seen;
      const [whole] = this.windows;
      const region = { low: OPEN_BELOW, high: OPEN_ABOVE };
      this.targets = [...new Set(this.wanted(this.total))]
        .sort((a, b) => a - b)
        .map((rank) => {
          if (!Number.isInteger(rank) || rank < 0 || rank >= this.total)
            throw new RangeError(`rank ${rank} is outside 0 … ${this.total - 1}`);
          return { rank, window: whole, region };
        });
    } else if (this.seen !== this.total) {
      throw new Error(
        `the column held ${this.total} values in the first pass and ${this.seen} in pass ${this.passes + 1}: ` +
          'the data changed between passes',
      );
    }
    this.passes++;
    this.seen = 0;

    const fromSketch = new Map<RankWindow, Target[]>();
    const regions = new Map<string, Target[]>();
    for (const target of this.targets) {
      const { rank, window, region } = target;
      const inner = rank - window.below - window.atLow;
      if (rank < window.below) {
        // Below a guessed window: between the region's low end and the window's.
        target.region = { low: region.low, high: { value: window.low.value, closed: !window.low.closed } };
        groupBy(regions, target);
      } else if (inner >= window.innerCount + window.atHigh) {
        target.region = { low: { value: window.high.value, closed: !window.high.closed }, high: region.high };
        groupBy(regions, target);
      } else if (inner >= 0 && inner < window.innerCount && window.overflow) {
        const list = fromSketch.get(window) ?? [];
        list.push(target);
        fromSketch.set(window, list);
      } else {
        this.found.set(rank, window.statisticAt(rank));
      }
    }

    const next: Target[] = [];
    const windows: RankWindow[] = [];
    for (const group of regions.values()) {
      const { low, high } = group[0].region;
      if (low.value > high.value || (low.value === high.value && !(low.closed && high.closed)))
        throw new Error(`internal: rank ${group[0].rank} was placed in an empty range of values`);
      const window = new RankWindow(low, high, this.limits);
      windows.push(window);
      for (const target of group) next.push({ ...target, window });
    }
    for (const [window, group] of fromSketch) {
      for (const { targets, low, high } of this.guesses(window, group)) {
        const guess = new RankWindow(low, high, this.limits);
        windows.push(guess);
        for (const target of targets) next.push({ ...target, window: guess });
      }
    }
    this.targets = next;
    this.windows = windows;
    return next.length === 0;
  }

  /** The value at a wanted rank, once `endPass` has returned true. */
  at(rank: number): OrderStatistic {
    const statistic = this.found.get(rank);
    if (!statistic) throw new Error(`rank ${rank} was not wanted or is not known yet`);
    return statistic;
  }

  /**
   * Narrow windows around the ranks that fell among an overflowing window's inner values, read off its sketch:
   * each reaches `margin` sketch errors beyond its ranks, and ranks whose reaches overlap share a window.
   */
  private guesses(window: RankWindow, targets: Target[]) {
    const sketch = window.overflow!;
    const count = window.innerCount;
    const reach = Math.ceil((this.limits.margin * count) / this.limits.sketchSize) + 1;
    const offset = window.below + window.atLow;
    // The inner values lie strictly between the window's ends.
    const region = {
      low: { value: window.low.value, closed: false },
      high: { value: window.high.value, closed: false },
    };
    // Ranks within one reach of a group's first rank join it (the two ranks of an edge always do); a group never
    // spans more than three reaches, so with k > 4·margin each window is narrower than the range it came from and
    // every pass leaves fewer values in play.
    const groups: Array<{ targets: Target[]; first: number; from: number; to: number }> = [];
    for (const target of [...targets].sort((a, b) => a.rank - b.rank)) {
      const inner = target.rank - offset;
      const last = groups[groups.length - 1];
      if (last && inner - last.first <= reach) {
        last.targets.push(target);
        last.to = inner + reach;
      } else groups.push({ targets: [target], first: inner, from: inner - reach, to: inner + reach });
    }
    return groups.map(({ targets: members, from, to }) => ({
      targets: members.map((target) => ({ ...target, region })),
      low: from <= 0 ? region.low : { value: sketch.valueAtRank(from), closed: true },
      high: to >= count - 1 ? region.high : { value: sketch.valueAtRank(to), closed: true },
    }));
  }
}

function groupBy(groups: Map<string, Target[]>, target: Target): void {
  const { low, high } = target.region;
  const key = `${low.value}${low.closed ? '[' : '('}${high.value}${high.closed ? ']' : ')'}`;
  const list = groups.get(key) ?? [];
  list.push(target);
  groups.set(key, list);
}
