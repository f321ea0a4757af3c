import type { AnsweredBatch } from '@app/inference';
import type { Logger } from '@nestjs/common';
import {
  addCounts,
  BinCounter,
  COUNTS_FORMAT,
  CountSummaryFile,
  countsKey,
  ModelCounts,
  emptyCounts,
} from './count-summary';
import { LoggedPrediction, parseRecords } from './log-record';
import type { LogStore } from './log-store';
import type { ObservedOutput } from './reference-profile';
import type { Segment } from './recorded-rows';
import type { ReferenceProfileStore } from './reference-profile-store';

/** Where the counts find a model version's reference profile (ReferenceProfileStore; a spec's own). */
export type ReferenceLookup = Pick<ReferenceProfileStore, 'forModel'>;

/** What this process knows about one day's log file of its own. */
export interface DayFile {
  day: string;
  /** The log's and its summary's names in the LogStore. */
  logName: string;
  countsName: string;
  /** Bytes of the file that are whole lines, all counted in `counts`. */
  bytes: number;
  counts: Map<string, ModelCounts>;
  /** A write failed: the file may hold part of it, cut back to `bytes` before the next append. */
  dirty: boolean;
}

/*
 * Counting rows is the same for the writer (counts made as rows are recorded, and after they are written) and the
 * readers (counts made from the lines, PredictionLogReader): the helpers below decide how a row is counted and when
 * a summary stands for its log, for both.
 */

/** Where a row is counted: the counts, and the bins (none: the row is only counted in `n`). */
export interface CountTarget {
  entry: ModelCounts;
  counter?: BinCounter;
}

/** Adds one row: into the counter's bins, or only to `n` without a reference. */
export function countRow(
  { entry, counter }: CountTarget,
  features: ArrayLike<number>,
  output: ObservedOutput,
  logged = true,
): void {
  if (counter) {
    counter.add(entry, features, output, logged);
    return;
  }
  entry.n++;
  if (logged) entry.logged++;
}

/** Adds a request's rows, as countRow adds each. */
export function countBatch({ entry, counter }: CountTarget, batch: AnsweredBatch, logged: boolean): void {
  const { features, featureCount, predictions } = batch;
  if (counter) {
    counter.addRows(entry, features, featureCount, predictions, logged);
    return;
  }
  entry.n += predictions.length;
  if (logged) entry.logged += predictions.length;
}

/** Counts the rows of the lines into the targets `targetOf` names (none: the row is skipped). */
export async function countLines(
  lines: AsyncIterable<string>,
  targetOf: (record: LoggedPrediction) => CountTarget | undefined | Promise<CountTarget | undefined>,
): Promise<void> {
  for await (const line of lines) {
    for (const record of parseRecords(line)) {
      const found = targetOf(record);
      // Readers name their target at once: no await (and microtask) per row for them.
      const target = found instanceof Promise ? await found : found;
      if (target) countRow(target, record.features, record);
    }
  }
}

/** Counts made from the lines of a sampled log, or from fewer logged rows than counted: a sample's counts. */
export function fromSample(counts: ModelCounts): boolean {
  return counts.logged < counts.n || counts.from_sample === true;
}

/**
 * A summary is the one of this day and host's log, and covers no more than the `size` bytes it holds (undefined:
 * a compressed log, covered whole): lines after `log_bytes` are counted from the log.
 */
export function summaryCovers(
  summary: CountSummaryFile | undefined,
  day: string,
  host: string,
  size: number | undefined,
): summary is CountSummaryFile {
  return (
    summary !== undefined &&
    summary.day === day &&
    summary.host === host &&
    (size === undefined || summary.log_bytes <= size)
  );
}

/**
 * The count summaries of this process's day files, and how they stay exact: which bins each model version's rows
 * are counted on (its reference profile, looked up once per flush), what is added after an append, counting again
 * from the lines when a reference changed, and the summary file beside each log. PredictionLog decides when.
 */
export class DayCounts {
  /** References looked up during one flush, so a flush stats each reference.json once. */
  private references = new Map<string, Promise<BinCounter | undefined>>();
  private readonly badReferences = new Set<string>();

  constructor(
    private readonly profiles: ReferenceLookup,
    private readonly host: string,
    private readonly logger: Logger,
    private readonly store: LogStore,
  ) {}

  /** A flush looks each reference up again: one changed since the last flush is seen. */
  beginFlush(): void {
    this.references = new Map();
  }

  /**
   * The file's counts from its summary, when the summary is its own and covers no more than the file holds; lines
   * written after it (a crash between an append and its summary) are counted now.
   * @param size the file's size once its torn tail was cut
   */
  async load(file: DayFile, size: number): Promise<void> {
    const summary = await this.store.readSummary(file.countsName);
    if (summaryCovers(summary, file.day, this.host, size)) {
      for (const counts of summary.models) file.counts.set(countsKey(counts.model, counts.version), counts);
      file.bytes = summary.log_bytes;
    }
    if (file.bytes < size) {
      await countLines(this.store.readLines(file.logName, file.bytes, size), (record) =>
        this.entryFor(file, record.model, record.version),
      );
      file.bytes = size;
      await this.save(file);
    }
  }

  /** Where the segments' rows go, per model version; a changed reference recounts the file's rows first. */
  async targetsFor(file: DayFile, segments: readonly Segment[]): Promise<Map<string, CountTarget>> {
    const targets = new Map<string, CountTarget>();
    for (const segment of segments) {
      for (const [key, { model, version }] of segment.counts) {
        if (!targets.has(key)) targets.set(key, await this.entryFor(file, model, version));
      }
    }
    return targets;
  }

  /**
   * After the segments' lines were appended at `start`: counts made on the file's bins when the rows were recorded
   * are added; rows recorded before the reference was known are counted now. A model version with rows counted on
   * other bins (the reference changed in between) is counted again from the lines just written, plus the rows that
   * sampling kept out of them and that are still in memory; rows already counted and not logged cannot be binned
   * again, so its counts then come from a sample.
   */
  async addWritten(
    file: DayFile,
    segments: readonly Segment[],
    targets: Map<string, CountTarget>,
    start: number,
  ): Promise<void> {
    const recount = new Map<string, boolean>();
    for (const segment of segments) {
      for (const [key, { counts }] of segment.counts) {
        if (counts === undefined || counts.bins === targets.get(key)!.entry.bins) continue;
        recount.set(key, recount.get(key) === true || counts.logged < counts.n);
      }
    }
    for (const segment of segments) {
      for (const [key, { counts, uncounted }] of segment.counts) {
        const target = targets.get(key)!;
        for (const { features, output, logged } of uncounted ?? [])
          if (!(logged && recount.has(key))) countRow(target, features, output, logged);
        if (counts !== undefined && !recount.has(key)) addCounts(target.entry, counts);
      }
    }
    if (recount.size === 0) return;
    await countLines(this.store.readLines(file.logName, start, file.bytes), (record) =>
      recount.has(countsKey(record.model, record.version))
        ? targets.get(countsKey(record.model, record.version))
        : undefined,
    );
    for (const [key, fromSample] of recount) if (fromSample) targets.get(key)!.entry.from_sample = true;
  }

  /** Writes the file's summary: its counts, and how many of the log's bytes they cover. */
  save(file: DayFile): Promise<void> {
    return this.store.writeSummary(file.countsName, {
      format: COUNTS_FORMAT,
      day: file.day,
      host: this.host,
      log_bytes: file.bytes,
      updated_at: new Date().toISOString(),
      models: [...file.counts.values()],
    });
  }

  /**
   * Whether the saved summary covers the whole log, as a closed day's must before it is compressed (readers then
   * trust it for the whole file); one that could not be saved lags its log.
   */
  async coverWholeLog(file: DayFile): Promise<boolean> {
    const summary = await this.store.readSummary(file.countsName);
    return summary !== undefined && summary.log_bytes === (await this.store.size(file.logName));
  }

  /**
   * The counts of a model version in a file, on the bins of its current reference profile. When the profile is
   * new or changed, the rows already in the file are counted again on the new bins, so a summary always matches
   * the profile it names.
   */
  private async entryFor(file: DayFile, model: string, version: string): Promise<CountTarget> {
    const key = countsKey(model, version);
    const counter = await this.counterFor(model, version);
    const existing = file.counts.get(key);
    if (existing && existing.bins === (counter?.hash ?? null)) return { entry: existing, counter };
    const entry = emptyCounts(counter, model, version);
    if (existing) {
      if (file.bytes > 0) {
        await countLines(this.store.readLines(file.logName, 0, file.bytes), (record) =>
          record.model === model && record.version === version ? { entry, counter } : undefined,
        );
      }
      // The lines hold only the rows sampling kept (none, before the day's first line): the counts on the new bins
      // are those of a sample.
      if (fromSample(existing)) entry.from_sample = true;
    }
    file.counts.set(key, entry);
    return { entry, counter };
  }

  private counterFor(model: string, version: string): Promise<BinCounter | undefined> {
    const key = countsKey(model, version);
    let found = this.references.get(key);
    if (!found) {
      found = this.profiles.forModel(model, version).then(
        (loaded) => loaded?.counter,
        (error: Error) => {
          if (!this.badReferences.has(key)) {
            this.badReferences.add(key);
            this.logger.warn(`${error.message}; predictions of ${model} are logged without bin counts`);
          }
          return undefined;
        },
      );
      this.references.set(key, found);
    }
    return found;
  }
}
