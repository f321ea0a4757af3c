import { Logger } from '@nestjs/common';
import { DayCounts } from './day-counts';
import { DayFiles } from './day-files';
import { compressedLogFileName, logFileName } from './log-files';
import { MemoryLogStore } from './memory-log-store';
import type { Segment } from './recorded-rows';

const DAY = '2026-11-28';
const LOG = logFileName(DAY, 'a');
const LINE = '{"model":"m","version":"1"}\n';

/** A segment of one unbinned line: what DayFiles appends is bytes; their counts are DayCounts'. */
const segment = (text = LINE): Segment => ({
  day: DAY,
  chunks: [{ slab: { buffer: Buffer.alloc(0), users: 1 }, bytes: Buffer.from(text) }],
  bytes: Buffer.byteLength(text),
  rows: 1,
  logged: 1,
  counts: new Map(),
});

/** A disk on which compressing takes a while: long enough for an append to come in the middle. */
class SlowCompression extends MemoryLogStore {
  override async compress(name: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return super.compress(name);
  }
}

function setUp() {
  const store = new SlowCompression();
  const counts = new DayCounts(
    { forModel: () => Promise.resolve(undefined) },
    'a',
    new Logger('spec'),
    store,
  );
  return { store, files: new DayFiles(store, 'a', counts) };
}

describe('DayFiles', () => {
  it('cuts back what part of a failed append reached the file before the next one', async () => {
    const { store, files } = setUp();
    const file = await files.forAppend(DAY);
    await files.append(file, [segment()]);
    store.refuse('append', 5);
    await expect(files.append(file, [segment()])).rejects.toThrow('ENOSPC');
    expect(file).toMatchObject({ dirty: true, bytes: LINE.length });
    expect(store.text(LOG)).toBe(LINE + LINE.slice(0, 5));

    store.heal();
    const again = await files.forAppend(DAY);
    expect(again).toBe(file);
    expect(file.dirty).toBe(false);
    await files.append(file, [segment()]);
    expect(store.text(LOG)).toBe(LINE + LINE);
  });

  it('restores a compressed day for a late row, and waits for a compression of that day still running', async () => {
    const { store, files } = setUp();
    store.put(LOG, LINE);
    const compressing = files.compress(DAY);
    const file = await files.forAppend(DAY);
    await compressing;
    expect(store.names()).not.toContain(compressedLogFileName(DAY, 'a'));
    await files.append(file, [segment()]);
    expect(store.text(LOG)).toBe(LINE + LINE);
    expect(file.bytes).toBe(2 * LINE.length);
  });

  it('lets go of a closed day only once its summary covers its log, and of days before the one given', async () => {
    const { store, files } = setUp();
    const file = await files.forAppend(DAY);
    store.refuse('writeSummary');
    await files.append(file, [segment()]);
    expect(await files.readyToCompress(DAY)).toBe(false);
    expect(await files.forAppend(DAY)).toBe(file);

    files.forgetBefore('2026-11-29');
    store.heal();
    // Opened again: its lines counted and its summary saved, it can be compressed.
    expect(await files.readyToCompress(DAY)).toBe(true);
    expect(await files.forAppend(DAY)).not.toBe(file);
  });
});
