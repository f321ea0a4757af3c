import type { Logger } from '@nestjs/common';

/** A failing disk fails every flush: one error line per this interval, with the count of those not logged. */
export const ERROR_LOG_INTERVAL_MS = 30_000;

/** The prediction log's error lines about failed writes, at most one per ERROR_LOG_INTERVAL_MS. */
export class WriteFailureLines {
  private lastErrorAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** @param waitingRows rows kept for the next flush, named in the line */
  failed(error: unknown, waitingRows: number): void {
    const now = this.now();
    if (now - this.lastErrorAt < ERROR_LOG_INTERVAL_MS) {
      this.unlogged++;
      return;
    }
    const more = this.unlogged > 0 ? ` (${this.unlogged} more failures since the last message)` : '';
    this.lastErrorAt = now;
    this.unlogged = 0;
    const message = (error as { message?: unknown } | undefined)?.message;
    const reason = typeof message === 'string' ? message : String(error);
    this.logger.error(
      `prediction log write failed: ${reason}; predictions are still served, ${waitingRows} rows wait for the next flush${more}`,
    );
  }
}
