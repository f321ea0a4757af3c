import { Injectable } from '@nestjs/common';
import { addCounts, BinCounter, ModelCounts } from './count-summary';
import { COMPRESSED_SUFFIX, readableLogs } from './log-files';
import { LoggedPrediction, parseRecords } from './log-record';
import { DiskLogStore, LogStore } from './log-store';
import { countLines, CountTarget, fromSample, summaryCovers } from './day-counts';

/** Where a window's counts came from: summaries used whole, log tails read after them, logs read in full. */
export interface CountSources {
  summaries: number;
  tails: number;
  raw_files: number;
}

/**
 * Counts of one model version over some days, on `counter`'s bins, from every replica's files in `dir`.
 * Each `<day>.<host>` pair is read from its count summary when the summary was made on the same bins (plus the
 * log lines written after it), and from the raw log otherwise: a reference added or changed later, a summary
 * lost or never written. The result is the same either way; summaries only make it cheap.
 */
export function countLogDays(
  dir: string,
  model: string,
  version: string,
  counter: BinCounter,
  days: readonly string[],
): Promise<{ counts: ModelCounts; sources: CountSources }> {
  return countStoredDays(new DiskLogStore(dir), model, version, counter, days);
}

/** countLogDays, over any LogStore. */
export async function countStoredDays(
  store: LogStore,
  model: string,
  version: string,
  counter: BinCounter,
  days: readonly string[],
): Promise<{ counts: ModelCounts; sources: CountSources }> {
  const wanted = new Set(days);
  const pairs = new Map<string, { day: string; host: string; log?: string; counts?: string }>();
  const files = await store.list();
  for (const file of [...readableLogs(files), ...files.filter((f) => f.kind === 'counts')]) {
    if (!wanted.has(file.day)) continue;
    const key = `${file.day}.${file.host}`;
    const pair = pairs.get(key) ?? { day: file.day, host: file.host };
    pair[file.kind === 'log' ? 'log' : 'counts'] = file.name;
    pairs.set(key, pair);
  }
  const total: CountTarget = { entry: counter.empty(model, version), counter };
  const sources: CountSources = { summaries: 0, tails: 0, raw_files: 0 };
  const countRange = (log: string, start: number, end?: number) =>
    countLines(store.readLines(log, start, end), (record) =>
      record.model === model && record.version === version ? total : undefined,
    );
  for (const { day, host, log, counts } of [...pairs.values()].sort((a, b) =>
    a.day + a.host < b.day + b.host ? -1 : 1,
  )) {
    // A day is compressed only after its last flush: its summary covers the whole file, which is read whole.
    const compressed = log?.endsWith(COMPRESSED_SUFFIX) ?? false;
    const size = log && !compressed ? await store.size(log) : undefined;
    const summary = counts ? await store.readSummary(counts) : undefined;
    const entry = summary?.models.find((m) => m.model === model && m.version === version);
    if (summaryCovers(summary, day, host, size) && (entry === undefined || entry.bins === counter.hash)) {
      if (entry) addCounts(total.entry, entry);
      sources.summaries++;
      if (log && size !== undefined && size > summary.log_bytes) {
        await countRange(log, summary.log_bytes, size);
        sources.tails++;
      }
    } else if (log && (size !== undefined || compressed)) {
      await countRange(log, 0, size);
      sources.raw_files++;
      // The summary (on other bins) says the log holds a sample of the rows: these counts are a sample's.
      if (entry !== undefined && fromSample(entry)) total.entry.from_sample = true;
    }
  }
  return { counts: total.entry, sources };
}

/** Reads the prediction log (all replicas) for the drift check. */
@Injectable()
export class PredictionLogReader {
  constructor(private readonly store: LogStore) {}

  countDays(model: string, version: string, counter: BinCounter, days: readonly string[]) {
    return countStoredDays(this.store, model, version, counter, days);
  }

  /** Days that have a log file, oldest first. */
  async days(): Promise<string[]> {
    const files = readableLogs(await this.store.list());
    return [...new Set(files.map((f) => f.day))].sort();
  }

  /** Every logged row of a model version on one day, all replicas. */
  async *records(model: string, version: string, day: string): AsyncGenerator<LoggedPrediction> {
    const files = readableLogs(await this.store.list()).filter((f) => f.day === day);
    for (const file of files.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for await (const line of this.store.readLines(file.name)) {
        for (const record of parseRecords(line))
          if (record.model === model && record.version === version) yield record;
      }
    }
  }
}
