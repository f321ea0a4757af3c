import type { AnsweredBatch } from '@app/inference';
import { BinCounter, countsKey, emptyCounts, ModelCounts } from './count-summary';
import { ArenaChunk, LineArena } from './line-arena';
import { countBatch } from './day-counts';
import { writeRecordLine } from './log-record';
import type { ObservedOutput } from './reference-profile';

/** The counts of one model version's rows in a segment. */
export interface SegmentCounts {
  model: string;
  version: string;
  /** The bins the rows were counted on when recorded; absent while the reference was not known yet. */
  counter?: BinCounter;
  /** The rows' counts, made when they were recorded; undefined while the reference was not known yet. */
  counts?: ModelCounts;
  /**
   * Rows recorded before the reference was known, kept until the flush that knows it counts them (the first flush
   * interval of a model version only): with sampling, the log alone no longer holds every row to count.
   */
  uncounted?: UncountedRow[];
}

/**
 * A copy of what counting needs of a row, never the request's own objects: keeping those alive until the flush
 * made V8 allocate the objects of every later request in the old generation (allocation-site pretenuring), and a
 * 32-row request then cost 70 µs more, most of it in the garbage collector.
 */
export interface UncountedRow {
  features: Float64Array;
  output: ObservedOutput;
  /** Its line was written (sampling kept it). */
  logged: boolean;
}

/**
 * Rows recorded for one day, waiting to be written: their lines already encoded, their bin counts already made.
 * Nothing of the requests themselves is kept, so waiting rows cost the garbage collector nothing.
 */
export interface Segment {
  day: string;
  /** The encoded lines, in order. */
  chunks: ArenaChunk[];
  bytes: number;
  /** Rows recorded (all counted). */
  rows: number;
  /** Of those, rows whose lines are in `chunks` (sampling writes only some). */
  logged: number;
  counts: Map<string, SegmentCounts>;
}

/**
 * Rows after which a segment is closed and the next one begins: the unit in which rows are dropped when the disk
 * refuses writes for long, so what a dead disk loses is the oldest rows, to within this many.
 */
export const SEGMENT_ROWS = 1_024;

/** Size of the arena's slabs the lines are encoded into. */
const SLAB_BYTES = 1 << 20;

/**
 * The prediction log's rows between `record` and the disk: each request's line encoded at once into the arena,
 * its rows counted on the bins the last flush found, grouped in segments of about SEGMENT_ROWS rows of one day.
 * Memory only; PredictionLog decides when segments are written, put back or dropped.
 */
export class RecordedRows {
  /** Closed segments, oldest first, then `current`, the one `record` appends to. */
  private pending: Segment[] = [];
  private current?: Segment;
  private waiting = 0;
  /** Where the lines are encoded; what it holds beyond `current`'s chunks is `current`'s too. */
  private readonly arena = new LineArena(SLAB_BYTES);
  /** The bins each model version's rows are counted on when recorded, as the last flush found them. */
  private readonly counters = new Map<string, BinCounter | null>();

  /**
   * @param sampleRate PREDICTION_LOG_SAMPLE_RATE: the share of requests whose line is written; every row is counted
   * @param random where the choice comes from (a spec makes it repeatable)
   */
  constructor(
    private readonly sampleRate = 1,
    private readonly random: () => number = Math.random,
  ) {}

  /** Rows recorded and not yet written or dropped. */
  get rows(): number {
    return this.waiting;
  }

  /** Days that have rows waiting. */
  get days(): Set<string> {
    return new Set([...this.pending, ...(this.current ? [this.current] : [])].map((segment) => segment.day));
  }

  record(batch: AnsweredBatch): void {
    const ts = batch.at.toISOString();
    const segment = this.segmentFor(ts.slice(0, 10));
    // Chosen per request, so a request's rows are logged together or not at all.
    const logged = this.sampleRate >= 1 || this.random() < this.sampleRate;
    if (logged) segment.bytes += writeRecordLine(this.arena, batch, ts, () => this.takeArena(segment));
    this.count(segment, batch, logged);
    const rows = batch.predictions.length;
    segment.rows += rows;
    if (logged) segment.logged += rows;
    this.waiting += rows;
  }

  /** Every segment waiting, oldest first, for writing: they are the caller's until `written` or `putBack`. */
  takeAll(): Segment[] {
    this.closeSegment();
    const segments = this.pending;
    this.pending = [];
    this.waiting = 0;
    return segments;
  }

  /** Segments that could not be written, back in front of those recorded since. */
  putBack(segments: readonly Segment[]): void {
    this.pending = [...segments, ...this.pending];
    this.waiting = [...this.pending, ...(this.current ? [this.current] : [])].reduce(
      (sum, segment) => sum + segment.rows,
      0,
    );
  }

  /** Their lines are on disk: the arena may reuse their memory. */
  written(segments: readonly Segment[]): void {
    for (const segment of segments) this.arena.release(segment.chunks);
  }

  /** Drops the oldest closed segments until at most `limit` rows wait; returns how many rows went. */
  dropOldest(limit: number): number {
    let dropped = 0;
    while (this.waiting > limit && this.pending.length > 0) {
      const segment = this.pending.shift()!;
      this.arena.release(segment.chunks);
      dropped += segment.rows;
      this.waiting -= segment.rows;
    }
    return dropped;
  }

  /** The bins a model version's next rows are counted on (null: it has no reference profile). */
  countOn(model: string, version: string, counter: BinCounter | null): void {
    this.counters.set(countsKey(model, version), counter);
  }

  /** The segment that takes the day's next rows: `current`, unless it is of another day or full. */
  private segmentFor(day: string): Segment {
    const current = this.current;
    if (current !== undefined && current.day === day && current.rows < SEGMENT_ROWS) return current;
    this.closeSegment();
    const segment: Segment = { day, chunks: [], bytes: 0, rows: 0, logged: 0, counts: new Map() };
    this.current = segment;
    return segment;
  }

  /** Moves `current` to `pending`, with its lines still in the arena. */
  private closeSegment(): void {
    const segment = this.current;
    if (segment === undefined) return;
    this.takeArena(segment);
    this.pending.push(segment);
    this.current = undefined;
  }

  /** Hands the segment the lines encoded for it since the last hand-over. */
  private takeArena(segment: Segment): void {
    const chunk = this.arena.take();
    if (chunk) segment.chunks.push(chunk);
  }

  /** Counts the rows on the bins the last flush found; before the first flush they wait for it (`uncounted`). */
  private count(segment: Segment, batch: AnsweredBatch, logged: boolean): void {
    const key = countsKey(batch.model, batch.version);
    let entry = segment.counts.get(key);
    if (entry === undefined) {
      const counter = this.counters.get(key);
      entry = { model: batch.model, version: batch.version };
      if (counter === undefined) entry.uncounted = [];
      else {
        entry.counter = counter ?? undefined;
        entry.counts = emptyCounts(counter, batch.model, batch.version);
      }
      segment.counts.set(key, entry);
    }
    if (entry.counts !== undefined) {
      countBatch({ entry: entry.counts, counter: entry.counter }, batch, logged);
      return;
    }
    const width = batch.featureCount;
    for (let i = 0; i < batch.predictions.length; i++) {
      const p = batch.predictions[i];
      entry.uncounted!.push({
        features: Float64Array.from(batch.features.subarray(i * width, (i + 1) * width)),
        output:
          p.task === 'classification'
            ? { prediction: p.label, probability: p.probability }
            : { prediction: typeof p.value === 'number' ? p.value : [...p.value] },
        logged,
      });
    }
  }
}
