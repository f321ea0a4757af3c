import { DomainError } from '@app/observability';
import type { FeatureValues } from '../feature-rows';
import { concatRows, OutputTensors, sliceRows } from './tensors';

export class OverloadedError extends DomainError {
  constructor(model: string, queued: number, limit: number) {
    super({
      code: 'overloaded',
      status: 503,
      title: 'Overloaded',
      detail: `Model "${model}" has ${queued} rows waiting, at the limit of ${limit} (MAX_QUEUE_ROWS); retry shortly.`,
      headers: { 'Retry-After': '1' },
    });
  }
}

export interface BatchQueueOptions {
  model: string;
  /** Most rows per run (already capped by a fixed batch dimension). */
  maxBatchRows: number;
  /** How long the oldest request may wait for more rows; 0 only merges what queued during the previous run. */
  maxDelayMs: number;
  /** Runs at once: 1 on the main thread, the pool size on worker threads. */
  concurrency: number;
  /** Rows waiting beyond which requests are refused. */
  maxQueuedRows: number;
  /** One merged run of the requests' feature values, in order; resolves to outputs whose first dimension is `rows`. */
  execute: (parts: readonly FeatureValues[], rows: number) => Promise<OutputTensors>;
  /** Called once per run with its size, and once per request with how long it waited. */
  observe?: { batch(rows: number): void; wait(seconds: number): void; depth(rows: number): void };
}

interface Waiting {
  features: FeatureValues;
  rows: number;
  enqueuedAt: number;
  resolve: (outputs: OutputTensors) => void;
  reject: (error: unknown) => void;
}

/**
 * Dynamic batching for one model: requests queue here and are merged into runs of at most `maxBatchRows` rows.
 * Each request gets back exactly the rows it sent, in order; a request larger than a run is split across runs.
 */
export class BatchQueue {
  private readonly waiting: Waiting[] = [];
  private queuedRows = 0;
  private running = 0;
  private timer?: NodeJS.Timeout;
  private draining = false;

  constructor(private readonly options: BatchQueueOptions) {}

  get depth(): number {
    return this.queuedRows;
  }

  /** Queues `rows` rows, whose feature values are `features` (row-major). */
  async submit(features: FeatureValues, rows: number): Promise<OutputTensors> {
    const { maxBatchRows, maxQueuedRows, model } = this.options;
    if (this.queuedRows + rows > maxQueuedRows)
      throw new OverloadedError(model, this.queuedRows, maxQueuedRows);
    // The usual request fits one run: no copy of its values, no outputs to join.
    if (rows <= maxBatchRows) return this.enqueue(features, rows);
    const width = features.length / rows;
    const chunks: Array<Promise<OutputTensors>> = [];
    for (let start = 0; start < rows; start += maxBatchRows) {
      const end = Math.min(start + maxBatchRows, rows);
      chunks.push(this.enqueue(features.subarray(start * width, end * width), end - start));
    }
    return concatRows(await Promise.all(chunks));
  }

  private enqueue(features: FeatureValues, rows: number): Promise<OutputTensors> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ features, rows, enqueuedAt: performance.now(), resolve, reject });
      this.queuedRows += rows;
      this.options.observe?.depth(this.queuedRows);
      this.dispatch();
    });
  }

  private dispatch(): void {
    const { maxBatchRows, maxDelayMs, concurrency } = this.options;
    while (this.running < concurrency && this.waiting.length > 0) {
      if (maxDelayMs > 0 && !this.draining && this.queuedRows < maxBatchRows) {
        const waited = performance.now() - this.waiting[0].enqueuedAt;
        if (waited < maxDelayMs) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.dispatch();
          }, maxDelayMs - waited);
          return;
        }
      }
      this.runBatch(this.takeBatch(maxBatchRows));
    }
  }

  private takeBatch(maxRows: number): Waiting[] {
    const batch: Waiting[] = [];
    let rows = 0;
    while (this.waiting.length > 0 && rows + this.waiting[0].rows <= maxRows) {
      const next = this.waiting.shift()!;
      rows += next.rows;
      batch.push(next);
    }
    this.queuedRows -= rows;
    this.options.observe?.depth(this.queuedRows);
    return batch;
  }

  private runBatch(batch: Waiting[]): void {
    const started = performance.now();
    let rows = 0;
    for (const waiting of batch) rows += waiting.rows;
    this.options.observe?.batch(rows);
    for (const waiting of batch) this.options.observe?.wait((started - waiting.enqueuedAt) / 1000);
    this.running++;
    void this.options
      .execute(
        batch.map((waiting) => waiting.features),
        rows,
      )
      .then(
        (outputs) => {
          if (batch.length === 1) return batch[0].resolve(outputs);
          let start = 0;
          const answers = batch.map((waiting) => {
            const answer = sliceRows(outputs, start, waiting.rows);
            start += waiting.rows;
            return () => waiting.resolve(answer);
          });
          answerInTurns(answers);
        },
        (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
      )
      .finally(() => {
        this.running--;
        this.dispatch();
      });
  }

  /** Shutdown: nothing waits for a fuller batch any more; what is queued runs now. */
  drain(): void {
    this.draining = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dispatch();
  }
}

/**
 * Hands out a merged batch's answers one event-loop turn apart. Resolved together, 64 answers would run 64
 * responses (serialising, logging, metrics) back to back and hold off everything else, health probes included;
 * one per turn lets the poll phase take new connections in between.
 */
function answerInTurns(answers: Array<() => void>): void {
  let next = 0;
  const answerOne = () => {
    answers[next++]();
    if (next < answers.length) setImmediate(answerOne);
  };
  answerOne();
}
