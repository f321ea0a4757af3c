import { AppConfig } from '@app/config';
import { AnsweredBatch, PredictionSink } from '@app/inference';
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
  BinCounter,
  COUNTS_FORMAT,
  countsKey,
  ModelCounts,
  unbinned,
  writeCountSummary,
  readCountSummary,
} from './count-summary';
import {
  countsFileName,
  cutTornTail,
  dayOf,
  defaultHost,
  deleteDaysBefore,
  logFileName,
  readLines,
  sanitizeHost,
  sizeOf,
} from './log-files';
import { observedOutput, parseRecord, recordLines } from './log-record';
import { MonitoringMetrics } from './monitoring-metrics';
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

/** What this process knows about one day's log file of its own. */
interface DayFile {
  day: string;
  logPath: string;
  countsPath: string;
  /** Bytes of the file that are whole lines, all counted in `counts`. */
  bytes: number;
  counts: Map<string, ModelCounts>;
  /** A write failed: the file may hold part of it, cut back to `bytes` before the next append. */
  dirty: boolean;
}

/**
 * The prediction log: every answered row becomes one JSON line in `<dir>/<day>.<host>.jsonl`, and the bin counts
 * of those rows on the reference profile's frozen bins are kept beside it in `<day>.<host>.counts.json`.
 *
 * `record` only pushes onto an in-memory buffer; a timer writes it every PREDICTION_LOG_FLUSH_MS with one append
 * per file, and shutdown writes the rest after the HTTP server has drained. A failing disk never reaches a
 * prediction: it is counted, logged at most every 30 s, and the rows wait (bounded) for the next flush.
 */
@Injectable()
export class PredictionLog implements PredictionSink, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionLog.name);
  private readonly enabled: boolean;
  private readonly dir: string;
  private readonly host: string;
  private readonly flushMs: number;
  private readonly retentionDays: number;
  private pending: AnsweredBatch[] = [];
  private pendingRows = 0;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  private earlyFlushQueued = false;
  /** The last write failed: the disk may be gone, so rows wait for the timer's retry. */
  private failing = false;
  private readonly files = new Map<string, DayFile>();
  /** References looked up during one flush, so a flush stats each reference.json once. */
  private references = new Map<string, Promise<BinCounter | undefined>>();
  private readonly badReferences = new Set<string>();
  private lastErrorAt = Number.NEGATIVE_INFINITY;
  private unloggedErrors = 0;
  private retentionDay?: string;

  constructor(
    config: AppConfig,
    private readonly metrics: MonitoringMetrics,
    private readonly profiles: ReferenceProfiles,
    @Optional() @Inject(PREDICTION_LOG_HOST) host?: string,
  ) {
    this.enabled = config.get('PREDICTION_LOG_ENABLED');
    this.dir = config.get('PREDICTION_LOG_DIR');
    this.flushMs = config.get('PREDICTION_LOG_FLUSH_MS');
    this.retentionDays = config.get('PREDICTION_LOG_RETENTION_DAYS');
    this.host = host === undefined ? defaultHost() : sanitizeHost(host);
  }

  /** The hot path: no I/O, no await, nothing that can throw into a prediction. */
  record(batch: AnsweredBatch): void {
    if (!this.enabled || batch.rows.length === 0) return;
    this.pending.push(batch);
    this.pendingRows += batch.rows.length;
    if (this.pendingRows > MAX_PENDING_ROWS) this.dropOldest();
    else if (this.pendingRows >= FLUSH_AT_ROWS) this.flushEarly();
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
    // A crash may have left today's file with a torn last line: cut it now rather than at the first append.
    void this.enqueue(async () => {
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
    });
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

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.references = new Map();
    const byDay = new Map<string, AnsweredBatch[]>();
    for (const batch of batches) {
      const day = dayOf(batch.at);
      const list = byDay.get(day) ?? [];
      list.push(batch);
      byDay.set(day, list);
    }
    for (const [day, dayBatches] of byDay) {
      try {
        this.metrics.recordsWritten(await this.append(day, dayBatches));
        this.failing = false;
      } catch (error) {
        this.requeue(dayBatches);
        this.writeFailed(error);
      }
    }
    // Only yesterday and today can still get rows.
    for (const day of this.files.keys())
      if (!byDay.has(day) && day < dayOf(new Date(Date.now() - DAY_MS))) this.files.delete(day);
  }

  /** Appends the batches' rows to the day's file and counts them; returns how many rows were written. */
  private async append(day: string, batches: readonly AnsweredBatch[]): Promise<number> {
    let file = await this.open(day);
    if (file.dirty) file = await this.recover(file);
    // Entries first: a changed reference recounts the rows already in the file, before these are added.
    const entries = new Map<string, { entry: ModelCounts; counter?: BinCounter }>();
    for (const batch of batches) {
      const key = countsKey(batch.model, batch.version);
      if (!entries.has(key)) entries.set(key, await this.entryFor(file, batch.model, batch.version));
    }
    // Encoded slice by slice and written with one writev: one 30 MB string would be encoded in a single turn.
    const chunks: Buffer[] = [];
    await inSlices(batches, (slice) => chunks.push(Buffer.from(slice.map(recordLines).join(''))));
    try {
      await appendChunks(file.logPath, chunks);
    } catch (error) {
      file.dirty = true;
      throw error;
    }
    file.bytes += chunks.reduce((total, chunk) => total + chunk.length, 0);
    let rows = 0;
    await inSlices(batches, (slice) => {
      for (const batch of slice) {
        const { entry, counter } = entries.get(countsKey(batch.model, batch.version))!;
        rows += batch.rows.length;
        if (!counter) {
          entry.n += batch.rows.length;
          continue;
        }
        batch.rows.forEach((features, i) =>
          counter.add(entry, features, observedOutput(batch.predictions[i])),
        );
      }
    });
    // The rows are written; a summary that cannot be saved only makes readers read the log's tail.
    await this.saveCounts(file).catch((error: unknown) => this.writeFailed(error));
    return rows;
  }

  /** This process's view of a day file: created, its torn tail cut, its counts caught up with its lines. */
  private async open(day: string): Promise<DayFile> {
    const known = this.files.get(day);
    if (known) return known;
    await mkdir(this.dir, { recursive: true });
    const file: DayFile = {
      day,
      logPath: join(this.dir, logFileName(day, this.host)),
      countsPath: join(this.dir, countsFileName(day, this.host)),
      bytes: 0,
      counts: new Map(),
      dirty: false,
    };
    const size = await cutTornTail(file.logPath);
    const summary = await readCountSummary(file.countsPath);
    if (summary && summary.day === day && summary.host === this.host && summary.log_bytes <= size) {
      for (const counts of summary.models) file.counts.set(countsKey(counts.model, counts.version), counts);
      file.bytes = summary.log_bytes;
    }
    // Lines written after the last summary (a crash between the append and the summary) are counted now.
    if (file.bytes < size) {
      for await (const line of readLines(file.logPath, file.bytes, size)) {
        const record = parseRecord(line);
        if (!record) continue;
        const { entry, counter } = await this.entryFor(file, record.model, record.version);
        if (counter) counter.add(entry, record.features, record);
        else entry.n++;
      }
      file.bytes = size;
      await this.saveCounts(file);
    }
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

  /**
   * The counts of a model version in a file, on the bins of its current reference profile. When the profile is
   * new or changed, the rows already in the file are counted again on the new bins, so a summary always matches
   * the profile it names.
   */
  private async entryFor(
    file: DayFile,
    model: string,
    version: string,
  ): Promise<{ entry: ModelCounts; counter?: BinCounter }> {
    const key = countsKey(model, version);
    const counter = await this.counterFor(model, version);
    const existing = file.counts.get(key);
    if (existing && existing.bins === (counter?.hash ?? null)) return { entry: existing, counter };
    const entry = counter ? counter.empty(model, version) : unbinned(model, version);
    if (existing && file.bytes > 0) {
      for await (const line of readLines(file.logPath, 0, file.bytes)) {
        const record = parseRecord(line);
        if (!record || record.model !== model || record.version !== version) continue;
        if (counter) counter.add(entry, record.features, record);
        else entry.n++;
      }
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

  private saveCounts(file: DayFile): Promise<void> {
    return writeCountSummary(file.countsPath, {
      format: COUNTS_FORMAT,
      day: file.day,
      host: this.host,
      log_bytes: file.bytes,
      updated_at: new Date().toISOString(),
      models: [...file.counts.values()],
    });
  }

  private requeue(batches: AnsweredBatch[]): void {
    this.pending = [...batches, ...this.pending];
    this.pendingRows = this.pending.reduce((sum, batch) => sum + batch.rows.length, 0);
    if (this.pendingRows > MAX_PENDING_ROWS) this.dropOldest();
  }

  private dropOldest(): void {
    let batches = 0;
    let dropped = 0;
    while (this.pendingRows - dropped > MAX_PENDING_ROWS && batches < this.pending.length) {
      dropped += this.pending[batches++].rows.length;
    }
    this.pending.splice(0, batches);
    this.pendingRows -= dropped;
    this.metrics.recordsDropped(dropped);
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
      `prediction log write failed: ${reason}; predictions are still served, ${this.pendingRows} rows wait for the next flush${more}`,
    );
  }
}

/**
 * Rows handled in one event-loop turn by a flush: a second's worth of busy traffic in one go would stall requests
 * for tens of milliseconds.
 */
const FLUSH_SLICE_ROWS = 1024;

/** Runs `work` over the batches about FLUSH_SLICE_ROWS rows at a time, letting requests in between slices. */
async function inSlices(
  batches: readonly AnsweredBatch[],
  work: (slice: readonly AnsweredBatch[]) => unknown,
): Promise<void> {
  for (let start = 0; start < batches.length;) {
    let end = start;
    let rows = 0;
    while (end < batches.length && (end === start || rows + batches[end].rows.length <= FLUSH_SLICE_ROWS)) {
      rows += batches[end++].rows.length;
    }
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    work(batches.slice(start, end));
    start = end;
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
