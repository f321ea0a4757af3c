/**
 * A KLL quantile sketch (Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams", 2016): a stack of
 * sorted buffers where level h holds values that each stand for 2^h of the values added. When the sketch is full,
 * the lowest full level is sorted and every other value (from a random start) moves up a level with twice the
 * weight. It holds about 3·k values whatever the count, and a rank it answers is off by about 2.3/k of the count
 * at 99 % confidence (the DataSketches figures; measured in the spec).
 *
 * The profile uses it only to guess where the deciles lie; `OrderStatisticSearch` then counts exactly around the
 * guesses, so an unlucky sketch costs another pass over the file, never a wrong edge.
 */
export class RankSketch {
  /** levels[h] holds values of weight 2^h; sizes[h] of its slots are used. */
  private levels: Float64Array[] = [];
  private sizes: number[] = [];
  private held = 0;
  private capacityTotal = 0;
  /** The sorted values and their running weights, until the next `add`. */
  private view?: { values: Float64Array; cumulative: Float64Array };
  private added = 0;
  private readonly random: () => number;

  constructor(
    /** The top level's capacity; lower levels hold two thirds of the one above, down to 2. */
    readonly k: number,
    seed = 0x5eed,
  ) {
    if (!Number.isInteger(k) || k < 8) throw new RangeError(`a rank sketch needs k ≥ 8, got ${k}`);
    this.random = seededRandom(seed);
    this.addLevel();
  }

  /** Values added so far. */
  get count(): number {
    return this.added;
  }

  /** Slots of 8 bytes its buffers take: what it costs in memory. */
  get allocatedValues(): number {
    return this.levels.reduce((sum, level) => sum + level.length, 0);
  }

  add(value: number): void {
    this.view = undefined;
    let bottom = this.levels[0];
    if (this.sizes[0] === bottom.length) {
      bottom = grow(bottom);
      this.levels[0] = bottom;
    }
    bottom[this.sizes[0]++] = value;
    this.held++;
    this.added++;
    if (this.held >= this.capacityTotal) this.compact();
  }

  /**
   * A value held by the sketch whose estimated rank (0-based: how many added values come before it in sorted
   * order) is the first to reach `rank`; ranks outside 0 … count−1 are clamped. The sketch must not be empty.
   */
  valueAtRank(rank: number): number {
    if (this.added === 0) throw new RangeError('an empty sketch has no ranks');
    const { values, cumulative } = this.sortedView();
    // The first held value whose cumulative weight passes the rank.
    let low = 0;
    let high = values.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] > rank) high = middle;
      else low = middle + 1;
    }
    return values[low];
  }

  /** Estimated number of added values below `value`. */
  rankOf(value: number): number {
    let rank = 0;
    this.levels.forEach((level, h) => {
      for (let i = 0; i < this.sizes[h]; i++) if (level[i] < value) rank += 2 ** h;
    });
    return rank;
  }

  /**
   * Every held value in order with the running total of the weights, made once after the last `add` (a search
   * asks for many ranks of the same sketch): each level sorted in place, then the levels merged.
   */
  private sortedView(): { values: Float64Array; cumulative: Float64Array } {
    if (this.view) return this.view;
    const values = new Float64Array(this.held);
    const cumulative = new Float64Array(this.held);
    const next = this.levels.map(() => 0);
    this.levels.forEach((level, h) => level.subarray(0, this.sizes[h]).sort());
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      let pick = -1;
      for (let h = 0; h < this.levels.length; h++) {
        if (next[h] < this.sizes[h] && (pick < 0 || this.levels[h][next[h]] < this.levels[pick][next[pick]]))
          pick = h;
      }
      values[i] = this.levels[pick][next[pick]++];
      total += 2 ** pick;
      cumulative[i] = total;
    }
    this.view = { values, cumulative };
    return this.view;
  }

  private capacity(level: number): number {
    const depth = this.levels.length - level - 1;
    return Math.max(2, Math.ceil(this.k * (2 / 3) ** depth));
  }

  private addLevel(): void {
    this.levels.push(new Float64Array(16));
    this.sizes.push(0);
    this.capacityTotal = this.levels.reduce((sum, _, h) => sum + this.capacity(h), 0);
  }

  /** Halves the lowest level that is over its capacity (the lazy KLL of Ivkin et al. 2019). */
  private compact(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const size = this.sizes[h];
      if (size < this.capacity(h)) continue;
      if (h === this.levels.length - 1) this.addLevel();
      const items = this.levels[h].subarray(0, size).sort();
      // An odd count leaves the smallest value where it is; of each following pair one value goes up.
      const start = size & 1;
      const offset = this.random() < 0.5 ? 0 : 1;
      let upper = this.levels[h + 1];
      let upperSize = this.sizes[h + 1];
      for (let i = start + offset; i < size; i += 2) {
        if (upperSize === upper.length) upper = grow(upper);
        upper[upperSize++] = items[i];
      }
      this.levels[h + 1] = upper;
      this.sizes[h + 1] = upperSize;
      this.sizes[h] = start;
      // A level above the first grew when it was the top one (capacity k); once levels above it have made its
      // capacity smaller, give the room back, or the sketch would keep about k slots per level, growing with the
      // log of the count. The first level keeps its buffer: it refills at once, so shrinking it at every
      // compaction would only churn memory.
      if (h > 0 && this.levels[h].length > 2 * this.capacity(h)) {
        const kept = new Float64Array(Math.max(16, this.capacity(h)));
        kept[0] = items[0];
        this.levels[h] = kept;
      }
      this.held -= size - start - (size - start) / 2;
      return;
    }
  }
}

function grow(values: Float64Array): Float64Array {
  const grown = new Float64Array(values.length * 2);
  grown.set(values);
  return grown;
}

/** mulberry32: the coin of each compaction, seeded so that a run is repeatable (the same passes every time). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
