import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { addCounts, BinCounter, ModelCounts, readCountSummary } from './count-summary';
import { COMPRESSED_SUFFIX, listLogFiles, readableLogs, readLines, sizeOf } from './log-files';
import { LoggedPrediction, parseRecords } from './log-record';

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
export async function countLogDays(
  dir: string,
  model: string,
  version: string,
  counter: BinCounter,
  days: readonly string[],
): Promise<{ counts: ModelCounts; sources: CountSources }> {
  const wanted = new Set(days);
  const pairs = new Map<string, { day: string; host: string; log?: string; counts?: string }>();
  const files = await listLogFiles(dir);
  for (const file of [...readableLogs(files), ...files.filter((f) => f.kind === 'counts')]) {
    if (!wanted.has(file.day)) continue;
    const key = `${file.day}.${file.host}`;
    const pair = pairs.get(key) ?? { day: file.day, host: file.host };
    pair[file.kind === 'log' ? 'log' : 'counts'] = join(dir, file.name);
    pairs.set(key, pair);
  }
  const total = counter.empty(model, version);
  const sources: CountSources = { summaries: 0, tails: 0, raw_files: 0 };
  const countRange = async (path: string, start: number, end?: number) => {
    for await (const line of readLines(path, start, end)) {
      for (const record of parseRecords(line))
        if (record.model === model && record.version === version) counter.add(total, record.features, record);
    }
  };
  for (const { day, host, log, counts } of [...pairs.values()].sort((a, b) =>
    a.day + a.host < b.day + b.host ? -1 : 1,
  )) {
    // A day is compressed only after its last flush: its summary covers the whole file, which is read whole.
    const compressed = log?.endsWith(COMPRESSED_SUFFIX) ?? false;
    const size = log && !compressed ? await sizeOf(log) : undefined;
    const summary = counts ? await readCountSummary(counts) : undefined;
    const entry = summary?.models.find((m) => m.model === model && m.version === version);
    const usable =
      summary !== undefined &&
      summary.day === day &&
      summary.host === host &&
      (size === undefined || summary.log_bytes <= size) &&
      (entry === undefined || entry.bins === counter.hash);
    if (usable) {
      if (entry) addCounts(total, entry);
      sources.summaries++;
      if (log && size !== undefined && size > summary.log_bytes) {
        await countRange(log, summary.log_bytes, size);
        sources.tails++;
      }
    } else if (log && (size !== undefined || compressed)) {
      await countRange(log, 0, size);
      sources.raw_files++;
      // The summary (on other bins) says the log holds a sample of the rows: these counts are a sample's.
      if (entry !== undefined && (entry.logged < entry.n || entry.from_sample)) total.from_sample = true;
    }
  }
  return { counts: total, sources };
}

/** Reads the prediction log (all replicas) for the drift check. */
@Injectable()
export class PredictionLogReader {
  readonly dir: string;

  constructor(config: AppConfig) {
    this.dir = config.get('PREDICTION_LOG_DIR');
  }

  countDays(model: string, version: string, counter: BinCounter, days: readonly string[]) {
    return countLogDays(this.dir, model, version, counter, days);
  }

  /** Days that have a log file, oldest first. */
  async days(): Promise<string[]> {
    const files = readableLogs(await listLogFiles(this.dir));
    return [...new Set(files.map((f) => f.day))].sort();
  }

  /** Every logged row of a model version on one day, all replicas. */
  async *records(model: string, version: string, day: string): AsyncGenerator<LoggedPrediction> {
    const files = readableLogs(await listLogFiles(this.dir)).filter((f) => f.day === day);
    for (const file of files.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for await (const line of readLines(join(this.dir, file.name))) {
        for (const record of parseRecords(line))
          if (record.model === model && record.version === version) yield record;
      }
    }
  }
}
