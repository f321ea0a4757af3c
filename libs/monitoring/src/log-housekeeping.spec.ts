import { capLogFolder, deleteDaysBefore, settleBothForms } from './log-housekeeping';
import { compressedLogFileName, countsFileName, logFileName } from './log-files';
import { MemoryLogStore } from './memory-log-store';

/** Files of `size` bytes each, put in the order given (the store lists them in that order). */
function storeWith(files: Array<[string, number]>, store = new MemoryLogStore()): MemoryLogStore {
  for (const [name, size] of files) store.put(name, 'x'.repeat(size));
  return store;
}

describe('deleteDaysBefore', () => {
  it('deletes every host’s log, compressed log and summary of the days before the one kept, and counts them', async () => {
    const store = storeWith([
      [logFileName('2026-11-20', 'a'), 1],
      [countsFileName('2026-11-20', 'a'), 1],
      [compressedLogFileName('2026-11-21', 'b'), 1],
      [logFileName('2026-11-22', 'a'), 1],
      [countsFileName('2026-11-22', 'b'), 1],
      [logFileName('2026-11-23', 'a'), 1],
      ['2026-11-01.notes.txt', 1],
    ]);
    expect(await deleteDaysBefore(store, '2026-11-22')).toBe(3);
    // The day kept is kept whole; a file that is no log or summary is never touched.
    expect(store.names()).toEqual(
      [
        '2026-11-01.notes.txt',
        countsFileName('2026-11-22', 'b'),
        logFileName('2026-11-22', 'a'),
        logFileName('2026-11-23', 'a'),
      ].sort(),
    );
    expect(await deleteDaysBefore(store, '2026-11-22')).toBe(0);
  });
});

describe('capLogFolder', () => {
  const TODAY = '2026-11-30';

  it('deletes the oldest days’ logs until the folder fits, never a summary, today’s or yesterday’s log', async () => {
    const store = storeWith([
      [logFileName('2026-11-29', 'a'), 500],
      [logFileName('2026-11-30', 'a'), 500],
      [logFileName('2026-11-27', 'a'), 100],
      [countsFileName('2026-11-25', 'a'), 10],
      [compressedLogFileName('2026-11-25', 'a'), 40],
      [logFileName('2026-11-28', 'a'), 200],
    ]);
    // 1350 bytes; 1200 allowed: deleting 2026-11-25's log (40) is not enough, 2026-11-27's (100) too makes 1210,
    // and 2026-11-28's (200) 1010.
    const { deleted, bytes } = await capLogFolder(store, 1200, TODAY);
    expect(deleted).toEqual([
      { name: compressedLogFileName('2026-11-25', 'a'), day: '2026-11-25', bytes: 40 },
      { name: logFileName('2026-11-27', 'a'), day: '2026-11-27', bytes: 100 },
      { name: logFileName('2026-11-28', 'a'), day: '2026-11-28', bytes: 200 },
    ]);
    expect(bytes).toBe(1010);
    expect(store.names()).toEqual(
      [
        countsFileName('2026-11-25', 'a'),
        logFileName('2026-11-29', 'a'),
        logFileName('2026-11-30', 'a'),
      ].sort(),
    );

    // Over the cap with only a summary, yesterday and today left: nothing more goes.
    expect(await capLogFolder(store, 0, TODAY)).toEqual({ deleted: [], bytes: 1010 });
    expect(store.names()).toHaveLength(3);
  });

  it('stops as soon as the folder fits, at exactly the cap', async () => {
    const store = storeWith([
      [logFileName('2026-11-20', 'a'), 100],
      [logFileName('2026-11-21', 'a'), 100],
      [logFileName('2026-11-30', 'a'), 100],
    ]);
    const { deleted, bytes } = await capLogFolder(store, 200, TODAY);
    expect(deleted.map((file) => file.name)).toEqual([logFileName('2026-11-20', 'a')]);
    expect(bytes).toBe(200);
    // Within the cap (and with Infinity): only measured.
    expect(await capLogFolder(store, 200, TODAY)).toEqual({ deleted: [], bytes: 200 });
    expect(await capLogFolder(store, Infinity, TODAY)).toEqual({ deleted: [], bytes: 200 });
  });

  it('takes the hosts of one day in the order of their names, whatever order they are listed in', async () => {
    const store = storeWith([
      [logFileName('2026-11-21', 'c'), 10],
      [logFileName('2026-11-20', 'b'), 10],
      [logFileName('2026-11-20', 'c'), 10],
      [logFileName('2026-11-20', 'a'), 10],
    ]);
    const { deleted } = await capLogFolder(store, 15, TODAY);
    expect(deleted.map((file) => file.name)).toEqual([
      logFileName('2026-11-20', 'a'),
      logFileName('2026-11-20', 'b'),
      logFileName('2026-11-20', 'c'),
    ]);
    expect(store.names()).toEqual([logFileName('2026-11-21', 'c')]);
  });

  it('leaves out a log another replica deleted first, and counts the folder without it', async () => {
    /** Another replica removes the file between the listing and this replica's remove. */
    class Racing extends MemoryLogStore {
      override async remove(name: string): Promise<boolean> {
        if (name === logFileName('2026-11-20', 'b')) await super.remove(name);
        return super.remove(name);
      }
    }
    const store = storeWith(
      [
        [logFileName('2026-11-20', 'b'), 100],
        [logFileName('2026-11-21', 'a'), 100],
        [logFileName('2026-11-30', 'a'), 100],
      ],
      new Racing(),
    );
    const { deleted, bytes } = await capLogFolder(store, 100, TODAY);
    expect(deleted.map((file) => file.name)).toEqual([logFileName('2026-11-21', 'a')]);
    expect(bytes).toBe(100);
  });

  it('counts a day caught between its two forms once, compressed, and leaves the plain one to compressLog', async () => {
    // compressLog, running beside the cap, has renamed the compressed form into place and not yet removed the
    // plain one: the folder is not over the cap, and reporting a deletion would be wrong.
    const store = storeWith([
      [logFileName('2026-11-20', 'a'), 100],
      [compressedLogFileName('2026-11-20', 'a'), 20],
      [logFileName('2026-11-21', 'a'), 50],
      [logFileName('2026-11-30', 'a'), 100],
    ]);
    expect(await capLogFolder(store, 170, TODAY)).toEqual({ deleted: [], bytes: 170 });
    expect(store.names()).toHaveLength(4);
    // Over the cap: the day goes in its compressed form.
    expect(await capLogFolder(store, 150, TODAY)).toEqual({
      deleted: [{ name: compressedLogFileName('2026-11-20', 'a'), day: '2026-11-20', bytes: 20 }],
      bytes: 150,
    });
    expect(store.names()).toContain(logFileName('2026-11-20', 'a'));
  });

  it('counts a file that went away between the listing and its size as empty', async () => {
    /** Lists a file nobody can measure any more (deleted in between). */
    class Vanishing extends MemoryLogStore {
      override async size(name: string): Promise<number | undefined> {
        return name === logFileName('2026-11-20', 'a') ? undefined : super.size(name);
      }
    }
    const store = storeWith(
      [
        [logFileName('2026-11-20', 'a'), 100],
        [logFileName('2026-11-30', 'a'), 100],
      ],
      new Vanishing(),
    );
    expect(await capLogFolder(store, 100, TODAY)).toEqual({ deleted: [], bytes: 100 });
  });
});

describe('settleBothForms', () => {
  it('removes the plain form of its own days that also exist compressed, and nothing else', async () => {
    const store = storeWith([
      // Both forms of a day of its own: the plain one goes.
      [logFileName('2026-11-20', 'a'), 1],
      [compressedLogFileName('2026-11-20', 'a'), 1],
      [countsFileName('2026-11-20', 'a'), 1],
      // Another host's plain form beside its own compressed one: another process settles it.
      [logFileName('2026-11-21', 'b'), 1],
      [compressedLogFileName('2026-11-21', 'b'), 1],
      // Its own plain form beside another host's compressed one, or a compressed one of another day.
      [logFileName('2026-11-22', 'a'), 1],
      [compressedLogFileName('2026-11-22', 'b'), 1],
      [logFileName('2026-11-23', 'a'), 1],
      [compressedLogFileName('2026-11-24', 'a'), 1],
    ]);
    await settleBothForms(store, 'a');
    expect(store.names()).toEqual(
      [
        countsFileName('2026-11-20', 'a'),
        compressedLogFileName('2026-11-20', 'a'),
        compressedLogFileName('2026-11-21', 'b'),
        logFileName('2026-11-21', 'b'),
        compressedLogFileName('2026-11-22', 'b'),
        logFileName('2026-11-22', 'a'),
        logFileName('2026-11-23', 'a'),
        compressedLogFileName('2026-11-24', 'a'),
      ].sort(),
    );
  });
});
