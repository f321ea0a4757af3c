import { gunzipSync, gzipSync } from 'node:zlib';
import { COUNTS_FORMAT, CountSummaryFile } from './count-summary';
import { COMPRESSED_SUFFIX, parseLogFileName } from './log-files';
import { LogStore, StoredFile } from './log-store';

/** The LogStore operations a spec can make fail. */
export type StoreOperation =
  | 'list'
  | 'ensureFolder'
  | 'size'
  | 'append'
  | 'cutTornTail'
  | 'truncate'
  | 'readLines'
  | 'readSummary'
  | 'writeSummary'
  | 'compress'
  | 'restore'
  | 'remove';

/**
 * A LogStore in memory, for specs: what the log does with its files, without a folder, and a disk that refuses
 * whatever a spec says (every call of an operation until `heal`, or an append that lands in part). `calls` keeps
 * the operations in order, so a spec can hold a flush to its number of file-system calls.
 */
export class MemoryLogStore extends LogStore {
  readonly calls: StoreOperation[] = [];
  private readonly files = new Map<string, Buffer>();
  private readonly refused = new Map<StoreOperation, { error: Error; landed?: number }>();

  /**
   * From now on `operation` fails, as a full disk does (ENOSPC). With `landed`, an append first writes that many
   * of its bytes: what a process killed or a disk filling up mid-append leaves.
   */
  refuse(operation: StoreOperation, landed?: number): void {
    const error = Object.assign(new Error(`ENOSPC: no space left on device, ${operation}`), {
      code: 'ENOSPC',
    });
    this.refused.set(operation, { error, landed });
  }

  /** The operation (every one, without an argument) works again. */
  heal(operation?: StoreOperation): void {
    if (operation === undefined) this.refused.clear();
    else this.refused.delete(operation);
  }

  /** A file's content as text (undefined when missing); a compressed log is given uncompressed. */
  text(name: string): string | undefined {
    const bytes = this.files.get(name);
    if (bytes === undefined) return undefined;
    return (name.endsWith(COMPRESSED_SUFFIX) ? gunzipSync(bytes) : bytes).toString('utf8');
  }

  /** Writes a file as it is, behind the log's back (a crash's leftovers, another replica, an operator). */
  put(name: string, text: string): void {
    this.files.set(name, Buffer.from(text));
  }

  /** Every file's name, sorted. */
  names(): string[] {
    return [...this.files.keys()].sort();
  }

  list(): Promise<StoredFile[]> {
    return this.run('list', () =>
      [...this.files.keys()].flatMap((name) => {
        const parsed = parseLogFileName(name);
        return parsed ? [{ ...parsed, name }] : [];
      }),
    );
  }

  ensureFolder(): Promise<void> {
    return this.run('ensureFolder', () => undefined);
  }

  size(name: string): Promise<number | undefined> {
    return this.run('size', () => this.files.get(name)?.length);
  }

  async append(name: string, chunks: readonly Buffer[]): Promise<void> {
    this.calls.push('append');
    await Promise.resolve();
    const added = Buffer.concat(chunks);
    const refused = this.refused.get('append');
    const landed = refused === undefined ? added.length : Math.min(refused.landed ?? 0, added.length);
    this.files.set(name, Buffer.concat([this.files.get(name) ?? Buffer.alloc(0), added.subarray(0, landed)]));
    if (refused) throw refused.error;
  }

  cutTornTail(name: string): Promise<number> {
    return this.run('cutTornTail', () => {
      const bytes = this.files.get(name);
      if (bytes === undefined) return 0;
      const end = bytes.lastIndexOf(0x0a) + 1;
      this.files.set(name, bytes.subarray(0, end));
      return end;
    });
  }

  truncate(name: string, bytes: number): Promise<void> {
    return this.run('truncate', () => {
      this.files.set(name, this.existing(name).subarray(0, bytes));
    });
  }

  async *readLines(name: string, start = 0, end?: number): AsyncGenerator<string> {
    const text = await this.run('readLines', () => {
      const bytes = this.existing(name);
      if (name.endsWith(COMPRESSED_SUFFIX)) return gunzipSync(bytes).toString('utf8');
      return bytes.subarray(start, end).toString('utf8');
    });
    const lines = text.split('\n');
    // A last line without its newline is torn (or still being written).
    lines.pop();
    yield* lines;
  }

  readSummary(name: string): Promise<CountSummaryFile | undefined> {
    return this.run('readSummary', () => {
      try {
        const value = JSON.parse(this.text(name) ?? '') as CountSummaryFile;
        return value.format === COUNTS_FORMAT ? value : undefined;
      } catch {
        return undefined;
      }
    });
  }

  writeSummary(name: string, summary: CountSummaryFile): Promise<void> {
    return this.run('writeSummary', () => this.put(name, JSON.stringify(summary)));
  }

  compress(name: string): Promise<void> {
    return this.run('compress', () => {
      this.files.set(`${name}.gz`, gzipSync(this.existing(name)));
      this.files.delete(name);
    });
  }

  restore(compressedName: string): Promise<void> {
    return this.run('restore', () => {
      this.files.set(compressedName.slice(0, -'.gz'.length), gunzipSync(this.existing(compressedName)));
      this.files.delete(compressedName);
    });
  }

  remove(name: string): Promise<boolean> {
    return this.run('remove', () => this.files.delete(name));
  }

  /** Nothing is ever half-written here. */
  removePartials(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs an operation as the disk would: later (never synchronously), or failing when refused. */
  private async run<T>(operation: StoreOperation, work: () => T): Promise<T> {
    this.calls.push(operation);
    await Promise.resolve();
    const refused = this.refused.get(operation);
    if (refused) throw refused.error;
    return work();
  }

  private existing(name: string): Buffer {
    const bytes = this.files.get(name);
    if (bytes === undefined)
      throw Object.assign(new Error(`ENOENT: no such file, ${name}`), { code: 'ENOENT' });
    return bytes;
  }
}
