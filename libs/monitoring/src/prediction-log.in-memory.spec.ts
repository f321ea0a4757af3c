import { AppConfig, validateEnvironment } from '@app/config';
import { AnsweredBatch } from '@app/inference';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sampleRows, seedTrainingRows } from '../../../test/support/monitoring-data';
import { BinCounter, CountSummaryFile } from './count-summary';
import { countsFileName, dayOf, logFileName } from './log-files';
import { parseRecords, recordLine } from './log-record';
import { MemoryLogStore } from './memory-log-store';
import { PredictionLog, PredictionLogMetrics } from './prediction-log';
import { countStoredDays } from './prediction-log-reader';
import { parseReferenceProfile } from './reference-profile';
import { LoadedReference } from './reference-profile-store';

/**
 * The prediction log's own logic against a MemoryLogStore: the disk refusing writes, appends landing in part, torn
 * tails, summaries that cannot be saved, retention. prediction-log.spec.ts runs the same log on real files.
 */

const REFERENCE_PATH = resolve(__dirname, '../../../models/seed_gbc/1/reference.json');
const profile = parseReferenceProfile(readFileSync(REFERENCE_PATH, 'utf8'), REFERENCE_PATH);
const reference: LoadedReference = { path: REFERENCE_PATH, profile, counter: new BinCounter(profile) };
const TODAY = dayOf(new Date());
const LOG = logFileName(TODAY, 'replica-a');
const COUNTS = countsFileName(TODAY, 'replica-a');
const traffic = sampleRows(seedTrainingRows(), 200, 11);

function batch(requestId: string, rows: number[][], at = new Date()): AnsweredBatch {
  return {
    model: 'seed_gbc',
    version: '1',
    requestId,
    at,
    rows,
    predictions: rows.map((row) => ({
      task: 'classification' as const,
      label: row[0] > 0 ? 1 : 0,
      probability: 0.75,
      probabilities: {},
    })),
  };
}

function startLog(env: Record<string, string> = {}) {
  const store = new MemoryLogStore();
  const seen = { written: 0, errors: 0, dropped: 0, deletedBytes: 0, diskBytes: -1 };
  const metrics: PredictionLogMetrics = {
    recordsWritten: (n) => void (seen.written += n),
    writeFailed: () => void seen.errors++,
    recordsDropped: (n) => void (seen.dropped += n),
    logDeleted: (bytes) => void (seen.deletedBytes += bytes),
    logFolderMeasured: (bytes) => void (seen.diskBytes = bytes),
  };
  const config = new AppConfig(
    new ConfigService(validateEnvironment({ PREDICTION_LOG_FLUSH_MS: '60000', ...env })),
  );
  const profiles = { forModel: () => Promise.resolve(reference) };
  const log = new PredictionLog(config, metrics, profiles, store, 'replica-a');
  return { log, store, seen };
}

/** The request ids of a log's lines, in order; a line that is not whole fails the spec. */
function requestIds(text: string | undefined): string[] {
  const lines = (text ?? '').split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((line) => {
    const records = parseRecords(line);
    expect(records.length).toBeGreaterThan(0);
    return records[0].request_id;
  });
}

const summaryOf = (store: MemoryLogStore) => store.readSummary(COUNTS);
const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('PredictionLog (in-memory store)', () => {
  let errorLines: jest.SpyInstance;
  beforeEach(() => {
    errorLines = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errorLines.mockRestore());

  it('opens a day file once, then writes each flush with one append and one summary', async () => {
    const { log, store } = startLog();
    log.record(batch('a', traffic.slice(0, 3)));
    await log.flush();
    expect(store.calls).toEqual([
      'ensureFolder',
      'size',
      'cutTornTail',
      'readSummary',
      'append',
      'writeSummary',
    ]);
    store.calls.length = 0;
    log.record(batch('b', traffic.slice(3, 5)));
    log.record(batch('c', traffic.slice(5, 6)));
    await log.flush();
    expect(store.calls).toEqual(['append', 'writeSummary']);
    expect(requestIds(store.text(LOG))).toEqual(['a', 'b', 'c']);
  });

  it('keeps rows while the disk refuses appends, logs one error line per 30 s, and writes them once healed', async () => {
    const { log, store, seen } = startLog();
    store.refuse('append');
    log.record(batch('a', traffic.slice(0, 2)));
    log.record(batch('b', traffic.slice(2, 6)));
    for (let i = 0; i < 3; i++) await log.flush();
    expect(seen).toMatchObject({ written: 0, errors: 3, dropped: 0 });
    expect(errorLines).toHaveBeenCalledTimes(1);
    expect(errorLines.mock.calls[0][0]).toBe(
      'prediction log write failed: ENOSPC: no space left on device, append; predictions are still served, 6 rows wait for the next flush',
    );

    store.heal();
    log.record(batch('c', traffic.slice(6, 7)));
    await log.flush();
    expect(requestIds(store.text(LOG))).toEqual(['a', 'b', 'c']);
    expect(seen.written).toBe(7);
    expect((await summaryOf(store))?.models[0]).toMatchObject({
      n: 7,
      logged: 7,
      bins: reference.counter.hash,
    });
  });

  it('cuts back an append that landed in part, then writes it again whole', async () => {
    const { log, store, seen } = startLog();
    log.record(batch('a', traffic.slice(0, 2)));
    await log.flush();
    const before = store.text(LOG)!;
    store.refuse('append', 25);
    log.record(batch('b', traffic.slice(2, 4)));
    await log.flush();
    expect(store.text(LOG)).toHaveLength(before.length + 25);

    store.heal();
    log.record(batch('c', traffic.slice(4, 5)));
    await log.flush();
    expect(store.calls).toContain('truncate');
    expect(requestIds(store.text(LOG))).toEqual(['a', 'b', 'c']);
    expect(seen).toMatchObject({ written: 5, errors: 1 });
    const summary = await summaryOf(store);
    expect(summary).toMatchObject({ log_bytes: Buffer.byteLength(store.text(LOG)!) });
    expect(summary?.models[0].n).toBe(5);
  });

  it('starts the day over when its file went away after a failed append', async () => {
    const { log, store } = startLog();
    log.record(batch('a', traffic.slice(0, 2)));
    await log.flush();
    store.refuse('append');
    log.record(batch('b', traffic.slice(2, 5)));
    await log.flush();
    await store.remove(LOG);

    store.heal();
    log.record(batch('c', traffic.slice(5, 6)));
    await log.flush();
    // What was counted of `a` went with the file: the summary counts what the file holds.
    expect(requestIds(store.text(LOG))).toEqual(['b', 'c']);
    expect((await summaryOf(store))?.models[0].n).toBe(4);
  });

  it('cuts a torn last line when it opens a file, and counts only the whole lines', async () => {
    const { log, store } = startLog();
    const whole = recordLine(batch('before-crash', traffic.slice(0, 3)));
    store.put(LOG, `${whole}{"ts":"${TODAY}T10:00:0`);
    log.record(batch('after', traffic.slice(3, 4)));
    await log.flush();
    expect(requestIds(store.text(LOG))).toEqual(['before-crash', 'after']);
    expect((await summaryOf(store))?.models[0]).toMatchObject({ n: 4, logged: 4 });
  });

  it('writes the rows when the summary cannot be saved; readers read the log, and the next save catches up', async () => {
    const { log, store, seen } = startLog();
    store.refuse('writeSummary');
    log.record(batch('a', traffic.slice(0, 3)));
    await log.flush();
    expect(seen).toMatchObject({ written: 3, errors: 1 });
    expect(await summaryOf(store)).toBeUndefined();
    const read = await countStoredDays(store, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(read.sources).toEqual({ summaries: 0, tails: 0, raw_files: 1 });
    expect(read.counts.n).toBe(3);

    store.heal();
    log.record(batch('b', traffic.slice(3, 5)));
    await log.flush();
    const summary = (await summaryOf(store)) as CountSummaryFile;
    expect(summary.log_bytes).toBe(Buffer.byteLength(store.text(LOG)!));
    expect(summary.models[0].n).toBe(5);
    const caughtUp = await countStoredDays(store, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(caughtUp.sources).toEqual({ summaries: 1, tails: 0, raw_files: 0 });
    expect(caughtUp.counts.n).toBe(5);
    // The summary says what the lines say.
    await store.remove(COUNTS);
    expect((await countStoredDays(store, 'seed_gbc', '1', reference.counter, [TODAY])).counts).toEqual(
      caughtUp.counts,
    );
  });

  it('counts a folder it cannot create as a failed write, and writes once it can', async () => {
    const { log, store, seen } = startLog();
    store.refuse('ensureFolder');
    log.record(batch('a', traffic.slice(0, 2)));
    await log.flush();
    expect(seen).toMatchObject({ written: 0, errors: 1 });
    expect(store.names()).toEqual([]);
    store.heal();
    await log.flush();
    expect(requestIds(store.text(LOG))).toEqual(['a']);
  });

  it('compresses a closed day only once its summary covers the whole log', async () => {
    const { log, store } = startLog({ PREDICTION_LOG_FLUSH_MS: '10' });
    const yesterday = new Date(Date.now() - 86_400_000);
    const closed = logFileName(dayOf(yesterday), 'replica-a');
    store.refuse('writeSummary');
    log.record(batch('old', traffic.slice(0, 2), yesterday));
    await log.flush();
    log.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.calls).not.toContain('compress');
    expect(store.names()).toContain(closed);

    // The next append to the day saves its summary, and the tick after compresses it.
    store.heal();
    log.record(batch('late', traffic.slice(2, 3), yesterday));
    await until(() => store.names().includes(`${closed}.gz`));
    await log.onApplicationShutdown();
    expect(store.names()).not.toContain(closed);
    expect(requestIds(store.text(`${closed}.gz`))).toEqual(['old', 'late']);
    const summary = await store.readSummary(countsFileName(dayOf(yesterday), 'replica-a'));
    expect(summary?.models[0].n).toBe(3);
  });

  it('removes every host’s files from before PREDICTION_LOG_RETENTION_DAYS at start, and nothing newer', async () => {
    const { log, store } = startLog({ PREDICTION_LOG_RETENTION_DAYS: '7' });
    const daysAgo = (n: number) => dayOf(new Date(Date.now() - n * 86_400_000));
    for (const day of [daysAgo(8), daysAgo(6)]) {
      for (const host of ['replica-a', 'replica-b']) {
        store.put(logFileName(day, host), '');
        store.put(countsFileName(day, host), '{}');
      }
    }
    log.onApplicationBootstrap();
    await log.onApplicationShutdown();
    expect(store.names()).toEqual(
      [
        countsFileName(daysAgo(6), 'replica-a'),
        countsFileName(daysAgo(6), 'replica-b'),
        logFileName(daysAgo(6), 'replica-a'),
        logFileName(daysAgo(6), 'replica-b'),
      ].sort(),
    );
  });
});
