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
import { FLUSH_AT_ROWS, MAX_PENDING_ROWS, PredictionLog, PredictionLogMetrics } from './prediction-log';
import { SEGMENT_ROWS } from './recorded-rows';
import { countStoredDays } from './prediction-log-reader';
import { parseReferenceProfile } from './reference-profile';
import { LoadedReference } from './reference-profile-store';
import { answeredFeatures } from '../../../test/support/feature-values';

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
    ...answeredFeatures(rows),
    predictions: rows.map((row) => ({
      task: 'classification' as const,
      label: row[0] > 0 ? 1 : 0,
      probability: 0.75,
      probabilities: {},
    })),
  };
}

function startLog<S extends MemoryLogStore = MemoryLogStore>(
  env: Record<string, string> = {},
  store: S = new MemoryLogStore() as S,
) {
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

/**
 * Appends that wait while the spec holds them (the others go through), and how many ran at once: a flush held in
 * the middle, so that records and ticks can come while it runs.
 */
class HeldAppends extends MemoryLogStore {
  started = 0;
  mostAtOnce = 0;
  private running = 0;
  private gate?: Promise<void>;
  private release = (): void => undefined;

  hold(): void {
    this.gate = new Promise<void>((resolve) => (this.release = resolve));
  }

  letGo(): void {
    this.gate = undefined;
    this.release();
  }

  override async append(name: string, chunks: readonly Buffer[]): Promise<void> {
    this.started++;
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.running);
    try {
      await this.gate;
      await super.append(name, chunks);
    } finally {
      this.running--;
    }
  }
}

/** Lets everything already started run to its end: the log's work on a MemoryLogStore is promise callbacks only. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PredictionLog (in-memory store)', () => {
  let errorLines: jest.SpyInstance<void, Parameters<Logger['error']>>;
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

  it('writes nothing for a request without rows', async () => {
    const { log, store } = startLog();
    log.record(batch('empty', []));
    await log.flush();
    expect(store.calls).toEqual([]);
    expect(store.names()).toEqual([]);
  });

  it('queues one early flush for several requests past FLUSH_AT_ROWS, and none while a flush runs', async () => {
    const store = new HeldAppends();
    const { log } = startLog({}, store);
    const rows = Array.from({ length: FLUSH_AT_ROWS }, (_, i) => traffic[i % traffic.length]);
    store.hold();
    // Past the threshold twice before the flush it queued has started: one flush.
    log.record(batch('almost', rows.slice(1)));
    log.record(batch('enough', rows.slice(0, 1)));
    log.record(batch('more', rows.slice(0, 1)));
    await settle();
    expect(store.started).toBe(1);
    // Past it again while that flush's append hangs: the rows wait for the next flush.
    log.record(batch('during', rows));
    store.letGo();
    await settle();
    expect(store.started).toBe(1);
    expect(requestIds(store.text(LOG))).toEqual(['almost', 'enough', 'more']);

    await log.flush();
    expect(store.started).toBe(2);
    expect(store.mostAtOnce).toBe(1);
    expect(requestIds(store.text(LOG))).toEqual(['almost', 'enough', 'more', 'during']);
  });

  it('skips a tick that comes while a flush runs, rather than queueing it behind', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const store = new HeldAppends();
      const { log, seen } = startLog({ PREDICTION_LOG_FLUSH_MS: '1000' }, store);
      log.onApplicationBootstrap();
      await settle();
      store.hold();
      log.record(batch('a', traffic.slice(0, 1)));
      const flushing = log.flush();
      await settle();
      expect(store.started).toBe(1);
      log.record(batch('b', traffic.slice(1, 2)));
      store.calls.length = 0;
      jest.advanceTimersByTime(1000);
      store.letGo();
      await flushing;
      await settle();
      // The held flush's append and summary, and nothing of the tick: no append of `b`, the folder neither listed
      // nor measured.
      expect(store.calls).toEqual(['append', 'writeSummary']);
      expect(store.started).toBe(1);
      expect(seen.diskBytes).toBe(-1);

      // The next tick, with no flush running, writes `b` and measures the folder.
      jest.advanceTimersByTime(1000);
      await settle();
      expect(requestIds(store.text(LOG))).toEqual(['a', 'b']);
      expect(store.calls).toContain('list');
      expect(seen.diskBytes).toBe(
        Buffer.byteLength(store.text(LOG)!) + Buffer.byteLength(store.text(COUNTS)!),
      );
      expect(store.mostAtOnce).toBe(1);
      await log.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps a day it has open through ticks with nothing to write: a closed one is compressed without opening it again', async () => {
    jest.useFakeTimers({
      now: new Date('2026-11-30T12:00:00.000Z'),
      doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'],
    });
    try {
      const { log, store } = startLog({ PREDICTION_LOG_FLUSH_MS: '1000' });
      const day = logFileName('2026-11-30', 'replica-a');
      log.onApplicationBootstrap();
      await settle();
      log.record(batch('a', traffic.slice(0, 2)));
      await log.flush();
      expect(store.calls).toContain('cutTornTail');
      // Two days later, idle: the first tick finds the day closed and compresses it, with what it knew of it.
      jest.setSystemTime(new Date('2026-12-02T12:00:00.000Z'));
      store.calls.length = 0;
      jest.advanceTimersByTime(1000);
      for (let i = 0; i < 20 && !store.names().includes(`${day}.gz`); i++) await settle();
      expect(store.names()).toContain(`${day}.gz`);
      expect(store.names()).not.toContain(day);
      expect(store.calls).toContain('compress');
      expect(store.calls).not.toContain('cutTornTail');
      expect(store.calls).not.toContain('ensureFolder');
      expect(requestIds(store.text(`${day}.gz`))).toEqual(['a']);
      await log.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts a flush by itself once FLUSH_AT_ROWS rows wait, not before', async () => {
    const { log, store } = startLog();
    const rows = Array.from({ length: FLUSH_AT_ROWS }, (_, i) => traffic[i % traffic.length]);
    log.record(batch('almost', rows.slice(1)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.calls).not.toContain('append');
    log.record(batch('enough', rows.slice(0, 1)));
    await until(() => store.calls.includes('writeSummary'));
    expect(requestIds(store.text(LOG))).toEqual(['almost', 'enough']);
  });

  it('writes on its timer while it runs, and neither keeps the process alive nor ticks after shutdown', async () => {
    const { log, store } = startLog({ PREDICTION_LOG_FLUSH_MS: '10' });
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    log.onApplicationBootstrap();
    expect(timers()).toBe(before);
    log.record(batch('ticked', traffic.slice(0, 1)));
    await until(() => store.text(LOG) !== undefined);
    expect(requestIds(store.text(LOG))).toEqual(['ticked']);

    await log.onApplicationShutdown();
    log.record(batch('after', traffic.slice(1, 2)));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(requestIds(store.text(LOG))).toEqual(['ticked']);
  });

  it('applies the retention once a day: at start, not at every tick', async () => {
    const { log, store } = startLog({ PREDICTION_LOG_FLUSH_MS: '10', PREDICTION_LOG_RETENTION_DAYS: '7' });
    const old = logFileName(dayOf(new Date(Date.now() - 8 * 86_400_000)), 'replica-b');
    store.put(old, '');
    log.onApplicationBootstrap();
    await until(() => !store.names().includes(old));
    expect(store.names()).not.toContain(old);
    // Another replica's old file appearing later in the day waits for tomorrow's pass.
    store.put(old, '');
    const lists = () => store.calls.filter((call) => call === 'list').length;
    const listed = lists();
    await until(() => lists() >= listed + 6);
    await log.onApplicationShutdown();
    expect(lists()).toBeGreaterThanOrEqual(listed + 6);
    expect(store.names()).toContain(old);
  });

  const yesterday = () => new Date(Date.now() - 86_400_000);
  const CLOSED = () => logFileName(dayOf(yesterday()), 'replica-a');

  it('does nothing at start when disabled: no timer, no retention', async () => {
    const { log, store } = startLog({ PREDICTION_LOG_ENABLED: 'false', PREDICTION_LOG_RETENTION_DAYS: '7' });
    const old = logFileName(dayOf(new Date(Date.now() - 8 * 86_400_000)), 'replica-b');
    store.put(old, '');
    log.onApplicationBootstrap();
    await log.onApplicationShutdown();
    expect(store.calls).toEqual([]);
    expect(store.names()).toEqual([old]);
  });

  it('counts a failure of its start-up work (the folder cannot be listed) as a failed write', async () => {
    const { log, store, seen } = startLog();
    store.refuse('list');
    log.onApplicationBootstrap();
    await log.onApplicationShutdown();
    expect(seen.errors).toBe(1);
  });

  it('writes the segments of one day with one append, and a failed day’s rows again without the day before', async () => {
    /** A disk that refuses appends to one file only. */
    class RefusingOne extends MemoryLogStore {
      refusedName?: string;
      override async append(name: string, chunks: readonly Buffer[]): Promise<void> {
        if (name === this.refusedName)
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        return super.append(name, chunks);
      }
    }
    const { log, store, seen } = startLog({}, new RefusingOne());
    // More than a segment of today's rows: two segments, one append.
    const rows = Array.from({ length: SEGMENT_ROWS + 10 }, (_, i) => traffic[i % traffic.length]);
    log.record(batch('big', rows.slice(0, SEGMENT_ROWS)));
    log.record(batch('more', rows.slice(SEGMENT_ROWS)));
    await log.flush();
    expect(store.calls.filter((call) => call === 'append')).toHaveLength(1);
    expect(requestIds(store.text(LOG))).toEqual(['big', 'more']);

    // Yesterday's rows are written, today's fail: only today's wait for the next flush.
    store.refusedName = LOG;
    log.record(batch('late', traffic.slice(0, 2), yesterday()));
    log.record(batch('today', traffic.slice(2, 4)));
    await log.flush();
    expect(seen.errors).toBe(1);
    store.refusedName = undefined;
    await log.flush();
    expect(requestIds(store.text(CLOSED()))).toEqual(['late']);
    expect(requestIds(store.text(LOG))).toEqual(['big', 'more', 'today']);
  });

  it('drops the oldest rows when those put back after a failed write pass MAX_PENDING_ROWS', async () => {
    /** Appends wait for the spec's word, then fail. */
    class Gated extends MemoryLogStore {
      gate?: Promise<void>;
      override async append(): Promise<void> {
        this.calls.push('append');
        await this.gate;
        throw Object.assign(new Error('ENOSPC: no space left on device, append'), { code: 'ENOSPC' });
      }
    }
    const { log, store, seen } = startLog({}, new Gated());
    const chunk = Array.from({ length: 1000 }, (_, i) => traffic[i % traffic.length]);
    // A first failure: from now on only the timer (or a flush) writes.
    log.record(batch('first', chunk.slice(0, 1)));
    await log.flush();
    for (let i = 0; i < 40; i++) log.record(batch(`a${i}`, chunk));
    let open = () => undefined as void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const flushing = log.flush();
    await until(() => store.calls.filter((call) => call === 'append').length === 2);
    // While that write hangs, more rows come: 40,001 taken by the flush, 20,000 new.
    for (let i = 0; i < 20; i++) log.record(batch(`b${i}`, chunk));
    expect(seen.dropped).toBe(0);
    open();
    await flushing;
    // Put back in front of the new ones: 60,001 rows, the oldest dropped down to MAX_PENDING_ROWS.
    expect(seen.dropped).toBeGreaterThanOrEqual(40_001 + 20_000 - MAX_PENDING_ROWS);
    expect(seen.dropped).toBeLessThanOrEqual(40_001 + 20_000 - MAX_PENDING_ROWS + SEGMENT_ROWS);
  });

  it('compresses only its own closed days, one at a time, and counts a failed compression', async () => {
    /** Compressing takes a while: several ticks come in the middle. */
    class SlowCompression extends MemoryLogStore {
      override async compress(name: string): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 40));
        return super.compress(name);
      }
    }
    const { log, store, seen } = startLog({ PREDICTION_LOG_FLUSH_MS: '10' }, new SlowCompression());
    log.record(batch('old', traffic.slice(0, 2), yesterday()));
    log.record(batch('new', traffic.slice(2, 3)));
    await log.flush();
    store.put(logFileName(dayOf(yesterday()), 'replica-b'), '');
    log.onApplicationBootstrap();
    await until(() => store.names().includes(`${CLOSED()}.gz`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await log.onApplicationShutdown();
    // Today's log and another host's stay as they are; no compression ran twice.
    expect(store.names()).toContain(LOG);
    expect(store.names()).toContain(logFileName(dayOf(yesterday()), 'replica-b'));
    expect(store.names()).not.toContain(CLOSED());
    expect(store.calls.filter((call) => call === 'compress')).toHaveLength(1);
    expect(seen.errors).toBe(0);
  });

  it('compresses no day whose summary cannot be read, and counts a compression that fails', async () => {
    const { log, store, seen } = startLog({ PREDICTION_LOG_FLUSH_MS: '10' });
    log.record(batch('old', traffic.slice(0, 2), yesterday()));
    await log.flush();
    store.refuse('readSummary');
    log.onApplicationBootstrap();
    await until(() => seen.errors > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.calls).not.toContain('compress');
    expect(store.names()).toContain(CLOSED());

    store.heal();
    store.refuse('compress');
    const before = seen.errors;
    await until(() => store.calls.includes('compress') && seen.errors > before);
    await log.onApplicationShutdown();
    expect(seen.errors).toBeGreaterThan(before);
    expect(store.names()).toContain(CLOSED());
  });

  it('says which log the size cap deleted, and what retention removed', async () => {
    const info = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { log, store } = startLog({
        PREDICTION_LOG_FLUSH_MS: '10',
        PREDICTION_LOG_RETENTION_DAYS: '7',
        PREDICTION_LOG_MAX_BYTES: '10',
      });
      const day = (ago: number) => dayOf(new Date(Date.now() - ago * 86_400_000));
      store.put(logFileName(day(9), 'replica-b'), 'x');
      store.put(countsFileName(day(8), 'replica-b'), 'x');
      store.put(logFileName(day(3), 'replica-b'), 'x'.repeat(20));
      log.onApplicationBootstrap();
      await until(() => warn.mock.calls.length > 0);
      await log.onApplicationShutdown();
      expect(info).toHaveBeenCalledWith(`prediction log retention: removed 2 files from before ${day(7)}`);
      // Nothing to remove: no line.
      info.mockClear();
      const quiet = startLog({ PREDICTION_LOG_RETENTION_DAYS: '7' }).log;
      quiet.onApplicationBootstrap();
      await quiet.onApplicationShutdown();
      expect(info.mock.calls.filter(([line]) => String(line).includes('retention'))).toEqual([]);
      expect(warn).toHaveBeenCalledWith(
        `prediction log folder over PREDICTION_LOG_MAX_BYTES (10): deleted ${logFileName(day(3), 'replica-b')} (20 bytes); its count summary is kept, so drift over ${day(3)} stays exact`,
      );
    } finally {
      info.mockRestore();
      warn.mockRestore();
    }
  });

  it('applies the retention again once the day changes', async () => {
    jest.useFakeTimers({
      now: new Date('2026-11-30T23:59:59.950Z'),
      doNotFake: ['nextTick', 'queueMicrotask'],
    });
    try {
      const { log, store } = startLog({ PREDICTION_LOG_FLUSH_MS: '10', PREDICTION_LOG_RETENTION_DAYS: '7' });
      // Kept on 2026-11-30 (the oldest day kept is 2026-11-23), too old from 2026-12-01 on.
      store.put(logFileName('2026-11-23', 'replica-b'), '');
      log.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(20);
      expect(store.names()).toContain(logFileName('2026-11-23', 'replica-b'));
      await jest.advanceTimersByTimeAsync(100);
      expect(store.names()).not.toContain(logFileName('2026-11-23', 'replica-b'));
      await log.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });
});
