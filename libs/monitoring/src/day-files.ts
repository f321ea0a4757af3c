import { DayCounts, DayFile } from './day-counts';
import { compressedLogFileName, countsFileName, logFileName } from './log-files';
import type { LogStore } from './log-store';
import type { Segment } from './recorded-rows';

/**
 * This process's own day files, as the prediction log appends to them: each opened once (a day already compressed
 * restored, a torn last line cut, its counts caught up with its lines), appended to whole or cut back after a
 * failed append, and let go once the day is closed. Which rows to write and when is PredictionLog's to decide.
 */
export class DayFiles {
  private readonly files = new Map<string, DayFile>();
  /** The day whose log is being compressed, outside the write queue; an append to that day waits for it. */
  private compressing?: { day: string; done: Promise<unknown> };

  constructor(
    private readonly store: LogStore,
    private readonly host: string,
    private readonly counts: DayCounts,
  ) {}

  /** The day's file, ready for an append: after a failed one, what part of it reached the file is cut off. */
  async forAppend(day: string): Promise<DayFile> {
    const file = await this.open(day);
    return file.dirty ? this.recover(file) : file;
  }

  /** Appends the segments' lines, whole or not at all (a failure leaves the file to be cut back: `dirty`). */
  async append(file: DayFile, segments: readonly Segment[]): Promise<void> {
    try {
      await this.store.append(
        file.logName,
        segments.flatMap((segment) => segment.chunks.map((chunk) => chunk.bytes)),
      );
    } catch (error) {
      file.dirty = true;
      throw error;
    }
    file.bytes += segments.reduce((total, segment) => total + segment.bytes, 0);
  }

  /** Opens the day's file when it exists (at start: a crash may have left a torn last line to cut). */
  async openIfExists(day: string): Promise<void> {
    if ((await this.store.size(logFileName(day, this.host))) !== undefined) await this.open(day);
  }

  /**
   * Whether a closed day's log can be compressed: its summary caught up with every line (readers of the compressed
   * form trust it for the whole file). When it can, the file is let go: a later row for the day opens it again.
   */
  async readyToCompress(day: string): Promise<boolean> {
    const file = await this.open(day);
    const ready = await this.counts.coverWholeLog(file);
    if (ready) this.files.delete(day);
    return ready;
  }

  /** Compresses a day's log (outside the write queue: a large day takes a while); opening the day waits for it. */
  async compress(day: string): Promise<void> {
    const done = this.store.compress(logFileName(day, this.host));
    this.compressing = { day, done: done.catch(() => undefined) };
    try {
      await done;
    } finally {
      this.compressing = undefined;
    }
  }

  /** Lets go of the days before `day`: no row can come for them any more. */
  forgetBefore(day: string): void {
    for (const known of this.files.keys()) if (known < day) this.files.delete(known);
  }

  /** This process's view of a day file: created, its torn tail cut, its counts caught up with its lines. */
  private async open(day: string): Promise<DayFile> {
    const known = this.files.get(day);
    if (known) return known;
    await this.store.ensureFolder();
    // Rows for a day already closed and compressed: back to the plain form, then appended as usual.
    if (this.compressing?.day === day) await this.compressing.done;
    const compressed = compressedLogFileName(day, this.host);
    if ((await this.store.size(compressed)) !== undefined) await this.store.restore(compressed);
    const file: DayFile = {
      day,
      logName: logFileName(day, this.host),
      countsName: countsFileName(day, this.host),
      bytes: 0,
      counts: new Map(),
      dirty: false,
    };
    await this.counts.load(file, await this.store.cutTornTail(file.logName));
    this.files.set(day, file);
    return file;
  }

  /** After a failed append: cut off whatever part of it reached the file, or start over if the file is gone. */
  private async recover(file: DayFile): Promise<DayFile> {
    const size = await this.store.size(file.logName);
    if (size === undefined || size < file.bytes) {
      // Replaced or truncated behind our back: what we counted is no longer there.
      this.files.delete(file.day);
      return this.open(file.day);
    }
    if (size > file.bytes) await this.store.truncate(file.logName, file.bytes);
    file.dirty = false;
    return file;
  }
}
