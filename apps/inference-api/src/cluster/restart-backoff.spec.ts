import { RestartBackoff } from './restart-backoff';

describe('RestartBackoff', () => {
  it('doubles from 100 ms for a worker that keeps crashing soon after its restart, up to 10 s', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 10 }, () => backoff.next(500));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
  });

  it('starts over for a worker that had been up for a while', () => {
    const backoff = new RestartBackoff();
    expect([backoff.next(1000), backoff.next(1000), backoff.next(1000)]).toEqual([100, 200, 400]);
    expect(backoff.next(30_000)).toBe(100);
    expect(backoff.next(2000)).toBe(200);
  });

  it('takes its bounds from the settings', () => {
    const backoff = new RestartBackoff({ initialMs: 10, maxMs: 25, resetAfterMs: 100 });
    expect([backoff.next(0), backoff.next(0), backoff.next(0), backoff.next(100)]).toEqual([10, 20, 25, 10]);
  });
});
