import { mkdir, open, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { CountSummaryFile, readCountSummary, writeCountSummary } from './count-summary';
import {
  compressLog,
  cutTornTail,
  listLogFiles,
  LogFileName,
  readLines,
  removePartials,
  restoreLog,
  sizeOf,
} from './log-files';

/** A log or count file of the folder, by name. */
export type StoredFile = LogFileName & { name: string };

/**
 * The prediction log's folder, as the log and its readers use it: the handful of operations they need, by file
 * name (see log-files.ts for the names and what each file holds). The one place the log meets the file system, so
 * a spec can hand it a MemoryLogStore and make the disk refuse, tear or lose whatever it likes.
 */
export abstract class LogStore {
  /** Every log and count file; a folder that does not exist has none. */
  abstract list(): Promise<StoredFile[]>;

  /** The folder, created when missing: appends and summaries need it. */
  abstract ensureFolder(): Promise<void>;

  /** Size of a file, or undefined when it does not exist. */
  abstract size(name: string): Promise<number | undefined>;

  /** Appends the chunks in order, whole or failing; the file is created when missing. */
  abstract append(name: string, chunks: readonly Buffer[]): Promise<void>;

  /** Cuts a last line without its newline (a process killed mid-append); returns the size after. */
  abstract cutTornTail(name: string): Promise<number>;

  /** Cuts the file back to `bytes`. */
  abstract truncate(name: string, bytes: number): Promise<void>;

  /** The complete lines in bytes [start, end) of a log (a compressed one is read whole). */
  abstract readLines(name: string, start?: number, end?: number): AsyncIterable<string>;

  /** A count summary, or undefined when missing or unreadable. */
  abstract readSummary(name: string): Promise<CountSummaryFile | undefined>;

  /** Replaces a count summary at once: readers see the old one or the new one, whole. */
  abstract writeSummary(name: string, summary: CountSummaryFile): Promise<void>;

  /** `<name>` → `<name>.gz`; a crash at any step leaves one complete form (or two equal ones). */
  abstract compress(name: string): Promise<void>;

  /** `<name>.gz` → `<name>`, for rows of a day already compressed. */
  abstract restore(compressedName: string): Promise<void>;

  /** Removes a file; false when it was already gone (another replica got there first). */
  abstract remove(name: string): Promise<boolean>;

  /** Removes what a crash in the middle of `compress` or `restore` left of one host's files. */
  abstract removePartials(host: string): Promise<void>;
}

/** The prediction log's folder on disk (PREDICTION_LOG_DIR). */
export class DiskLogStore extends LogStore {
  constructor(readonly dir: string) {
    super();
  }

  list(): Promise<StoredFile[]> {
    return listLogFiles(this.dir);
  }

  async ensureFolder(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  size(name: string): Promise<number | undefined> {
    return sizeOf(this.path(name));
  }

  /** libuv's writev carries on after a partial write, so the chunks land whole or fail. */
  async append(name: string, chunks: readonly Buffer[]): Promise<void> {
    const handle = await open(this.path(name), 'a');
    try {
      await handle.writev(chunks as Buffer[]);
    } finally {
      await handle.close();
    }
  }

  cutTornTail(name: string): Promise<number> {
    return cutTornTail(this.path(name));
  }

  truncate(name: string, bytes: number): Promise<void> {
    return truncate(this.path(name), bytes);
  }

  readLines(name: string, start?: number, end?: number): AsyncIterable<string> {
    return readLines(this.path(name), start, end);
  }

  readSummary(name: string): Promise<CountSummaryFile | undefined> {
    return readCountSummary(this.path(name));
  }

  writeSummary(name: string, summary: CountSummaryFile): Promise<void> {
    return writeCountSummary(this.path(name), summary);
  }

  compress(name: string): Promise<void> {
    return compressLog(this.path(name));
  }

  restore(compressedName: string): Promise<void> {
    return restoreLog(this.path(compressedName));
  }

  async remove(name: string): Promise<boolean> {
    try {
      await rm(this.path(name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  removePartials(host: string): Promise<void> {
    return removePartials(this.dir, host);
  }

  private path(name: string): string {
    return join(this.dir, name);
  }
}
