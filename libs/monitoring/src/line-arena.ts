/** One reusable block of off-heap memory, and how many handed-out chunks still point into it. */
interface Slab {
  buffer: Buffer;
  users: number;
}

/** Bytes handed out by a LineArena: valid until released. */
export interface ArenaChunk {
  slab: Slab;
  bytes: Buffer;
}

/** Slabs kept for reuse beyond the one being written; more than this are left to the garbage collector. */
const SPARE_SLABS = 8;

/**
 * Off-heap memory the prediction log encodes its lines into, reused once written. At tens of megabytes of lines a
 * second, fresh buffers would count as external memory growing that fast, and V8 answers that with a full
 * collection of the heap every few seconds: reusing a few slabs keeps the log out of the garbage collector.
 *
 * `write` appends text; `take` hands out what was written since the last `take` as one chunk; `release` gives
 * chunks back once their bytes are on disk (or dropped), and a slab no chunk points into is reused.
 */
export class LineArena {
  private slab: Slab;
  private used = 0;
  private start = 0;
  private readonly spare: Slab[] = [];

  constructor(private readonly slabBytes: number) {
    this.slab = { buffer: Buffer.allocUnsafe(slabBytes), users: 0 };
  }

  /**
   * Appends the text as UTF-8 and returns its length in bytes. `onFull` is called first when the current slab
   * might not hold it: the caller takes what is pending there, since the next bytes go to another slab.
   */
  write(text: string, onFull: () => void): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: with that much room the text fits whole.
    this.reserve(text.length * 3, onFull);
    return this.append(text);
  }

  /**
   * Makes room for `bytes` more bytes in the current slab, calling `onFull` first when it has less: what follows
   * (`append`, `appendBytes`, up to that many bytes) then lands in one slab, as one piece of one chunk.
   */
  reserve(bytes: number, onFull: () => void): void {
    if (this.slab.buffer.length - this.used >= bytes) return;
    onFull();
    this.next(bytes);
  }

  /** Appends the text as UTF-8, within room `reserve` made; returns its length in bytes. */
  append(text: string): number {
    const written = this.slab.buffer.write(text, this.used);
    this.used += written;
    return written;
  }

  /** Appends bytes [start, end) of `source` as they are, within room `reserve` made; returns how many. */
  appendBytes(source: Uint8Array, start: number, end: number): number {
    this.slab.buffer.set(source.subarray(start, end), this.used);
    this.used += end - start;
    return end - start;
  }

  /** What was written since the last `take`, or undefined when nothing was. */
  take(): ArenaChunk | undefined {
    if (this.used === this.start) return undefined;
    const chunk = { slab: this.slab, bytes: this.slab.buffer.subarray(this.start, this.used) };
    this.slab.users++;
    this.start = this.used;
    return chunk;
  }

  release(chunks: readonly ArenaChunk[]): void {
    for (const { slab } of chunks) {
      slab.users--;
      if (slab.users === 0 && slab !== this.slab && this.spare.length < SPARE_SLABS) this.spare.push(slab);
    }
  }

  private next(room: number): void {
    const current = this.slab;
    // Nothing points into the current slab any more: start it over.
    if (current.users === 0 && room <= current.buffer.length) {
      this.used = this.start = 0;
      return;
    }
    if (current.users === 0 && this.spare.length < SPARE_SLABS) this.spare.push(current);
    const reused = room <= this.slabBytes ? this.spare.pop() : undefined;
    this.slab = reused ?? { buffer: Buffer.allocUnsafe(Math.max(this.slabBytes, room)), users: 0 };
    this.used = this.start = 0;
  }
}
