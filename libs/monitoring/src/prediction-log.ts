import { AppConfig } from '@app/config';
import { AnsweredBatch, PredictionSink } from '@app/inference';
import { parseByteSize } from '@app/observability';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { DayCounts, type ReferenceLookup } from './day-counts';
import { DayFiles } from './day-files';
import { dayOf, defaultHost, sanitizeHost } from './log-files';
import { capLogFolder, deleteDaysBefore, settleBothForms } from './log-housekeeping';
import { LogStore } from './log-store';
import { MonitoringMetrics } from './monitoring-metrics';
import { RecordedRows, Segment } from './recorded-rows';
import { ReferenceProfileStore } from './reference-profile-store';
import { WriteFailureLines } from './write-failures';

/** Overrides the host name in file names (specs simulate several replicas in one process). */
export const PREDICTION_LOG_HOST = Symbol('PREDICTION_LOG_HOST');

/**
 * Most rows kept in memory while the disk refuses writes. Failed rows are retried at every flush; past this
 * bound the oldest are dropped (and counted), so a dead disk costs bounded memory, never the service.
 */
export const MAX_PENDING_ROWS = 50_000;

/**
 * Rows that start a flush without waiting for the timer: a busy process answers well over MAX_PENDING_ROWS rows in
 * one PREDICTION_LOG_FLUSH_MS, which a healthy disk must never cost.
 */
export const FLUSH_AT_ROWS = 8_192;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the log tells the metrics: written, failed, dropped, deleted, measured. */
export type PredictionLogMetrics = Pick<
  MonitoringMetrics,
  'recordsWritten' | 'writeFailed' | 'recordsDropped' | 'logDeleted' | 'logFolderMeasured'
>;

/**
 * The prediction log: every answered request becomes one JSON line, with its rows, in `<dir>/<day>.<host>.jsonl`,
 * and the bin counts of those rows on the reference profile's frozen bins are kept beside it in `<day>.<host>.counts.json`.
 *
 * `record` encodes the lines and counts the rows into memory, no I/O; a timer writes what waits every
 * PREDICTION_LOG_FLUSH_MS (sooner past FLUSH_AT_ROWS) with one append per file, and shutdown writes the rest after
 * the HTTP server has drained. A failing disk never reaches a prediction: it is counted, logged at most every
 * 30 s, and the rows wait (bounded) for the next flush.
 *
 * This class is the buffer's hand-off to the disk, one writer at a time, and the folder's upkeep (retention, the
 * size cap, compressing closed days). The files themselves are DayFiles', their count summaries DayCounts', and
 * every byte goes through the LogStore.
 */
@Injectable()
export class PredictionLog implements PredictionSink, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionLog.name);
  private readonly enabled: boolean;
  private readonly host: string;
  private readonly flushMs: number;
  private readonly retentionDays: number;
  /** PREDICTION_LOG_MAX_BYTES, as set and in bytes (Infinity: no cap). */
  private readonly maxBytesText?: string;
  private readonly maxBytes: number;
  /** Rows recorded and not yet written: lines encoded, rows counted. */
  private readonly recorded: RecordedRows;
  private readonly counts: DayCounts;
  private readonly files: DayFiles;
  private readonly failureLines: WriteFailureLines;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  private earlyFlushQueued = false;
  /** The last write failed: the disk may be gone, so rows wait for the timer's retry. */
  private failing = false;
  private retentionDay?: string;
  /** compressClosedDay running: one at a time. */
  private compressing?: Promise<void>;

  constructor(
    config: AppConfig,
    @Inject(MonitoringMetrics) private readonly metrics: PredictionLogMetrics,
    @Inject(ReferenceProfileStore) profiles: ReferenceLookup,
    private readonly store: LogStore,
    @Optional() @Inject(PREDICTION_LOG_HOST) host?: string,
  ) {
    this.enabled = config.get('PREDICTION_LOG_ENABLED');
    this.flushMs = config.get('PREDICTION_LOG_FLUSH_MS');
    this.retentionDays = config.get('PREDICTION_LOG_RETENTION_DAYS');
    this.maxBytesText = config.get('PREDICTION_LOG_MAX_BYTES');
    this.maxBytes = this.maxBytesText === undefined ? Infinity : parseByteSize(this.maxBytesText);
    this.host = host === undefined ? defaultHost() : sanitizeHost(host);
    this.recorded = new RecordedRows(config.get('PREDICTION_LOG_SAMPLE_RATE') ?? 1);
    this.counts = new DayCounts(profiles, this.host, this.logger, store);
    this.files = new DayFiles(store, this.host, this.counts);
    this.failureLines = new WriteFailureLines(this.logger);
  }

  /** The hot path: encodes and counts in memory; no I/O, no await, nothing that can throw into a prediction. */
  record(batch: AnsweredBatch): void {
    if (!this.enabled || batch.predictions.length === 0) return;
    this.recorded.record(batch);
    if (this.recorded.rows > MAX_PENDING_ROWS) this.dropOldest();
    else if (this.recorded.rows >= FLUSH_AT_ROWS) this.flushEarly();
  }

  /** A flush now, unless one is running or queued; while the disk refuses writes, retries keep to the timer. */
  private flushEarly(): void {
    if (this.busy || this.earlyFlushQueued || this.failing) return;
    this.earlyFlushQueued = true;
    void this.enqueue(() => {
      this.earlyFlushQueued = false;
      return this.writePending();
    });
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.tick(), this.flushMs);
    // The HTTP server keeps the process alive; the log must not keep a finished CLI or spec alive.
    this.timer.unref();
    // A crash may have left today's file with a torn last line: cut it now rather than at the first append; and a
    // compression cut short, its temporary file or both forms of a day.
    void this.enqueue(async () => {
      await this.store.removePartials(this.host);
      await settleBothForms(this.store, this.host);
      await this.retention();
      await this.files.openIfExists(dayOf(new Date()));
    });
  }

  /** Called by Nest after the HTTP server has closed: requests that finished while draining are written too. */
  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes everything recorded so far (waiting for a flush already running). */
  flush(): Promise<void> {
    return this.enqueue(() => this.writePending());
  }

  private tick(): void {
    if (this.busy) return;
    void this.enqueue(async () => {
      await this.writePending();
      if (this.retentionDay !== dayOf(new Date())) await this.retention();
      await this.capFolder();
      if (this.compressing === undefined) this.compressing = this.compressClosedDay();
    });
  }

  /**
   * Compresses one of this process's closed days (before today, nothing of it waiting), outside the write queue:
   * a large day takes a while, and appends must not wait for it. Its summary is caught up with its lines first (in
   * the queue), so readers of the compressed form can trust the summary for the whole file. One day per tick.
   */
  private async compressClosedDay(): Promise<void> {
    try {
      const today = dayOf(new Date());
      const waiting = this.recorded.days;
      const closed = (await this.store.list()).find(
        (f) =>
          f.kind === 'log' && !f.compressed && f.host === this.host && f.day < today && !waiting.has(f.day),
      );
      if (closed === undefined) return;
      let ready = false;
      await this.enqueue(async () => {
        // A summary that could not be saved lags its log: the day waits for a later tick.
        ready = await this.files.readyToCompress(closed.day);
      });
      if (ready) await this.files.compress(closed.day);
    } catch (error) {
      this.writeFailed(error);
    } finally {
      this.compressing = undefined;
    }
  }

  /** Measures the folder and, past PREDICTION_LOG_MAX_BYTES, deletes the oldest days' logs (see capLogFolder). */
  private async capFolder(): Promise<void> {
    const { deleted, bytes } = await capLogFolder(this.store, this.maxBytes, dayOf(new Date()));
    for (const file of deleted) {
      this.metrics.logDeleted(file.bytes);
      this.logger.warn(
        `prediction log folder over PREDICTION_LOG_MAX_BYTES (${this.maxBytesText}): deleted ${file.name} (${file.bytes} bytes); its count summary is kept, so drift over ${file.day} stays exact`,
      );
    }
    this.metrics.logFolderMeasured(bytes);
  }

  /** One writer at a time; a failure is handled inside, never left as a rejected promise. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        await work();
      } catch (error) {
        this.writeFailed(error);
      } finally {
        this.busy = false;
      }
    });
    this.chain = run;
    return run;
  }

  /** Writes the waiting segments, one append per run of the same day; on a failure the rest wait, in order. */
  private async writePending(): Promise<void> {
    const segments = this.recorded.takeAll();
    if (segments.length === 0) return;
    this.counts.beginFlush();
    for (let start = 0; start < segments.length;) {
      let end = start + 1;
      while (end < segments.length && segments[end].day === segments[start].day) end++;
      const run = segments.slice(start, end);
      try {
        this.metrics.recordsWritten(await this.append(run[0].day, run));
        this.failing = false;
      } catch (error) {
        this.requeue(segments.slice(start));
        this.writeFailed(error);
        return;
      }
      start = end;
    }
    // Only yesterday and today can still get rows.
    this.files.forgetBefore(dayOf(new Date(Date.now() - DAY_MS)));
  }

  /** Appends the segments' lines to the day's file and adds their counts; returns how many rows were written. */
  private async append(day: string, segments: readonly Segment[]): Promise<number> {
    const file = await this.files.forAppend(day);
    // Targets first: a changed reference recounts the rows already in the file, before these are added.
    const targets = await this.counts.targetsFor(file, segments);
    const start = file.bytes;
    await this.files.append(file, segments);
    this.recorded.written(segments);
    await this.counts.addWritten(file, segments, targets, start);
    for (const { entry, counter } of targets.values())
      this.recorded.countOn(entry.model, entry.version, counter ?? null);
    // The rows are written; a summary that cannot be saved only makes readers read the log's tail.
    await this.counts.save(file).catch((error: unknown) => this.writeFailed(error));
    return segments.reduce((total, segment) => total + segment.logged, 0);
  }

  /** Puts segments that could not be written back in front of those recorded since, in order. */
  private requeue(segments: Segment[]): void {
    this.recorded.putBack(segments);
    if (this.recorded.rows > MAX_PENDING_ROWS) this.dropOldest();
  }

  /** Past MAX_PENDING_ROWS waiting (a disk refusing writes for long), the oldest rows go, and are counted. */
  private dropOldest(): void {
    this.metrics.recordsDropped(this.recorded.dropOldest(MAX_PENDING_ROWS));
  }

  private async retention(): Promise<void> {
    const today = dayOf(new Date());
    this.retentionDay = today;
    const oldestKept = dayOf(new Date(Date.now() - this.retentionDays * DAY_MS));
    const removed = await deleteDaysBefore(this.store, oldestKept);
    if (removed > 0)
      this.logger.log(`prediction log retention: removed ${removed} files from before ${oldestKept}`);
  }

  private writeFailed(error: unknown): void {
    this.failing = true;
    this.metrics.writeFailed();
    this.failureLines.failed(error, this.recorded.rows);
  }
}
