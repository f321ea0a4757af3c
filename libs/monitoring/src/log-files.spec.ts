import { hostname } from 'node:os';
import { defaultHost, logFileName, parseLogFileName, processHost } from './log-files';

describe('processHost', () => {
  it('is the host name for a single process, and names the HTTP worker slot in a cluster', () => {
    expect(processHost()).toBe(defaultHost());
    expect(defaultHost()).toBe(hostname().replace(/[^A-Za-z0-9_-]/g, '-'));
    expect(processHost(0)).toBe(`${defaultHost()}-0`);
    expect(processHost(11)).toBe(`${defaultHost()}-11`);
  });

  it('gives file names that read back as one host per worker, as the drift check groups them', () => {
    const names = [processHost(0), processHost(1)].map((host) => logFileName('2026-11-24', host));
    expect(names.map((name) => parseLogFileName(name))).toEqual([
      { day: '2026-11-24', host: `${defaultHost()}-0`, kind: 'log' },
      { day: '2026-11-24', host: `${defaultHost()}-1`, kind: 'log' },
    ]);
  });
});
