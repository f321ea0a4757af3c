// The reference profile (reference.json): its format, the builder that makes one from training data in two passes
// (column accumulators, then exact bin edges), and its parser. One file because the format, the code that writes it
// and the code that reads it change together.
import type { ServedModel } from '@app/inference';
import { createHash } from 'node:crypto';
import {
  Binning,
  binCount,
  binFinder,
  categoricalBinning,
  MAX_CATEGORIES,
  quantileCutRanks,
  quantileCuts,
} from './binning';
import { OrderStatisticSearch, SearchLimits, UNBOUNDED_SEARCH } from './order-statistics';
import { sharesOf } from './psi';

export const PROFILE_FORMAT = 'ml-inference/reference-profile@1';

/** One distribution of the reference: its frozen bins, how the reference filled them, and summary statistics. */
export type DistributionProfile = Binning & {
  name: string;
  /** Reference rows per bin, and the same as shares of `count`. */
  counts: number[];
  shares: number[];
  /** Non-null values seen. */
  count: number;
  nulls: number;
  /** Over numeric values; null when there were none. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
};

/** What the model answered on the reference rows. */
export interface OutputProfile {
  task: 'classification' | 'regression';
  /** Classifiers: predicted-label shares, one bin per class the model knows (and "other"). */
  labels?: DistributionProfile;
  /**
   * Classifiers: the probability of `positive_label` (binary) or of the predicted class (multiclass);
   * regressors: the predicted value (the first target of a multi-output model). In reference deciles.
   */
  score: DistributionProfile;
  positive_label?: string;
}

/** `reference.json` beside `model.onnx`: the training distribution that drift is measured against. */
export interface ReferenceProfile {
  format: typeof PROFILE_FORMAT;
  model: string;
  version: string;
  created_at: string;
  source: { file: string; rows: number; skipped_rows: number; label_column?: string };
  features: DistributionProfile[];
  prediction: OutputProfile;
}

/** The prediction as both the profile builder and the prediction log see it. */
export interface ObservedOutput {
  /** Label for a classifier, value (or values) for a regressor. */
  prediction: number | string | number[];
  /** Probability of the predicted label (classifiers). */
  probability?: number;
}

/** The score an output contributes to the `score` distribution; undefined when it has none. */
export function scoreOf(
  output: ObservedOutput,
  prediction: Pick<OutputProfile, 'task' | 'positive_label'>,
): number | undefined {
  return scoreFrom(output.prediction, output.probability, prediction);
}

/** `scoreOf` from the output's parts, for a caller that has no ObservedOutput at hand and need not make one. */
export function scoreFrom(
  answer: ObservedOutput['prediction'],
  probability: number | undefined,
  prediction: Pick<OutputProfile, 'task' | 'positive_label'>,
): number | undefined {
  if (prediction.task === 'regression') {
    const value = Array.isArray(answer) ? answer[0] : answer;
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }
  if (typeof probability !== 'number' || !Number.isFinite(probability)) return undefined;
  if (prediction.positive_label === undefined) return probability;
  return String(answer) === prediction.positive_label ? probability : 1 - probability;
}

/**
 * Identifies the bins of a profile (not its counts): count summaries made on these bins can be added, and a
 * summary made on other bins (an older or newer reference.json) is recognised as not matching.
 */
export function binsHash(profile: ReferenceProfile): string {
  const binning = (d: DistributionProfile) =>
    d.kind === 'numeric' ? { kind: d.kind, edges: d.edges } : { kind: d.kind, categories: d.categories };
  const shape = {
    features: profile.features.map(binning),
    labels: profile.prediction.labels ? binning(profile.prediction.labels) : null,
    score: binning(profile.prediction.score),
    task: profile.prediction.task,
    positive: profile.prediction.positive_label ?? null,
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

/**
 * Collects one column of values (null for missing) and turns it into a DistributionProfile. Count, nulls, mean,
 * std, min and max are exact running figures, and the first MAX_CATEGORIES + 1 distinct values are counted as they
 * come, so a categorical column is done after one pass. A numeric column's decile edges are order statistics: its
 * `OrderStatisticSearch` either keeps every value (UNBOUNDED_SEARCH, 8 bytes a value, one pass) or a fixed amount
 * (BOUNDED_SEARCH), in which case a large column asks for its values again (`endPass` false, then `revisit`).
 * Either way the edges are those of the sorted column, and the counts per bin are exact.
 */
export class ColumnAccumulator {
  /** The first MAX_CATEGORIES + 1 distinct values and how often each was seen (all of them, from the start). */
  private readonly seen = new Map<number | string, number>();
  private readonly fixed?: { binning: Binning; find: (value: number | string) => number; counts: number[] };
  private readonly deciles: OrderStatisticSearch;
  private strings = 0;
  private numbers = 0;
  private nulls = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private passes = 0;
  private done = false;

  constructor(
    readonly name: string,
    /** Fixed categories (a classifier's labels): every value is binned on them, with "other". */
    categories?: Array<number | string>,
    limits: SearchLimits = UNBOUNDED_SEARCH,
  ) {
    if (categories) {
      const binning: Binning = { kind: 'categorical', categories };
      this.fixed = {
        binning,
        find: binFinder(binning),
        counts: new Array<number>(binCount(binning)).fill(0),
      };
    }
    this.deciles = new OrderStatisticSearch(
      (count) => quantileCutRanks(count).flatMap((rank) => [rank - 1, rank]),
      limits,
    );
  }

  /** A value of the first pass. */
  add(value: number | string | null | undefined): void {
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
      this.nulls++;
      return;
    }
    const times = this.seen.get(value);
    if (times !== undefined) this.seen.set(value, times + 1);
    else if (this.seen.size <= MAX_CATEGORIES) this.seen.set(value, 1);
    if (this.fixed) this.fixed.counts[this.fixed.find(value)]++;
    if (typeof value === 'string') {
      this.strings++;
      return;
    }
    this.numbers++;
    const delta = value - this.mean;
    this.mean += delta / this.numbers;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (!this.fixed) this.deciles.add(value);
  }

  /** The same value again, in a pass after the first: only the decile search looks at it. */
  revisit(value: number | string | null | undefined): void {
    if (typeof value === 'number' && !Number.isNaN(value)) this.deciles.add(value);
  }

  /** Ends a pass over the column's values: true when `finish` can be called, false when another pass is needed. */
  endPass(): boolean {
    if (this.done) return true;
    this.passes++;
    this.done = (this.passes === 1 && this.binning() !== undefined) || this.deciles.endPass();
    return this.done;
  }

  finish(): DistributionProfile {
    if (this.passes === 0) this.endPass();
    if (!this.done) throw new Error(`${this.name}: the deciles need another pass over the values`);
    const count = this.numbers + this.strings;
    const binning = this.binning();
    const bins = binning ? { ...binning, counts: this.categoryCounts(binning, count) } : this.decileBins();
    const numeric = this.numbers > 0;
    return {
      name: this.name,
      ...bins,
      shares: sharesOf(bins.counts),
      count,
      nulls: this.nulls,
      mean: numeric ? this.mean : null,
      std: numeric ? Math.sqrt(this.numbers > 1 ? this.m2 / (this.numbers - 1) : 0) : null,
      min: numeric ? this.min : null,
      max: numeric ? this.max : null,
    };
  }

  /** The categorical binning, or undefined for a numeric column (known after the first pass). */
  private binning(): Binning | undefined {
    if (this.fixed) return this.fixed.binning;
    if (this.strings > 0 || this.seen.size <= MAX_CATEGORIES) return categoricalBinning(this.seen.keys());
    return undefined;
  }

  private categoryCounts(binning: Binning, count: number): number[] {
    if (this.fixed) return this.fixed.counts;
    const categories = binning.kind === 'categorical' ? binning.categories : [];
    const counts = categories.map((category) => this.seen.get(category) ?? 0);
    // With strings among more than MAX_CATEGORIES + 1 distinct values, the ones not tracked are "other".
    counts.push(count - counts.reduce((sum, n) => sum + n, 0));
    return counts;
  }

  /** Decile edges and the exact count of values in each bin, from the order statistics around each cut. */
  private decileBins(): { kind: 'numeric'; edges: number[]; counts: number[] } {
    const n = this.numbers;
    const at = (rank: number) => this.deciles.at(rank);
    const cuts = quantileCuts(n, (rank) => at(rank).value, this.min);
    // Values below each edge: everything up to the cut when the edge lies above the value before it; when the
    // edge is that value (a tie across the cut), the values smaller than it.
    const below = cuts.map(({ edge, rank }) => {
      const before = at(rank - 1);
      if (edge === before.value) return before.below;
      if (edge > before.value && edge <= at(rank).value) return rank;
      return edge > before.value ? n : 0; // the two values' sum overflowed to ±∞
    });
    const bounds = [0, ...below, n];
    return {
      kind: 'numeric',
      edges: cuts.map((cut) => cut.edge),
      counts: bounds.slice(1).map((bound, i) => bound - bounds[i]),
    };
  }
}

/** What the profile builder needs to know about the model. */
export interface ProfiledModel {
  name: string;
  version: string;
  features: string[];
  task: 'classification' | 'regression';
  /** Class labels in score order (classifiers). */
  labels?: Array<number | string>;
}

/**
 * A further pass over the rows, for the columns whose deciles are not pinned down yet: the same rows' features
 * and the same scores as the first pass, in any order.
 */
export interface ProfilePass {
  /** 2 for the pass after the one that added the rows. */
  number: number;
  /** False when only features are left: the scores (and the model) are not needed again. */
  needsScores: boolean;
  /** A row's features, incomplete rows included. */
  addFeatures(values: ReadonlyArray<number | null>): void;
  /** The score of a row the model answered, as `scoreOf` gave it in the first pass. */
  addScore(score: number): void;
}

/**
 * Builds a ReferenceProfile from training rows and the model's answers on them. Rows with a missing feature
 * count towards that feature's nulls and are left out of the output profile (the model cannot score them).
 *
 * With the default UNBOUNDED_SEARCH every numeric value is held until `build` (one pass; the drift check's
 * baseline reads the log once). With BOUNDED_SEARCH memory stays fixed whatever the row count, and after the
 * first pass `nextPass` may ask for the rows again, until every decile edge is exact.
 */
export class ReferenceProfileBuilder {
  private readonly features: ColumnAccumulator[];
  private readonly labels?: ColumnAccumulator;
  private readonly score: ColumnAccumulator;
  private readonly positiveLabel?: string;
  private rows = 0;
  private skipped = 0;
  private passes = 1;
  /** Columns still being fed; undefined while the first pass is open. */
  private pending?: ColumnAccumulator[];

  /** A builder for a served model: its feature names (or `feature <i>` when the model has none), task and labels. */
  static forModel(
    model: Pick<ServedModel, 'name' | 'version' | 'signature'>,
    limits: SearchLimits = UNBOUNDED_SEARCH,
  ): ReferenceProfileBuilder {
    const { signature } = model;
    const head = signature.head;
    return new ReferenceProfileBuilder(
      {
        name: model.name,
        version: model.version,
        features:
          signature.features ?? Array.from({ length: signature.featureCount }, (_, i) => `feature ${i}`),
        task: head.task,
        labels: head.task === 'classification' ? head.labels : undefined,
      },
      limits,
    );
  }

  constructor(
    private readonly model: ProfiledModel,
    limits: SearchLimits = UNBOUNDED_SEARCH,
  ) {
    this.features = model.features.map((name) => new ColumnAccumulator(name, undefined, limits));
    if (model.task === 'classification') {
      const labels = (model.labels ?? []).map(String);
      this.labels = new ColumnAccumulator('predicted label', labels, limits);
      if (labels.length === 2) this.positiveLabel = labels[1];
      this.score = new ColumnAccumulator(
        this.positiveLabel === undefined
          ? 'probability of the predicted class'
          : `probability of class ${this.positiveLabel}`,
        undefined,
        limits,
      );
    } else {
      this.score = new ColumnAccumulator('predicted value', undefined, limits);
    }
  }

  /** A row with a missing value: its features are profiled, the model does not see it. */
  addIncompleteRow(values: ReadonlyArray<number | null>): void {
    this.rows++;
    this.skipped++;
    values.forEach((value, i) => this.features[i].add(value));
  }

  addRow(values: readonly number[], output: ObservedOutput): void {
    this.rows++;
    values.forEach((value, i) => this.features[i].add(value));
    this.labels?.add(String(output.prediction));
    this.score.add(this.scoreOf(output));
  }

  /** What an output adds to the score distribution: a caller keeps it for the passes after the first. */
  scoreOf(output: ObservedOutput): number | undefined {
    return scoreOf(output, { task: this.model.task, positive_label: this.positiveLabel });
  }

  /**
   * Ends the pass being fed. Returns the next one when some column's deciles are not pinned down yet (bounded
   * memory and more values than a window holds), undefined when `build` can be called.
   */
  nextPass(): ProfilePass | undefined {
    const columns = this.pending ?? [...this.features, ...(this.labels ? [this.labels] : []), this.score];
    const pending = columns.filter((column) => !column.endPass());
    this.pending = pending;
    if (pending.length === 0) return undefined;
    this.passes++;
    const features = this.features.map((column) => (pending.includes(column) ? column : undefined));
    const score = pending.includes(this.score) ? this.score : undefined;
    return {
      number: this.passes,
      needsScores: score !== undefined,
      addFeatures: (values) => {
        for (let i = 0; i < features.length; i++) features[i]?.revisit(values[i]);
      },
      addScore: (value) => score?.revisit(value),
    };
  }

  build(source: { file: string; labelColumn?: string }, now = new Date()): ReferenceProfile {
    if (this.pending === undefined) this.nextPass();
    if (this.pending!.length > 0)
      throw new Error('the rows must be read again before the profile is built: see nextPass()');
    return {
      format: PROFILE_FORMAT,
      model: this.model.name,
      version: this.model.version,
      created_at: now.toISOString(),
      source: {
        file: source.file,
        rows: this.rows,
        skipped_rows: this.skipped,
        ...(source.labelColumn ? { label_column: source.labelColumn } : {}),
      },
      features: this.features.map((feature) => feature.finish()),
      prediction: {
        task: this.model.task,
        ...(this.labels ? { labels: this.labels.finish() } : {}),
        score: this.score.finish(),
        ...(this.positiveLabel !== undefined ? { positive_label: this.positiveLabel } : {}),
      },
    };
  }
}

/** Reads and checks a reference.json; the message names what is wrong. */
export function parseReferenceProfile(text: string, path: string): ReferenceProfile {
  const fail = (why: string): never => {
    throw new Error(`${path} is not a usable reference profile: ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail((error as Error).message);
  }
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const profile = value as ReferenceProfile;
  const format: string = PROFILE_FORMAT;
  if (profile.format !== format) fail(`"format" must be "${format}"`);
  if (!Array.isArray(profile.features) || profile.features.length === 0) fail('"features" must be a list');
  if (typeof profile.prediction !== 'object' || profile.prediction === null) fail('"prediction" is missing');
  const distributions = [
    ...profile.features,
    profile.prediction.score,
    ...(profile.prediction.labels ? [profile.prediction.labels] : []),
  ];
  for (const d of distributions) {
    const name = String(d?.name);
    if (d?.kind === 'numeric') {
      if (
        !Array.isArray(d.edges) ||
        !d.edges.every((e, i) => Number.isFinite(e) && (i === 0 || e > d.edges[i - 1]))
      )
        fail(`${name}: "edges" must be increasing numbers`);
    } else if (d?.kind === 'categorical') {
      if (!Array.isArray(d.categories)) fail(`${name}: "categories" must be a list`);
    } else fail(`${name}: "kind" must be "numeric" or "categorical"`);
    if (!Array.isArray(d.counts) || d.counts.length !== binCount(d))
      fail(`${name}: one count per bin expected`);
    if (!Array.isArray(d.shares) || d.shares.length !== binCount(d))
      fail(`${name}: one share per bin expected`);
  }
  return profile;
}
