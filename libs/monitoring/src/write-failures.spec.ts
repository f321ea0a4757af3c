import { Logger } from '@nestjs/common';
import { ERROR_LOG_INTERVAL_MS, WriteFailureLines } from './write-failures';

describe('WriteFailureLines', () => {
  it('writes one line per interval, naming the failures it did not write', () => {
    const logger = new Logger('spec');
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    let now = 1_000_000;
    const lines = new WriteFailureLines(logger, () => now);
    const full = new Error('ENOSPC: no space left on device, write');
    lines.failed(full, 10);
    lines.failed(full, 20);
    now += ERROR_LOG_INTERVAL_MS - 1;
    lines.failed(full, 30);
    expect(error).toHaveBeenCalledTimes(1);
    now += 1;
    lines.failed('not an Error', 40);
    expect(error.mock.calls.map(([line]) => line as string)).toEqual([
      'prediction log write failed: ENOSPC: no space left on device, write; predictions are still served, 10 rows wait for the next flush',
      'prediction log write failed: not an Error; predictions are still served, 40 rows wait for the next flush (2 more failures since the last message)',
    ]);
  });
});
