import type { FeatureValues } from '../feature-rows';
import { BatchQueue, BatchQueueOptions, OverloadedError } from './batch-queue';
import { OutputTensors } from './tensors';

/** Rows of two features, queued as the flat values the queue takes. */
const submit = (q: BatchQueue, rows: number[][]): Promise<OutputTensors> =>
  q.submit(Float64Array.from(rows.flat()), rows.length);

/** A run's parts back into rows of two features, checking they hold `count` rows. */
function rowsOfParts(parts: readonly FeatureValues[], count: number): number[][] {
  const values = parts.flatMap((part) => Array.from(part));
  expect(values).toHaveLength(count * 2);
  return Array.from({ length: count }, (_, i) => [values[i * 2], values[i * 2 + 1]]);
}

/** A stand-in model: output row i is [10·x0, x1] of input row i; runs finish when the test says so. */
function fakeModel() {
  const runs: Array<{ rows: number[][]; finish: () => void; fail: (e: Error) => void }> = [];
  const execute = (parts: readonly FeatureValues[], count: number) =>
    new Promise<OutputTensors>((resolve, reject) => {
      const rows = rowsOfParts(parts, count);
      runs.push({
        rows,
        finish: () =>
          resolve({
            y: { data: Float32Array.from(rows.flatMap((r) => [r[0] * 10, r[1]])), dims: [rows.length, 2] },
          }),
        fail: reject,
      });
    });
  return { runs, execute };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const rowsOf = (outputs: OutputTensors) => {
  const { data, dims } = outputs.y;
  return Array.from({ length: dims[0] }, (_, i) => [Number(data[i * 2]), Number(data[i * 2 + 1])]);
};

function queue(overrides: Partial<BatchQueueOptions>, execute: BatchQueueOptions['execute']) {
  return new BatchQueue({
    model: 'm',
    maxBatchRows: 8,
    maxDelayMs: 0,
    concurrency: 1,
    maxQueuedRows: 100,
    execute,
    ...overrides,
  });
}

describe('BatchQueue', () => {
  it('runs the first request at once and merges what queues meanwhile into the next run', async () => {
    const model = fakeModel();
    const q = queue({}, model.execute);
    const first = submit(q, [[1, 1]]);
    const later = [
      submit(q, [[2, 2]]),
      submit(q, [
        [3, 3],
        [4, 4],
      ]),
      submit(q, [[5, 5]]),
    ];
    await tick();
    expect(model.runs.map((r) => r.rows.length)).toEqual([1]);
    model.runs[0].finish();
    expect(rowsOf(await first)).toEqual([[10, 1]]);
    await tick();
    expect(model.runs[1].rows).toEqual([
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    model.runs[1].finish();
    // Each request gets exactly its own rows back, in order.
    expect((await Promise.all(later)).map(rowsOf)).toEqual([
      [[20, 2]],
      [
        [30, 3],
        [40, 4],
      ],
      [[50, 5]],
    ]);
  });

  it('never puts more than maxBatchRows rows in one run, splitting a large request across runs', async () => {
    const model = fakeModel();
    const q = queue({ maxBatchRows: 3, concurrency: 4 }, model.execute);
    const rows = Array.from({ length: 7 }, (_, i) => [i, -i]);
    const answer = submit(q, rows);
    await tick();
    expect(model.runs.map((r) => r.rows.length)).toEqual([3, 3, 1]);
    model.runs.forEach((r) => r.finish());
    expect(rowsOf(await answer)).toEqual(rows.map(([a, b]) => [a * 10, b]));
  });

  it('splits a request of a whole number of runs into exactly those runs, with no empty one after', async () => {
    const model = fakeModel();
    const q = queue({ maxBatchRows: 3, concurrency: 4 }, model.execute);
    const rows = Array.from({ length: 6 }, (_, i) => [i, i]);
    const answer = submit(q, rows);
    await tick();
    expect(model.runs.map((r) => r.rows.length)).toEqual([3, 3]);
    model.runs.forEach((r) => r.finish());
    expect(rowsOf(await answer)).toEqual(rows.map(([a, b]) => [a * 10, b]));
  });

  it('keeps at most `concurrency` runs going', async () => {
    const model = fakeModel();
    const q = queue({ maxBatchRows: 1, concurrency: 2 }, model.execute);
    const answers = [1, 2, 3, 4].map((x) => submit(q, [[x, x]]));
    await tick();
    expect(model.runs).toHaveLength(2);
    model.runs[0].finish();
    await tick();
    expect(model.runs).toHaveLength(3);
    model.runs.slice(1).forEach((r) => r.finish());
    await tick();
    model.runs[3].finish();
    expect((await Promise.all(answers)).map(rowsOf)).toEqual([[[10, 1]], [[20, 2]], [[30, 3]], [[40, 4]]]);
  });

  it('waits up to maxDelayMs for a fuller batch, and not at all once the batch is full', async () => {
    const model = fakeModel();
    const q = queue({ maxBatchRows: 2, maxDelayMs: 30 }, model.execute);
    const one = submit(q, [[1, 1]]);
    await tick();
    expect(model.runs).toHaveLength(0);
    const two = submit(q, [[2, 2]]);
    await tick();
    expect(model.runs.map((r) => r.rows.length)).toEqual([2]);
    model.runs[0].finish();
    await Promise.all([one, two]);

    const alone = submit(q, [[3, 3]]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(model.runs).toHaveLength(2);
    model.runs[1].finish();
    expect(rowsOf(await alone)).toEqual([[30, 3]]);
  });

  it('sheds load beyond maxQueuedRows with a 503 that says when to retry', async () => {
    const model = fakeModel();
    const q = queue({ maxQueuedRows: 4, maxBatchRows: 1 }, model.execute);
    const accepted = [
      submit(q, [[1, 1]]),
      submit(q, [
        [2, 2],
        [3, 3],
      ]),
    ];
    await tick();
    // One row is running, two are queued: three more would exceed four.
    const refused = submit(q, [
      [4, 4],
      [5, 5],
      [6, 6],
    ]);
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    while (model.runs.some((r) => r.rows.length > 0)) {
      model.runs.splice(0).forEach((r) => r.finish());
      await tick();
    }
    await Promise.all(accepted);
    expect(q.depth).toBe(0);
  });

  it('fails every request of a failed run, and keeps serving afterwards', async () => {
    const model = fakeModel();
    const q = queue({ concurrency: 1 }, model.execute);
    const blocker = submit(q, [[0, 0]]);
    const [a, b] = [submit(q, [[1, 1]]), submit(q, [[2, 2]])];
    await tick();
    model.runs[0].finish();
    await blocker;
    await tick();
    model.runs[1].fail(new Error('session exploded'));
    await expect(a).rejects.toThrow('session exploded');
    await expect(b).rejects.toThrow('session exploded');
    const after = submit(q, [[3, 3]]);
    await tick();
    model.runs[2].finish();
    expect(rowsOf(await after)).toEqual([[30, 3]]);
  });

  it('reports batch sizes, waits and depth', async () => {
    const model = fakeModel();
    const seen = { batches: [] as number[], waits: 0, depths: [] as number[] };
    const q = queue(
      {
        observe: {
          batch: (rows) => seen.batches.push(rows),
          wait: () => seen.waits++,
          depth: (rows) => seen.depths.push(rows),
        },
      },
      model.execute,
    );
    const answers = [submit(q, [[1, 1]]), submit(q, [[2, 2]]), submit(q, [[3, 3]])];
    await tick();
    model.runs[0].finish();
    await tick();
    model.runs[1].finish();
    await Promise.all(answers);
    expect(seen.batches).toEqual([1, 2]);
    expect(seen.waits).toBe(3);
    expect(seen.depths.at(-1)).toBe(0);
    expect(Math.max(...seen.depths)).toBe(2);
  });

  it('hands out the answers of a merged run one event-loop turn apart', async () => {
    const model = fakeModel();
    const q = queue({}, model.execute);
    const blocker = submit(q, [[0, 0]]);
    const answered: number[] = [];
    const answers = [1, 2, 3].map((x) => submit(q, [[x, x]]).then(() => answered.push(x)));
    await tick();
    model.runs[0].finish();
    await blocker;
    await tick();
    model.runs[1].finish();
    // Other work scheduled now (a health probe, say) gets a turn before the later answers.
    const between = new Promise<number[]>((resolve) => setImmediate(() => resolve([...answered])));
    expect(await between).toEqual([1]);
    await Promise.all(answers);
    expect(answered).toEqual([1, 2, 3]);
  });
  it('refuses a request only when it would take the queue past maxQueuedRows, and says how full it is', async () => {
    const model = fakeModel();
    const q = queue({ maxQueuedRows: 3, maxBatchRows: 1, model: 'seed_gbc' }, model.execute);
    const running = submit(q, [[1, 1]]);
    await tick();
    // Nothing queued but the running row has left the queue: three rows fit exactly, a fourth does not.
    const fits = submit(q, [
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(q.depth).toBe(3);
    await expect(submit(q, [[5, 5]])).rejects.toMatchObject({
      code: 'overloaded',
      status: 503,
      title: 'Overloaded',
      detail: 'Model "seed_gbc" has 3 rows waiting, at the limit of 3 (MAX_QUEUE_ROWS); retry shortly.',
    });
    while (model.runs.some((r) => r.rows.length > 0)) {
      model.runs.splice(0).forEach((r) => r.finish());
      await tick();
    }
    expect(rowsOf(await running)).toEqual([[10, 1]]);
    expect(rowsOf(await fits)).toEqual([
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
  });

  describe('on a clock the spec moves', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('counts maxDelayMs from when the oldest request arrived, also when it queued behind a run', async () => {
      const model = fakeModel();
      const waits: number[] = [];
      const q = queue(
        {
          maxBatchRows: 4,
          maxDelayMs: 30,
          observe: { batch: () => {}, wait: (s) => waits.push(s), depth: () => {} },
        },
        model.execute,
      );
      const first = submit(q, [[1, 1]]);
      jest.advanceTimersByTime(29);
      expect(model.runs).toHaveLength(0);
      jest.advanceTimersByTime(1);
      expect(model.runs).toHaveLength(1);
      expect(waits).toEqual([0.03]);

      const second = submit(q, [[2, 2]]);
      jest.advanceTimersByTime(20);
      model.runs[0].finish();
      await first;
      await tick();
      // The second request has waited 20 ms of its 30 already.
      jest.advanceTimersByTime(9);
      expect(model.runs).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(model.runs).toHaveLength(2);
      expect(waits).toEqual([0.03, 0.03]);
      model.runs[1].finish();
      expect(rowsOf(await second)).toEqual([[20, 2]]);
    });

    it('stops waiting for fuller batches once drained, and runs what is queued at once', async () => {
      const model = fakeModel();
      const q = queue({ maxBatchRows: 4, maxDelayMs: 10_000 }, model.execute);
      const queued = submit(q, [[1, 1]]);
      jest.advanceTimersByTime(100);
      expect(model.runs).toHaveLength(0);
      q.drain();
      expect(model.runs.map((r) => r.rows)).toEqual([[[1, 1]]]);
      expect(jest.getTimerCount()).toBe(0);
      model.runs[0].finish();
      expect(rowsOf(await queued)).toEqual([[10, 1]]);
      const late = submit(q, [[2, 2]]);
      expect(model.runs).toHaveLength(2);
      model.runs[1].finish();
      expect(rowsOf(await late)).toEqual([[20, 2]]);
    });
  });
});
