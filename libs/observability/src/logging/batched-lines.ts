import type { DestinationStream } from 'pino';

/** Where BatchedLines writes: a synchronous writer of whole strings (pino's SonicBoom with `sync: true`). */
export interface LineSink {
  write(text: string): unknown;
}

/**
 * Log lines gathered for a few milliseconds and written together, in writes of whole lines of at most `maxBytes`
 * each (the size a pipe writes atomically, so HTTP workers sharing stdout never interleave inside a line).
 *
 * Under load every request writes a line; one `write(2)` each cost more than the line (about 10 µs a request on
 * this project's bench, where stdout is a file the processes share). Gathering them is what nginx's
 * `access_log … buffer= flush=` does. Nothing is lost on the way out: `process.exit`, an uncaught exception and
 * pino's `flush` all write what waits; only a SIGKILL loses the last `delayMs` of lines.
 */
export class BatchedLines implements DestinationStream {
  private pending = '';
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private readonly onExit = () => this.flushSync();

  constructor(
    private readonly sink: LineSink,
    private readonly delayMs: number,
    private readonly maxBytes: number,
  ) {
    process.once('exit', this.onExit);
  }

  write(line: string): void {
    const size = Buffer.byteLength(line);
    if (this.bytes + size > this.maxBytes) this.flushSync();
    this.pending += line;
    this.bytes += size;
    // Unref'd: waiting lines never keep a process alive, and its exit writes them.
    this.timer ??= setTimeout(() => this.flushSync(), this.delayMs).unref();
  }

  /** Writes what waits, now. */
  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.bytes = 0;
    this.sink.write(text);
  }

  /** pino's `logger.flush(cb)`. */
  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  /** Stops listening for the process's exit, after writing what waits (specs build many). */
  close(): void {
    this.flushSync();
    process.removeListener('exit', this.onExit);
  }
}
