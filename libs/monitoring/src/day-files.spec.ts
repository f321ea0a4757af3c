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

  it('keeps the file after a failed append of which nothing landed, and starts over when it went or shrank', async () => {
    const { store, files } = setUp();
    const file = await files.forAppend(DAY);
    await files.append(file, [segment()]);
    store.refuse('append', 0);
    await expect(files.append(file, [segment()])).rejects.toThrow('ENOSPC');
    store.heal();
    // Nothing of it reached the file: the same file, as it was, nothing to cut.
    store.calls.length = 0;
    expect(await files.forAppend(DAY)).toBe(file);
    expect(store.calls).toEqual(['size']);
    expect(file).toMatchObject({ dirty: false, bytes: LINE.length });

    // Cut shorter behind its back: opened again from what the file holds.
    store.refuse('append', 0);
    await expect(files.append(file, [segment()])).rejects.toThrow('ENOSPC');
    store.heal();
    store.put(LOG, '');
    const shrunk = await files.forAppend(DAY);
    expect(shrunk).not.toBe(file);
    expect(shrunk).toMatchObject({ dirty: false, bytes: 0 });

    // Gone: a new file.
    store.refuse('append', 0);
    await expect(files.append(shrunk, [segment()])).rejects.toThrow('ENOSPC');
    store.heal();
    await store.remove(LOG);
    const fresh = await files.forAppend(DAY);
    expect(fresh).not.toBe(shrunk);
    await files.append(fresh, [segment()]);
    expect(store.text(LOG)).toBe(LINE);
    expect(fresh.bytes).toBe(LINE.length);
  });

  it('opens an existing day at start, cutting its torn line, and leaves a missing one alone', async () => {
    const { store, files } = setUp();
    await files.openIfExists(DAY);
    expect(store.names()).toEqual([]);
    expect(store.calls).toEqual(['size']);
    store.put(LOG, LINE + LINE.slice(0, 7));
    await files.openIfExists(DAY);
    expect(store.text(LOG)).toBe(LINE);
    // Opened once: the next append finds it known, its lines counted.
    store.calls.length = 0;
    const file = await files.forAppend(DAY);
    expect(store.calls).toEqual([]);
    expect(file).toMatchObject({ day: DAY, logName: LOG, bytes: LINE.length, dirty: false });
  });

  it('lets go of days before the one given only', async () => {
    const { files } = setUp();
    const file = await files.forAppend(DAY);
    const next = await files.forAppend('2026-11-29');
    files.forgetBefore(DAY);
    expect(await files.forAppend(DAY)).toBe(file);
    files.forgetBefore('2026-11-29');
    expect(await files.forAppend(DAY)).not.toBe(file);
    expect(await files.forAppend('2026-11-29')).toBe(next);
  });

  it('opens another day while a compression runs, and a day whose compression failed', async () => {
    const { store, files } = setUp();
    store.put(LOG, LINE);
    let compressed = false;
    const compressing = files.compress(DAY).then(() => (compressed = true));
    // Another day does not wait for it.
    await files.forAppend('2026-11-29');
    expect(compressed).toBe(false);
    await compressing;

    store.put(logFileName('2026-11-27', 'a'), LINE);
    store.refuse('compress');
    const failing = files.compress('2026-11-27');
    const file = await files.forAppend('2026-11-27');
    await expect(failing).rejects.toThrow('ENOSPC');
    expect(file).toMatchObject({ bytes: LINE.length, dirty: false });
  });
});
