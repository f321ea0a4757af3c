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
import { mkdir, open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  capLogFolder,
  compressedLogFileName,
  compressLog,
  countsFileName,
  cutTornTail,
  dayOf,
  defaultHost,
  deleteDaysBefore,
  logFileName,
  listLogFiles,
  removePartials,
  restoreLog,
  sanitizeHost,
  settleBothForms,
  sizeOf,
} from './log-files';
import { MonitoringMetrics } from './monitoring-metrics';
import { readCountSummary } from './count-summary';
import { DayCounts, DayFile } from './day-counts';
import { RecordedRows, Segment } from './recorded-rows';
import { ReferenceProfiles } from './reference-profiles';

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

/** A failing disk fails every flush: one error line per this interval, with the count of those not logged. */
const ERROR_LOG_INTERVAL_MS = 30_000;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The prediction log: every answered request becomes one JSON line, with its rows, in `<dir>/<day>.<host>.jsonl`,
 * and the bin counts of those rows on the reference profile's frozen bins are kept beside it in `<day>.<host>.counts.json`.
 *
 * `record` encodes the lines and counts the rows into memory, no I/O; a timer writes what waits every
 * PREDICTION_LOG_FLUSH_MS (sooner past FLUSH_AT_ROWS) with one append per file, and shutdown writes the rest after
 * the HTTP server has drained. A failing disk never reaches a prediction: it is counted, logged at most every
 * 30 s, and the rows wait (bounded) for the next flush.
 */
@Injectable()
export class PredictionLog implements PredictionSink, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionLog.name);
  private readonly enabled: boolean;
  private readonly dir: string;
  private readonly host: string;
  private readonly flushMs: number;
  private readonly retentionDays: number;
  /** PREDICTION_LOG_MAX_BYTES, as set and in bytes (Infinity: no cap). */
  private readonly maxBytesText?: string;
  private readonly maxBytes: number;
  /** Rows recorded and not yet written: lines encoded, rows counted. */
  private readonly recorded: RecordedRows;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  private earlyFlushQueued = false;
  /** The last write failed: the disk may be gone, so rows wait for the timer's retry. */
  private failing = false;
  private readonly files = new Map<string, DayFile>();
  private readonly counts: DayCounts;
  private lastErrorAt = Number.NEGATIVE_INFINITY;
  private unloggedErrors = 0;
  private retentionDay?: string;
  /** compressClosedDay running: one at a time. */
  private compressing?: Promise<void>;
  /** The day whose log is being compressed, outside the write queue; an append to that day waits for it. */
  private compressingLog?: { day: string; done: Promise<unknown> };

  constructor(
    config: AppConfig,
    private readonly metrics: MonitoringMetrics,
    profiles: ReferenceProfiles,
    @Optional() @Inject(PREDICTION_LOG_HOST) host?: string,
  ) {
    this.enabled = config.get('PREDICTION_LOG_ENABLED');
    this.dir = config.get('PREDICTION_LOG_DIR');
    this.flushMs = config.get('PREDICTION_LOG_FLUSH_MS');
    this.retentionDays = config.get('PREDICTION_LOG_RETENTION_DAYS');
    this.maxBytesText = config.get('PREDICTION_LOG_MAX_BYTES');
    this.maxBytes = this.maxBytesText === undefined ? Infinity : parseByteSize(this.maxBytesText);
    this.host = host === undefined ? defaultHost() : sanitizeHost(host);
    this.recorded = new RecordedRows(config.get('PREDICTION_LOG_SAMPLE_RATE') ?? 1);
    this.counts = new DayCounts(profiles, this.host, this.logger);
  }

  /** The hot path: encodes and counts in memory; no I/O, no await, nothing that can throw into a prediction. */
  record(batch: AnsweredBatch): void {
    if (!this.enabled || batch.rows.length === 0) return;
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
      await removePartials(this.dir, this.host);
      await settleBothForms(this.dir, this.host);
      await this.retention();
      const today = dayOf(new Date());
      if ((await sizeOf(join(this.dir, logFileName(today, this.host)))) !== undefined) await this.open(today);
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
      const closed = (await listLogFiles(this.dir)).find(
        (f) =>
          f.kind === 'log' && !f.compressed && f.host === this.host && f.day < today && !waiting.has(f.day),
      );
      if (closed === undefined) return;
      let ready = false;
      await this.enqueue(async () => {
        const file = await this.open(closed.day);
        const summary = await readCountSummary(file.countsPath);
        // A summary that could not be saved lags its log: the day waits for a later tick.
        ready = summary !== undefined && summary.log_bytes === (await sizeOf(file.logPath));
        if (ready) this.files.delete(closed.day);
      });
      if (!ready) return;
      const done = compressLog(join(this.dir, closed.name));
      this.compressingLog = { day: closed.day, done: done.catch(() => undefined) };
      await done;
    } catch (error) {
      this.writeFailed(error);
    } finally {
      this.compressingLog = undefined;
      this.compressing = undefined;
    }
  }

  /** Measures the folder and, past PREDICTION_LOG_MAX_BYTES, deletes the oldest days' logs (see capLogFolder). */
  private async capFolder(): Promise<void> {
    const { deleted, bytes } = await capLogFolder(this.dir, this.maxBytes, dayOf(new Date()));
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
    const yesterday = dayOf(new Date(Date.now() - DAY_MS));
    for (const day of this.files.keys()) if (day < yesterday) this.files.delete(day);
  }

  /** Appends the segments' lines to the day's file and adds their counts; returns how many rows were written. */
  private async append(day: string, segments: readonly Segment[]): Promise<number> {
    let file = await this.open(day);
    if (file.dirty) file = await this.recover(file);
    // Targets first: a changed reference recounts the rows already in the file, before these are added.
    const entries = await this.counts.targetsFor(file, segments);
    const start = file.bytes;
    try {
      await appendChunks(
        file.logPath,
        segments.flatMap((segment) => segment.chunks.map((chunk) => chunk.bytes)),
      );
    } catch (error) {
      file.dirty = true;
      throw error;
    }
    file.bytes += segments.reduce((total, segment) => total + segment.bytes, 0);
    this.recorded.written(segments);
    await this.counts.addWritten(file, segments, entries, start);
    for (const { entry, counter } of entries.values())
      this.recorded.countOn(entry.model, entry.version, counter ?? null);
    // The rows are written; a summary that cannot be saved only makes readers read the log's tail.
    await this.counts.save(file).catch((error: unknown) => this.writeFailed(error));
    return segments.reduce((total, segment) => total + segment.logged, 0);
  }

  /** This process's view of a day file: created, its torn tail cut, its counts caught up with its lines. */
  private async open(day: string): Promise<DayFile> {
    const known = this.files.get(day);
    if (known) return known;
    await mkdir(this.dir, { recursive: true });
    // Rows for a day already closed and compressed: back to the plain form, then appended as usual.
    if (this.compressingLog?.day === day) await this.compressingLog.done;
    const compressed = join(this.dir, compressedLogFileName(day, this.host));
    if ((await sizeOf(compressed)) !== undefined) await restoreLog(compressed);
    const file: DayFile = {
      day,
      logPath: join(this.dir, logFileName(day, this.host)),
      countsPath: join(this.dir, countsFileName(day, this.host)),
      bytes: 0,
      counts: new Map(),
      dirty: false,
    };
    await this.counts.load(file, await cutTornTail(file.logPath));
    this.files.set(day, file);
    return file;
  }

  /** After a failed append: cut off whatever part of it reached the file, or start over if the file is gone. */
  private async recover(file: DayFile): Promise<DayFile> {
    const size = await sizeOf(file.logPath);
    if (size === undefined || size < file.bytes) {
      // Replaced or truncated behind our back: what we counted is no longer there.
      this.files.delete(file.day);
      return this.open(file.day);
    }
    if (size > file.bytes) await truncate(file.logPath, file.bytes);
    file.dirty = false;
    return file;
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
    const removed = await deleteDaysBefore(this.dir, oldestKept);
    if (removed > 0)
      this.logger.log(`prediction log retention: removed ${removed} files from before ${oldestKept}`);
  }

  private writeFailed(error: unknown): void {
    this.failing = true;
    this.metrics.writeFailed();
    const now = Date.now();
    if (now - this.lastErrorAt < ERROR_LOG_INTERVAL_MS) {
      this.unloggedErrors++;
      return;
    }
    const more =
      this.unloggedErrors > 0 ? ` (${this.unloggedErrors} more failures since the last message)` : '';
    this.lastErrorAt = now;
    this.unloggedErrors = 0;
    const message = (error as { message?: unknown } | undefined)?.message;
    const reason = typeof message === 'string' ? message : String(error);
    this.logger.error(
      `prediction log write failed: ${reason}; predictions are still served, ${this.recorded.rows} rows wait for the next flush${more}`,
    );
  }
}

/** Appends the chunks in order; libuv's writev carries on after a partial write, so they land whole or fail. */
async function appendChunks(path: string, chunks: Buffer[]): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.writev(chunks);
  } finally {
    await handle.close();
  }
}
