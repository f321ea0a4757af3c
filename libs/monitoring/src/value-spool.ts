import { FileHandle, open, rm } from 'node:fs/promises';

/** Values written and read back in chunks of this many (512 KB). */
const CHUNK = 1 << 16;

/**
 * Numbers kept on disk between passes over a file, 8 bytes each, written and read back in order. The profile
 * keeps the model's scores here after the first pass: reading them back costs far less than running the model
 * over every row again, and memory stays at one chunk whatever the row count.
 */
export class ValueSpool {
  private readonly chunk = new Float64Array(CHUNK);
  private size = 0;
  private written = 0;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  /** A new, empty spool file at `path` (replacing any file there). */
  static async create(path: string): Promise<ValueSpool> {
    return new ValueSpool(path, await open(path, 'w+'));
  }

  /** Values added so far. */
  get count(): number {
    return this.written + this.size;
  }

  /** Adds a value; awaits only when a full chunk goes to disk. */
  async add(value: number): Promise<void> {
    this.chunk[this.size++] = value;
    if (this.size === CHUNK) await this.flush();
  }

  /** Every value added, in order, a chunk at a time (each chunk is valid until the next one is read). */
  async *chunks(): AsyncGenerator<Float64Array> {
    await this.flush();
    const buffer = new Float64Array(CHUNK);
    const bytes = new Uint8Array(buffer.buffer);
    let position = 0;
    for (let left = this.written; left > 0;) {
      const wanted = Math.min(left, CHUNK) * 8;
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await this.file.read(bytes, filled, wanted - filled, position + filled);
        if (bytesRead === 0) throw new Error(`${this.path} ended early: it was changed while in use`);
        filled += bytesRead;
      }
      position += wanted;
      left -= wanted / 8;
      yield buffer.subarray(0, wanted / 8);
    }
  }

  /** Closes and deletes the file. */
  async remove(): Promise<void> {
    await this.file.close();
    await rm(this.path, { force: true });
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const bytes = new Uint8Array(this.chunk.buffer, 0, this.size * 8);
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await this.file.write(
        bytes,
        done,
        bytes.length - done,
        this.written * 8 + done,
      );
      done += bytesWritten;
    }
    this.written += this.size;
    this.size = 0;
  }
}
