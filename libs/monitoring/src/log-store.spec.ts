import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COUNTS_FORMAT, CountSummaryFile } from './count-summary';
import { compressedLogFileName, countsFileName, logFileName } from './log-files';
import { DiskLogStore, LogStore } from './log-store';
import { MemoryLogStore } from './memory-log-store';

const LOG = logFileName('2026-11-20', 'a');
const collect = async (lines: AsyncIterable<string>) => {
  const found: string[] = [];
  for await (const line of lines) found.push(line);
  return found;
};
const bytes = (text: string) => Buffer.from(text);

/** The same answers from the disk and from memory: what specs learn from a MemoryLogStore holds on disk. */
describe.each([
  ['DiskLogStore', () => new DiskLogStore(join(mkdtempSync(join(tmpdir(), 'store-')), 'predictions'))],
  ['MemoryLogStore', () => new MemoryLogStore()],
])('%s', (_name, create: () => LogStore) => {
  it('lists nothing before the folder exists, then the log and count files only', async () => {
    const store = create();
    expect(await store.list()).toEqual([]);
    await store.ensureFolder();
    await store.append(LOG, [bytes('{"a":1}\n')]);
    await store.append('notes.txt', [bytes('not ours')]);
    await store.writeSummary(countsFileName('2026-11-20', 'a'), summary(8));
    const listed = (await store.list()).sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(listed).toEqual([
      {
        name: countsFileName('2026-11-20', 'a'),
        day: '2026-11-20',
        host: 'a',
        kind: 'counts',
        compressed: false,
      },
      { name: LOG, day: '2026-11-20', host: 'a', kind: 'log', compressed: false },
    ]);
  });

  it('appends chunks in order, reads back complete lines of a range, and cuts a torn tail', async () => {
    const store = create();
    await store.ensureFolder();
    expect(await store.size(LOG)).toBeUndefined();
    expect(await store.cutTornTail(LOG)).toBe(0);
    await store.append(LOG, [bytes('{"n":1}\n{"n"'), bytes(':2}\n')]);
    await store.append(LOG, [bytes('{"n":3}\n{"torn')]);
    expect(await store.size(LOG)).toBe(30);
    expect(await collect(store.readLines(LOG))).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(await collect(store.readLines(LOG, 8, 24))).toEqual(['{"n":2}', '{"n":3}']);
    expect(await store.cutTornTail(LOG)).toBe(24);
    expect(await store.size(LOG)).toBe(24);
    await store.truncate(LOG, 8);
    expect(await collect(store.readLines(LOG))).toEqual(['{"n":1}']);
  });

  it('compresses a log into a form read whole, and restores it', async () => {
    const store = create();
    await store.ensureFolder();
    const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i}}`);
    await store.append(LOG, [bytes(`${lines.join('\n')}\n`)]);
    await store.compress(LOG);
    const gz = compressedLogFileName('2026-11-20', 'a');
    expect((await store.list()).map((f) => [f.name, f.compressed])).toEqual([[gz, true]]);
    expect(await collect(store.readLines(gz))).toEqual(lines);
    await store.restore(gz);
    expect(await store.size(gz)).toBeUndefined();
    expect(await collect(store.readLines(LOG))).toEqual(lines);
  });

  it('replaces a summary whole, reads a missing or unreadable one as none, and removes files once', async () => {
    const store = create();
    await store.ensureFolder();
    const name = countsFileName('2026-11-20', 'a');
    expect(await store.readSummary(name)).toBeUndefined();
    await store.writeSummary(name, summary(10));
    await store.writeSummary(name, summary(20));
    expect(await store.readSummary(name)).toEqual(summary(20));
    await store.append(name, [bytes('half a summ')]);
    expect(await store.readSummary(name)).toBeUndefined();
    expect(await store.remove(name)).toBe(true);
    expect(await store.remove(name)).toBe(false);
  });
});

function summary(logBytes: number): CountSummaryFile {
  return {
    format: COUNTS_FORMAT,
    day: '2026-11-20',
    host: 'a',
    log_bytes: logBytes,
    updated_at: '2026-11-20T10:00:00.000Z',
    models: [],
  };
}
