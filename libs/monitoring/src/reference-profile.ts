import type { ServedModel } from '@app/inference';
import { createHash } from 'node:crypto';
import {
  Binning,
  binCount,
  binIndex,
  categoricalBinning,
  MAX_CATEGORIES,
  QUANTILE_BINS,
  quantileEdges,
} from './binning';
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
  if (prediction.task === 'regression') {
    const value = Array.isArray(output.prediction) ? output.prediction[0] : output.prediction;
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }
  const p = output.probability;
  if (typeof p !== 'number' || !Number.isFinite(p)) return undefined;
  if (prediction.positive_label === undefined) return p;
  return String(output.prediction) === prediction.positive_label ? p : 1 - p;
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
 * Collects one column of values (null for missing) and turns it into a DistributionProfile. Values are kept in
 * a growing Float64Array (8 bytes each) so the deciles are exact.
 */
export class ColumnAccumulator {
  private values = new Float64Array(1024);
  private size = 0;
  private readonly strings: string[] = [];
  private readonly distinct = new Set<number | string>();
  private nulls = 0;
  private mean = 0;
  private m2 = 0;

  constructor(
    readonly name: string,
    /** Fixed categories (a classifier's labels): every value is binned on them, with "other". */
    private readonly categories?: Array<number | string>,
  ) {}

  add(value: number | string | null | undefined): void {
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
      this.nulls++;
      return;
    }
    if (this.distinct.size <= MAX_CATEGORIES) this.distinct.add(value);
    if (typeof value === 'string') {
      this.strings.push(value);
      return;
    }
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
    const delta = value - this.mean;
    this.mean += delta / this.size;
    this.m2 += delta * (value - this.mean);
  }

  finish(): DistributionProfile {
    const numbers = this.values.subarray(0, this.size).sort();
    const count = this.size + this.strings.length;
    const binning: Binning = this.categories
      ? { kind: 'categorical', categories: this.categories }
      : this.strings.length > 0 || this.distinct.size <= MAX_CATEGORIES
        ? categoricalBinning(this.distinct)
        : { kind: 'numeric', edges: quantileEdges(numbers, QUANTILE_BINS) };
    const counts = new Array<number>(binCount(binning)).fill(0);
    for (const value of numbers) counts[binIndex(binning, value)]++;
    for (const value of this.strings) counts[binIndex(binning, value)]++;
    const numeric = this.size > 0;
    return {
      name: this.name,
      ...binning,
      counts,
      shares: sharesOf(counts),
      count,
      nulls: this.nulls,
      mean: numeric ? this.mean : null,
      std: numeric ? Math.sqrt(this.size > 1 ? this.m2 / (this.size - 1) : 0) : null,
      min: numeric ? numbers[0] : null,
      max: numeric ? numbers[this.size - 1] : null,
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
 * Builds a ReferenceProfile from training rows and the model's answers on them. Rows with a missing feature
 * count towards that feature's nulls and are left out of the output profile (the model cannot score them).
 */
export class ReferenceProfileBuilder {
  private readonly features: ColumnAccumulator[];
  private readonly labels?: ColumnAccumulator;
  private readonly score: ColumnAccumulator;
  private readonly positiveLabel?: string;
  private rows = 0;
  private skipped = 0;

  /** A builder for a served model: its feature names (or `feature <i>` when the model has none), task and labels. */
  static forModel(model: Pick<ServedModel, 'name' | 'version' | 'signature'>): ReferenceProfileBuilder {
    const { signature } = model;
    const head = signature.head;
    return new ReferenceProfileBuilder({
      name: model.name,
      version: model.version,
      features:
        signature.features ?? Array.from({ length: signature.featureCount }, (_, i) => `feature ${i}`),
      task: head.task,
      labels: head.task === 'classification' ? head.labels : undefined,
    });
  }

  constructor(private readonly model: ProfiledModel) {
    this.features = model.features.map((name) => new ColumnAccumulator(name));
    if (model.task === 'classification') {
      const labels = (model.labels ?? []).map(String);
      this.labels = new ColumnAccumulator('predicted label', labels);
      if (labels.length === 2) this.positiveLabel = labels[1];
      this.score = new ColumnAccumulator(
        this.positiveLabel === undefined
          ? 'probability of the predicted class'
          : `probability of class ${this.positiveLabel}`,
      );
    } else {
      this.score = new ColumnAccumulator('predicted value');
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
    this.score.add(scoreOf(output, { task: this.model.task, positive_label: this.positiveLabel }));
  }

  build(source: { file: string; labelColumn?: string }, now = new Date()): ReferenceProfile {
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
