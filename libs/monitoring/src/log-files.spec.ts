import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compressedLogFileName,
  compressLog,
  countsFileName,
  defaultHost,
  listLogFiles,
  logFileName,
  parseLogFileName,
  processHost,
  readableLogs,
  readLines,
  removePartials,
  restoreLog,
} from './log-files';
import { capLogFolder, settleBothForms } from './log-housekeeping';
import { DiskLogStore } from './log-store';

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
      { day: '2026-11-24', host: `${defaultHost()}-0`, kind: 'log', compressed: false },
      { day: '2026-11-24', host: `${defaultHost()}-1`, kind: 'log', compressed: false },
    ]);
  });
});

describe('capLogFolder', () => {
  const day = (offset: number) =>
    new Date(Date.UTC(2026, 10, 30) + offset * 86_400_000).toISOString().slice(0, 10);
  const today = day(0);

  function folder(): string {
    const dir = mkdtempSync(join(tmpdir(), 'cap-'));
    for (const offset of [-5, -4, -3, -1, 0]) {
      for (const host of ['a', 'b']) {
        writeFileSync(join(dir, logFileName(day(offset), host)), 'x'.repeat(1000));
        writeFileSync(join(dir, countsFileName(day(offset), host)), '{}');
      }
    }
    writeFileSync(join(dir, 'notes.txt'), 'y'.repeat(100_000));
    return dir;
  }

  it('deletes the oldest days’ logs first, every host’s, until the folder fits, keeping every summary', async () => {
    const dir = folder();
    // 10 logs of 1,000 bytes and 10 summaries of 2; the cap leaves room for 6 logs.
    const { deleted, bytes } = await capLogFolder(new DiskLogStore(dir), 6_100, today);
    expect(deleted.map((file) => file.name)).toEqual([
      logFileName(day(-5), 'a'),
      logFileName(day(-5), 'b'),
      logFileName(day(-4), 'a'),
      logFileName(day(-4), 'b'),
    ]);
    expect(deleted.every((file) => file.bytes === 1000)).toBe(true);
    expect(bytes).toBe(6_020);
    const left = readdirSync(dir);
    expect(left.filter((name) => name.endsWith('.counts.json'))).toHaveLength(10);
    expect(left).toContain('notes.txt');
  });

  it('never deletes today’s or yesterday’s logs, even when the folder stays over the cap', async () => {
    const dir = folder();
    const { deleted, bytes } = await capLogFolder(new DiskLogStore(dir), 0, today);
    expect(deleted.map((file) => file.day)).toEqual([day(-5), day(-5), day(-4), day(-4), day(-3), day(-3)]);
    expect(bytes).toBe(4_020);
    expect(readdirSync(dir)).toEqual(
      expect.arrayContaining([logFileName(today, 'a'), logFileName(day(-1), 'b')]),
    );
  });

  it('only measures without a cap, and counts only the files still there', async () => {
    const dir = folder();
    expect(await capLogFolder(new DiskLogStore(dir), Infinity, today)).toEqual({
      deleted: [],
      bytes: 10_020,
    });
    rmSync(join(dir, logFileName(day(-5), 'a')));
    const { deleted, bytes } = await capLogFolder(new DiskLogStore(dir), 8_020, today);
    expect(deleted.map((file) => file.name)).toEqual([logFileName(day(-5), 'b')]);
    expect(bytes).toBe(8_020);
  });
});

describe('compressed days', () => {
  const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"text":"é ${'x'.repeat(i % 50)}"}`);
  const plainLog = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gz-'));
    const path = join(dir, logFileName('2026-11-20', 'a'));
    writeFileSync(path, `${lines.join('\n')}\n`);
    return { dir, path };
  };
  const read = async (path: string) => {
    const found: string[] = [];
    for await (const line of readLines(path)) found.push(line);
    return found;
  };

  it('compresses a closed day into one complete, smaller form that reads back the same lines', async () => {
    const { dir, path } = plainLog();
    const size = statSync(path).size;
    await compressLog(path);
    expect(readdirSync(dir)).toEqual([compressedLogFileName('2026-11-20', 'a')]);
    const compressed = join(dir, compressedLogFileName('2026-11-20', 'a'));
    expect(statSync(compressed).size).toBeLessThan(size / 4);
    expect(await read(compressed)).toEqual(lines);
    expect(parseLogFileName(compressedLogFileName('2026-11-20', 'a'))).toEqual({
      day: '2026-11-20',
      host: 'a',
      kind: 'log',
      compressed: true,
    });

    await restoreLog(compressed);
    expect(readdirSync(dir)).toEqual([logFileName('2026-11-20', 'a')]);
    expect(readFileSync(path, 'utf8')).toBe(`${lines.join('\n')}\n`);
  });

  it('leaves one readable form after a crash at any step', async () => {
    const { dir, path } = plainLog();
    const gz = join(dir, compressedLogFileName('2026-11-20', 'a'));
    // Killed while writing the compressed form: a partial file, never read, removed at the next start.
    writeFileSync(`${gz}.tmp`, 'half a gzip stream');
    expect(readableLogs(await listLogFiles(dir)).map((f) => f.name)).toEqual([
      logFileName('2026-11-20', 'a'),
    ]);
    await removePartials(dir, 'a');
    expect(readdirSync(dir)).toEqual([logFileName('2026-11-20', 'a')]);

    // Killed between the rename and the removal of the original: two equal forms, read once; the start settles it.
    await compressLog(path);
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect(readableLogs(await listLogFiles(dir))).toHaveLength(1);
    await settleBothForms(new DiskLogStore(dir), 'a');
    expect(readdirSync(dir)).toEqual([compressedLogFileName('2026-11-20', 'a')]);
    expect(await read(gz)).toEqual(lines);
  });
});
