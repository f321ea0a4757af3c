export interface RestartBackoffSettings {
  /** Delay before the first restart. */
  initialMs: number;
  /** Longest delay, however often the worker crashed. */
  maxMs: number;
  /** A worker that served this long before it crashed is restarted after `initialMs` again. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoffSettings = {
  initialMs: 100,
  maxMs: 10_000,
  resetAfterMs: 30_000,
};

/**
 * How long to wait before restarting a crashed HTTP worker: 100 ms, doubling with every crash that follows
 * soon after the last restart, up to 10 s. A worker that crashes on every start (or on the first request it
 * gets) then costs a restart every 10 s rather than a busy loop of forks; one that ran fine for a while is back
 * within 100 ms.
 */
export class RestartBackoff {
  private crashes = 0;

  constructor(private readonly settings: RestartBackoffSettings = DEFAULT_RESTART_BACKOFF) {}

  /** The delay before the next restart, given how long the crashed worker had been up. */
  next(upMs: number): number {
    if (upMs >= this.settings.resetAfterMs) this.crashes = 0;
    const delay = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** this.crashes);
    this.crashes++;
    return delay;
  }
}
