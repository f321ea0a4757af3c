import fs, { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import {
  compressedLogFileName,
  compressLog,
  countsFileName,
  cutTornTail,
  dayOf,
  listLogFiles,
  logFileName,
  parseLogFileName,
  readableLogs,
  readLines,
  removePartials,
  restoreLog,
  sanitizeHost,
  sizeOf,
} from './log-files';

/** The file helpers of the prediction log, each on its own, on real files in a fresh folder. */
const folder = () => mkdtempSync(join(tmpdir(), 'log-files-'));

async function linesOf(path: string, start?: number, end?: number): Promise<string[]> {
  const found: string[] = [];
  for await (const line of readLines(path, start, end)) found.push(line);
  return found;
}

describe('log file names', () => {
  it('names a day by its UTC date', () => {
    expect(dayOf(new Date('2026-11-30T23:59:59.999Z'))).toBe('2026-11-30');
    expect(dayOf(new Date('2026-12-01T00:00:00.000+01:00'))).toBe('2026-11-30');
  });

  it('makes a host name safe for a file name, and never empty', () => {
    expect(sanitizeHost('node-1_A.example.com')).toBe('node-1_A-example-com');
    expect(sanitizeHost('a b/c\\d:é')).toBe('a-b-c-d--');
    expect(sanitizeHost('h'.repeat(150))).toBe('h'.repeat(100));
    expect(sanitizeHost('')).toBe('host');
  });

  it('reads back the day, host and kind of each name it gives, and nothing else', () => {
    expect(parseLogFileName(logFileName('2026-11-30', 'node-1_a'))).toEqual({
      day: '2026-11-30',
      host: 'node-1_a',
      kind: 'log',
      compressed: false,
    });
    expect(parseLogFileName(countsFileName('2026-11-30', 'b'))).toEqual({
      day: '2026-11-30',
      host: 'b',
      kind: 'counts',
      compressed: false,
    });
    for (const name of [
      '2026-11-30.b.jsonl.gz.tmp',
      'x2026-11-30.b.jsonl',
      '2026-11-30.b.jsonlx',
      '2026-11-30..jsonl',
      '2026-1-30.b.jsonl',
      '2026-11-30.b.c.jsonl',
      '2026-11-30.b.json',
      'README.md',
    ]) {
      expect(parseLogFileName(name)).toBeUndefined();
    }
  });

  it('lists the log and count files of a folder with their names, and none for a missing folder', async () => {
    const dir = folder();
    for (const name of [logFileName('2026-11-29', 'a'), countsFileName('2026-11-29', 'a'), 'notes.txt']) {
      writeFileSync(join(dir, name), '');
    }
    const listed = await listLogFiles(dir);
    expect(listed.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      {
        day: '2026-11-29',
        host: 'a',
        kind: 'counts',
        compressed: false,
        name: countsFileName('2026-11-29', 'a'),
      },
      { day: '2026-11-29', host: 'a', kind: 'log', compressed: false, name: logFileName('2026-11-29', 'a') },
    ]);
    expect(await listLogFiles(join(dir, 'missing'))).toEqual([]);
    // Anything but a missing folder is an error to report, not an empty log.
    await expect(listLogFiles(join(dir, 'notes.txt'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('reads each day and host once: the plain form while both exist, never a count file', () => {
    const file = (name: string) => ({ ...parseLogFileName(name)!, name });
    const files = [
      file(compressedLogFileName('2026-11-28', 'a')),
      file(logFileName('2026-11-28', 'a')),
      file(compressedLogFileName('2026-11-28', 'b')),
      file(compressedLogFileName('2026-11-27', 'a')),
      file(countsFileName('2026-11-28', 'a')),
      // A summary beside a compressed day is no plain form of it.
      file(countsFileName('2026-11-27', 'a')),
    ];
    expect(readableLogs(files).map((f) => f.name)).toEqual([
      logFileName('2026-11-28', 'a'),
      compressedLogFileName('2026-11-28', 'b'),
      compressedLogFileName('2026-11-27', 'a'),
    ]);
  });
});

describe('sizeOf', () => {
  it('gives the size of a file, undefined for a missing one, and reports other errors', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'f'), 'abc');
    expect(await sizeOf(join(dir, 'f'))).toBe(3);
    expect(await sizeOf(join(dir, 'missing'))).toBeUndefined();
    await expect(sizeOf(join(dir, 'f', 'below-a-file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('cutTornTail', () => {
  const file = (content: string | Buffer) => {
    const path = join(folder(), 'log.jsonl');
    writeFileSync(path, content);
    return path;
  };

  it('cuts a last line without its newline, and leaves whole lines alone', async () => {
    const torn = file('{"a":1}\n{"a":2}\n{"a"');
    expect(await cutTornTail(torn)).toBe(16);
    expect(readFileSync(torn, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    const whole = file('{"a":1}\n');
    expect(await cutTornTail(whole)).toBe(8);
    expect(readFileSync(whole, 'utf8')).toBe('{"a":1}\n');
  });

  it('empties a file with no newline at all, and needs no file', async () => {
    const torn = file('{"a"');
    expect(await cutTornTail(torn)).toBe(0);
    expect(readFileSync(torn, 'utf8')).toBe('');
    expect(await cutTornTail(file(''))).toBe(0);
    expect(await cutTornTail(join(folder(), 'missing.jsonl'))).toBe(0);
  });

  it('finds the last newline several 64 KiB reads back from the end', async () => {
    const tail = 'y'.repeat(150 * 1024);
    const torn = file(`first\n${tail}`);
    expect(await cutTornTail(torn)).toBe(6);
    expect(readFileSync(torn, 'utf8')).toBe('first\n');
    const none = file('z'.repeat(130 * 1024));
    expect(await cutTornTail(none)).toBe(0);
    expect(readFileSync(none, 'utf8')).toBe('');
    // A newline exactly at a read boundary, counted from the end.
    const boundary = file(`${'w'.repeat(10)}\n${'v'.repeat(64 * 1024)}`);
    expect(await cutTornTail(boundary)).toBe(11);
  });
});

describe('readLines', () => {
  it('yields the complete lines from a line boundary up to an end, never a torn last line', async () => {
    const path = join(folder(), 'log.jsonl');
    writeFileSync(path, 'one\ntwo\nthree\nfou');
    expect(await linesOf(path)).toEqual(['one', 'two', 'three']);
    expect(await linesOf(path, 4)).toEqual(['two', 'three']);
    expect(await linesOf(path, 4, 8)).toEqual(['two']);
    expect(await linesOf(path, 0, 7)).toEqual(['one']);
    expect(await linesOf(path, 8, 8)).toEqual([]);
    expect(await linesOf(path, 8, 4)).toEqual([]);
  });

  it('keeps a character whose bytes straddle two reads whole', async () => {
    const path = join(folder(), 'log.jsonl');
    // 64 KiB reads: "é" (two bytes) starts on the last byte of the first read.
    const line = `${'a'.repeat(64 * 1024 - 1)}é`;
    writeFileSync(path, `${line}\nb\n`);
    expect(await linesOf(path)).toEqual([line, 'b']);
  });

  it('reads a compressed day whole, and refuses a part of one', async () => {
    const path = join(folder(), compressedLogFileName('2026-11-20', 'a'));
    writeFileSync(path, gzipSync('x\ny\n'));
    expect(await linesOf(path)).toEqual(['x', 'y']);
    await expect(linesOf(path, 2)).rejects.toThrow(`${path}: a compressed log is read whole`);
    await expect(linesOf(path, 0, 2)).rejects.toThrow(`${path}: a compressed log is read whole`);
  });
});

describe('compressing and restoring', () => {
  it('restores a compressed day to its plain form and removes the compressed one', async () => {
    const dir = folder();
    const gz = join(dir, compressedLogFileName('2026-11-20', 'a'));
    writeFileSync(gz, gzipSync('{"n":1}\n{"n":2}\n'));
    await restoreLog(gz);
    expect(readdirSync(dir)).toEqual([logFileName('2026-11-20', 'a')]);
    expect(readFileSync(join(dir, logFileName('2026-11-20', 'a')), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('leaves no temporary file and the original in place when a step fails', async () => {
    const dir = folder();
    const gz = join(dir, compressedLogFileName('2026-11-20', 'a'));
    writeFileSync(gz, 'not a gzip stream');
    await expect(restoreLog(gz)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([compressedLogFileName('2026-11-20', 'a')]);
    const missing = join(dir, logFileName('2026-11-21', 'a'));
    await expect(compressLog(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([compressedLogFileName('2026-11-20', 'a')]);
  });

  it('refuses a compressed form that reads back other bytes than the log: the log stays, nothing else is left', async () => {
    const dir = folder();
    const path = join(dir, logFileName('2026-11-23', 'a'));
    const content = '{"n":1}\n{"n":2}\n{"n":3}\n';
    writeFileSync(path, content);
    const partial = `${path}.gz.tmp`;
    // A disk that hands back the temporary file with one bit flipped in its lines (a gzip stream that is still
    // valid, so only comparing the lines can tell): once.
    const { createReadStream } = fs;
    let readBacks = 0;
    let flipped = false;
    const flipOneBit = () =>
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          const bytes = Buffer.from(chunk);
          if (!flipped && bytes.length > 3) {
            bytes[3] ^= 0x01;
            flipped = true;
          }
          done(null, bytes);
        },
      });
    const readBack = jest
      .spyOn(fs, 'createReadStream')
      .mockImplementation((file: fs.PathLike, options?: Parameters<typeof createReadStream>[1]) => {
        const stream = createReadStream(file, options);
        if (file !== partial || readBacks++ > 0) return stream;
        return stream.pipe(createGunzip()).pipe(flipOneBit()).pipe(createGzip()) as unknown as fs.ReadStream;
      });
    try {
      await expect(compressLog(path)).rejects.toThrow(`${partial} does not match ${path}`);
    } finally {
      readBack.mockRestore();
    }
    expect(readBacks).toBe(1);
    expect(flipped).toBe(true);
    expect(readdirSync(dir)).toEqual([logFileName('2026-11-23', 'a')]);
    expect(readFileSync(path, 'utf8')).toBe(content);

    // The same log, read back as written, is compressed.
    await compressLog(path);
    expect(readdirSync(dir)).toEqual([compressedLogFileName('2026-11-23', 'a')]);
    expect(await linesOf(`${path}.gz`)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('gives the step’s own error when the temporary file was never created (the folder is gone)', async () => {
    const gone = join(folder(), 'removed');
    // Neither file can be opened: the clean-up finds no temporary file, and the open's error comes out, not one
    // about the temporary file.
    await expect(compressLog(join(gone, logFileName('2026-11-21', 'a')))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    await expect(restoreLog(join(gone, compressedLogFileName('2026-11-21', 'a')))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(existsSync(gone)).toBe(false);
  });

  it('closes every file it opens: cutting a tail, compressing and restoring leave no descriptor open', async () => {
    const descriptors = () => readdirSync('/proc/self/fd').length;
    const dir = folder();
    const path = join(dir, logFileName('2026-11-22', 'a'));
    writeFileSync(path, 'a\nb\ntorn');
    const before = descriptors();
    expect(await cutTornTail(path)).toBe(4);
    await compressLog(path);
    await restoreLog(`${path}.gz`);
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
    expect(descriptors()).toBe(before);
  });

  it('puts the compressed and the restored form on disk before renaming it into place', async () => {
    const dir = folder();
    const path = join(dir, logFileName('2026-11-24', 'a'));
    writeFileSync(path, 'a\nb\n');
    const probe = await fs.promises.open(path, 'r');
    const handles = Object.getPrototypeOf(probe) as fs.promises.FileHandle;
    await probe.close();
    // What the folder holds at each sync.
    const seen: string[][] = [];
    const sync = jest.spyOn(handles, 'sync').mockImplementation(function (this: fs.promises.FileHandle) {
      seen.push(readdirSync(dir).sort());
      fs.fsyncSync(this.fd);
      return Promise.resolve();
    });
    try {
      await compressLog(path);
      await restoreLog(`${path}.gz`);
    } finally {
      sync.mockRestore();
    }
    expect(seen).toEqual([
      [logFileName('2026-11-24', 'a'), `${compressedLogFileName('2026-11-24', 'a')}.tmp`],
      [compressedLogFileName('2026-11-24', 'a'), `${logFileName('2026-11-24', 'a')}.tmp`],
    ]);
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
  });

  it('removes only the temporary log files of its own host', async () => {
    const dir = folder();
    const names = [
      `${compressedLogFileName('2026-11-20', 'a')}.tmp`,
      `${logFileName('2026-11-21', 'a')}.tmp`,
      `${compressedLogFileName('2026-11-20', 'b')}.tmp`,
      `${countsFileName('2026-11-20', 'a')}.tmp`,
      compressedLogFileName('2026-11-19', 'a'),
      'a.tmp',
      // An operator's copy: a log's name and four more characters, but no temporary file.
      `${logFileName('2026-11-18', 'a')}.bak`,
    ];
    for (const name of names) writeFileSync(join(dir, name), 'x');
    await removePartials(dir, 'a');
    expect(readdirSync(dir).sort()).toEqual(names.slice(2).sort());
    await expect(removePartials(join(dir, 'missing'), 'a')).resolves.toBeUndefined();
    expect(existsSync(join(dir, names[0]))).toBe(false);
  });
});
