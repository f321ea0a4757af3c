import { coreBudget } from './core-budget';

describe('coreBudget', () => {
  it('gives a single process every core but the event loop’s, as before there were HTTP workers', () => {
    expect(coreBudget({ cores: 8, httpProcesses: 1, threads: 0 })).toEqual({ workers: 7, threads: 1 });
    expect(coreBudget({ cores: 8, httpProcesses: 1, workers: 2, threads: 0 })).toEqual({
      workers: 2,
      threads: 3,
    });
  });

  it('shares the cores left by the event loops between the HTTP processes', () => {
    // 2 event loops + 2 × 3 worker threads = 8 busy threads on 8 cores.
    expect(coreBudget({ cores: 8, httpProcesses: 2, threads: 0 })).toEqual({ workers: 3, threads: 1 });
    expect(coreBudget({ cores: 16, httpProcesses: 4, workers: 1, threads: 0 })).toEqual({
      workers: 1,
      threads: 3,
    });
  });

  it('keeps one worker thread per process when there is no spare core, so a slow model never blocks HTTP', () => {
    expect(coreBudget({ cores: 2, httpProcesses: 2, threads: 0 })).toEqual({ workers: 1, threads: 1 });
    expect(coreBudget({ cores: 1, httpProcesses: 1, threads: 0 })).toEqual({ workers: 1, threads: 1 });
    expect(coreBudget({ cores: 4, httpProcesses: 8, threads: 0 })).toEqual({ workers: 1, threads: 1 });
  });

  it('takes explicit settings as they are', () => {
    expect(coreBudget({ cores: 8, httpProcesses: 2, workers: 0, threads: 0 })).toEqual({
      workers: 0,
      threads: 3,
    });
    expect(coreBudget({ cores: 8, httpProcesses: 2, workers: 4, threads: 2 })).toEqual({
      workers: 4,
      threads: 2,
    });
  });
});
