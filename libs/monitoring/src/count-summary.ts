import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { binCount, binFinder } from './binning';
import type { Prediction } from '@app/inference';
import { binsHash, ObservedOutput, ReferenceProfile, scoreFrom } from './reference-profile';

/**
 * Bin counts of one model version's logged predictions, made on the frozen bins of a reference profile. Counts
 * on the same bins add exactly, so days and replicas merge by addition: the weekly check reads a few small
 * files instead of every raw line.
 */
export interface ModelCounts {
  model: string;
  version: string;
  /** binsHash of the profile the rows were binned on; null when there was no profile (rows only counted). */
  bins: string | null;
  /** Rows counted. */
  n: number;
  /**
   * Of those, rows whose lines are in the log: fewer than `n` when PREDICTION_LOG_SAMPLE_RATE wrote only a sample of
   * them. Summaries written before sampling existed have none: all their rows are in the log.
   */
  logged: number;
  /**
   * The counts were made from the lines of a sampled log (a reference changed after the rows were written, so they
   * were counted again from what the log kept): `n` is the size of a sample of the traffic, not all of it.
   */
  from_sample?: true;
  /** Per feature, per bin. */
  features: number[][];
  /** Predicted labels per bin (classifiers). */
  labels: number[];
  /** The score distribution (probability or value) per bin. */
  score: number[];
}

export const COUNTS_FORMAT = 'ml-inference/prediction-counts@1';

/** `<day>.<host>.counts.json`: the counts of the rows in bytes [0, log_bytes) of `<day>.<host>.jsonl`. */
export interface CountSummaryFile {
  format: typeof COUNTS_FORMAT;
  day: string;
  host: string;
  log_bytes: number;
  updated_at: string;
  models: ModelCounts[];
}

export const countsKey = (model: string, version: string) => `${model}\u0000${version}`;

/** Counts rows into the bins of one reference profile. */
export class BinCounter {
  readonly hash: string;
  private readonly featureBin: Array<(value: number | string) => number>;
  private readonly labelBin?: (value: number | string) => number;
  private readonly scoreBin: (value: number | string) => number;

  constructor(readonly profile: ReferenceProfile) {
    this.hash = binsHash(profile);
    this.featureBin = profile.features.map(binFinder);
    this.labelBin = profile.prediction.labels ? binFinder(profile.prediction.labels) : undefined;
    this.scoreBin = binFinder(profile.prediction.score);
  }

  empty(model: string, version: string): ModelCounts {
    const zeros = (bins: number) => new Array<number>(bins).fill(0);
    const { features, prediction } = this.profile;
    return {
      model,
      version,
      bins: this.hash,
      n: 0,
      logged: 0,
      features: features.map((feature) => zeros(binCount(feature))),
      labels: prediction.labels ? zeros(binCount(prediction.labels)) : [],
      score: zeros(binCount(prediction.score)),
    };
  }

  /**
   * Adds one row; a row that does not fit the profile (another feature count) is left out and reported.
   * @param logged whether the row's line is in the log (not when sampling left it out)
   */
  add(counts: ModelCounts, features: ArrayLike<number>, output: ObservedOutput, logged = true): boolean {
    const { featureBin } = this;
    if (features.length !== featureBin.length) return false;
    counts.n++;
    if (logged) counts.logged++;
    for (let i = 0; i < features.length; i++) counts.features[i][featureBin[i](features[i])]++;
    this.addOutput(counts, output.prediction, output.probability);
    return true;
  }

  /**
   * `add` for every row of an answered request: `width` values a row, row-major, and the row's prediction. One pass
   * a feature over the flat values, nothing made per row: called per row, with a view and an ObservedOutput made for
   * each, counting was about a tenth of a 32-row binary request's server time.
   */
  addRows(
    counts: ModelCounts,
    values: ArrayLike<number>,
    width: number,
    predictions: readonly Prediction[],
    logged = true,
  ): boolean {
    const { featureBin } = this;
    if (width !== featureBin.length) return false;
    const rows = predictions.length;
    counts.n += rows;
    if (logged) counts.logged += rows;
    for (let column = 0; column < width; column++) {
      const bins = counts.features[column];
      const find = featureBin[column];
      for (let at = column; at < rows * width; at += width) bins[find(values[at])]++;
    }
    for (let row = 0; row < rows; row++) {
      const p = predictions[row];
      if (p.task === 'classification') this.addOutput(counts, p.label, p.probability);
      else this.addOutput(counts, p.value, undefined);
    }
    return true;
  }

  /** The label's and the score's bins of one row. */
  private addOutput(counts: ModelCounts, answer: ObservedOutput['prediction'], probability?: number): void {
    if (this.labelBin) {
      const label = Array.isArray(answer) ? '' : String(answer);
      counts.labels[this.labelBin(label)]++;
    }
    const score = scoreFrom(answer, probability, this.profile.prediction);
    if (score !== undefined) counts.score[this.scoreBin(score)]++;
  }
}

/** Empty counts of a model version: on the counter's bins, or unbinned without a reference profile. */
export function emptyCounts(
  counter: BinCounter | null | undefined,
  model: string,
  version: string,
): ModelCounts {
  return counter ? counter.empty(model, version) : unbinned(model, version);
}

/** Rows counted without a profile: only `n` is known, and the summary cannot stand in for the raw log. */
export function unbinned(model: string, version: string): ModelCounts {
  return { model, version, bins: null, n: 0, logged: 0, features: [], labels: [], score: [] };
}

/** `into += from`, bin by bin; both must be on the same bins. */
export function addCounts(into: ModelCounts, from: ModelCounts): void {
  if (into.bins !== from.bins) throw new Error('cannot add counts made on different bins');
  into.n += from.n;
  into.logged += from.logged;
  if (from.from_sample) into.from_sample = true;
  const add = (a: number[], b: readonly number[]) => b.forEach((value, i) => (a[i] += value));
  into.features.forEach((bins, i) => add(bins, from.features[i]));
  add(into.labels, from.labels);
  add(into.score, from.score);
}

export function cloneCounts(counts: ModelCounts): ModelCounts {
  return {
    ...counts,
    features: counts.features.map((bins) => [...bins]),
    labels: [...counts.labels],
    score: [...counts.score],
  };
}

/** A summary file, or undefined when it is missing or unreadable (the raw log is then read instead). */
export async function readCountSummary(path: string): Promise<CountSummaryFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as CountSummaryFile;
    if (value.format !== COUNTS_FORMAT || !Number.isInteger(value.log_bytes) || !Array.isArray(value.models))
      return undefined;
    // Written before sampling: every counted row is in the log.
    for (const counts of value.models) counts.logged ??= counts.n;
    return value;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed over the old one: a reader sees the old summary or the new, whole. */
export async function writeCountSummary(path: string, summary: CountSummaryFile): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(summary));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
