import { expect } from '@jest/globals';
import { AppConfig } from '@app/config';
import { PrimaryMessage, WorkerMessage } from './messages';
import { PrimaryChannel, ProcessGroup } from './process-group';

/** The primary's end of the IPC channel: records what the worker sends, delivers what the primary says. */
class FakeChannel extends PrimaryChannel {
  readonly sent: WorkerMessage[] = [];
  private listener?: (message: PrimaryMessage) => void;

  override send(message: WorkerMessage): void {
    this.sent.push(message);
  }

  override listen(listener: (message: PrimaryMessage) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }

  deliver(message: PrimaryMessage): void {
    this.listener?.(message);
  }
}

function config(values: Record<string, unknown>): AppConfig {
  return { get: (key: string) => values[key] } as unknown as AppConfig;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ProcessGroup', () => {
  const workerConfig = config({ HTTP_WORKERS: 3, HTTP_WORKER_INDEX: 2 });

  it('is nothing in a single process: no group readiness, nothing sent, no group metrics', async () => {
    const group = new ProcessGroup(config({ HTTP_WORKERS: 3 }), null);
    expect(group.worker).toBeUndefined();
    expect(group.readiness).toBeUndefined();
    expect(() => group.reportReady()).not.toThrow();
    expect(await group.othersServing()).toBe(false);
    await expect(group.exposition()).rejects.toThrow(/not an HTTP worker/);
  });

  it('is not ready until the primary says every worker is, and not again once it says one is missing', () => {
    const channel = new FakeChannel();
    const group = new ProcessGroup(workerConfig, channel);
    expect(group.readiness).toEqual({ ready: 0, expected: 3, worker: 2 });
    group.reportReady();
    expect(channel.sent).toEqual([{ type: 'ml-inference:ready' }]);
    channel.deliver({ type: 'ml-inference:group', ready: 3, expected: 3 });
    expect(group.readiness).toEqual({ ready: 3, expected: 3, worker: 2 });
    channel.deliver({ type: 'ml-inference:group', ready: 2, expected: 3 });
    expect(group.readiness).toEqual({ ready: 2, expected: 3, worker: 2 });
  });

  it('asks the primary whether other workers serve already (a replacement loads before it listens)', async () => {
    const channel = new FakeChannel();
    const group = new ProcessGroup(workerConfig, channel);
    const first = group.othersServing();
    expect(channel.sent).toEqual([{ type: 'ml-inference:hello' }]);
    channel.deliver({ type: 'ml-inference:group', ready: 0, expected: 3 });
    expect(await first).toBe(false);

    const replacement = group.othersServing();
    channel.deliver({ type: 'ml-inference:group', ready: 2, expected: 3 });
    expect(await replacement).toBe(true);
  });

  it('gets the group’s metrics from the primary, matching each answer to its request', async () => {
    const channel = new FakeChannel();
    const group = new ProcessGroup(workerConfig, channel);
    const first = group.exposition();
    const second = group.exposition();
    expect(channel.sent).toEqual([
      { type: 'ml-inference:metrics-request', id: 0 },
      { type: 'ml-inference:metrics-request', id: 1 },
    ]);
    channel.deliver({ type: 'ml-inference:metrics', id: 1, error: 'HTTP worker 0 sent no metrics' });
    channel.deliver({ type: 'ml-inference:metrics', id: 0, text: 'up 1\n' });
    await expect(first).resolves.toBe('up 1\n');
    await expect(second).rejects.toThrow('HTTP worker 0 sent no metrics');
  });

  it('fails a scrape the primary never answers, and every open one when the app stops', async () => {
    jest.useFakeTimers();
    try {
      const channel = new FakeChannel();
      const group = new ProcessGroup(workerConfig, channel);
      const unanswered = group.exposition();
      jest.advanceTimersByTime(6000);
      await expect(unanswered).rejects.toThrow(/did not answer within 6000 ms/);
      const open = group.exposition();
      group.onModuleDestroy();
      await expect(open).rejects.toThrow('shutting down');
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends this worker’s registry when the primary collects the group’s metrics', async () => {
    const channel = new FakeChannel();
    new ProcessGroup(workerConfig, channel);
    channel.deliver({ type: 'ml-inference:metrics-collect', id: 7 });
    await flush();
    expect(channel.sent).toEqual([
      { type: 'ml-inference:metrics-snapshot', id: 7, metrics: expect.any(Array) },
    ]);
  });
});
