import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';

/**
 * The prediction log's layout on disk, shared by the writer (PredictionLog) and the readers (the drift check):
 *
 *   <dir>/<YYYY-MM-DD>.<host>.jsonl         one JSON line per answered request, per UTC day and replica
 *   <dir>/<YYYY-MM-DD>.<host>.jsonl.gz      the same, once the day is closed and compressed (compressLog)
 *   <dir>/<YYYY-MM-DD>.<host>.counts.json   bin counts of that file's rows (see count-summary.ts)
 *
 * With several HTTP workers, `<host>` is `<host name>-<worker>` (processHost): one writer per file.
 *
 * The functions below are the disk's side of it, used through DiskLogStore (log-store.ts); what to delete when
 * (retention, the size cap) is decided over any LogStore in log-housekeeping.ts.
 */
export const LOG_SUFFIX = '.jsonl';
export const COMPRESSED_SUFFIX = '.jsonl.gz';
/** A compressed (or restored) form being written; never read, removed at start. */
const PARTIAL_SUFFIX = '.tmp';
export const COUNTS_SUFFIX = '.counts.json';

/** The UTC day of an instant, as files are named. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Host names become file-name safe: anything but letters, digits, "_" and "-" turns into "-". */
export function sanitizeHost(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100) || 'host';
}

export function defaultHost(): string {
  return sanitizeHost(hostname());
}

/**
 * The host part of this process's file names: the host name, and with several HTTP workers the worker's slot
 * (`<host>-<worker>`), so each worker appends to a file of its own and a restarted worker to its predecessor's.
 */
export function processHost(worker?: number): string {
  return worker === undefined ? defaultHost() : `${defaultHost()}-${worker}`;
}

export const logFileName = (day: string, host: string) => `${day}.${host}${LOG_SUFFIX}`;
export const compressedLogFileName = (day: string, host: string) => `${day}.${host}${COMPRESSED_SUFFIX}`;
export const countsFileName = (day: string, host: string) => `${day}.${host}${COUNTS_SUFFIX}`;

export interface LogFileName {
  day: string;
  host: string;
  kind: 'log' | 'counts';
  /** A `.jsonl.gz`: a closed day's log, compressed. */
  compressed: boolean;
}

const NAME = /^(\d{4}-\d{2}-\d{2})\.([A-Za-z0-9_-]+)(\.jsonl|\.jsonl\.gz|\.counts\.json)$/;

export function parseLogFileName(name: string): LogFileName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const kind = match[3] === COUNTS_SUFFIX ? 'counts' : 'log';
  return { day: match[1], host: match[2], kind, compressed: match[3] === COMPRESSED_SUFFIX };
}

/** Every log and count file in the folder; a missing folder has none. */
export async function listLogFiles(dir: string): Promise<Array<LogFileName & { name: string }>> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names.flatMap((name) => {
    const parsed = parseLogFileName(name);
    return parsed ? [{ ...parsed, name }] : [];
  });
}

/** Size of a file, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
}

/**
 * A process killed during an append can leave a last line without its newline. Before appending to a file again,
 * cut it back to just after its last newline, so the next line starts on a line of its own. Returns the size.
 */
export async function cutTornTail(path: string): Promise<number> {
  const size = await sizeOf(path);
  if (size === undefined || size === 0) return 0;
  const handle = await open(path, 'r');
  let end = size;
  try {
    const chunk = Buffer.alloc(64 * 1024);
    for (let position = size; position > 0;) {
      const length = Math.min(chunk.length, position);
      position -= length;
      const { bytesRead } = await handle.read(chunk, 0, length, position);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline !== -1) {
        end = position + newline + 1;
        break;
      }
      if (position === 0) end = 0;
    }
  } finally {
    await handle.close();
  }
  if (end < size) await truncate(path, end);
  return end;
}

/**
 * The complete lines of a file from byte `start` (a line boundary) on. A last line without its newline is torn
 * (or still being written) and is not returned.
 */
export async function* readLines(path: string, start = 0, end?: number): AsyncGenerator<string> {
  if (end !== undefined && end <= start) return;
  let stream: Readable;
  if (path.endsWith(COMPRESSED_SUFFIX)) {
    // A closed day is read whole: its count summary covers all of it, so nobody reads a tail of one.
    if (start !== 0 || end !== undefined) throw new Error(`${path}: a compressed log is read whole`);
    stream = createReadStream(path).pipe(createGunzip());
  } else {
    stream = createReadStream(path, { start, ...(end !== undefined ? { end: end - 1 } : {}) });
  }
  // A multi-byte character may straddle two chunks: the decoder holds its first bytes back.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line;
  }
}

/**
 * The log files readers should read: one per day and host. Both forms of a day exist only between the two last
 * steps of compressLog or restoreLog, when they hold the same lines; the plain one is read.
 */
export function readableLogs<T extends LogFileName>(files: readonly T[]): T[] {
  const plain = new Set(
    files.filter((f) => f.kind === 'log' && !f.compressed).map((f) => `${f.day}.${f.host}`),
  );
  return files.filter((f) => f.kind === 'log' && !(f.compressed && plain.has(`${f.day}.${f.host}`)));
}

/** Length and SHA-256 of a stream's bytes. */
async function digestOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    length += chunk.length;
  }
  return `${length}:${hash.digest('hex')}`;
}

/**
 * Compresses a closed day's log: `<name>.jsonl` → `<name>.jsonl.gz`. The compressed form is written under a
 * temporary name, read back and compared with the original, then renamed into place, and only then is the original
 * removed. A crash at any step leaves one complete form (or two equal ones, which readers read once): a temporary
 * file is never read and is removed at the next start (removePartials).
 */
export async function compressLog(path: string): Promise<void> {
  await writeInPlace(`${path}.gz`, async (partial) => {
    await pipeline(createReadStream(path), createGzip(), createWriteStream(partial));
    const written = await digestOf(createReadStream(partial).pipe(createGunzip()));
    if (written !== (await digestOf(createReadStream(path))))
      throw new Error(`${partial} does not match ${path}`);
  });
  await rm(path);
}

/** The reverse, for rows of a day already compressed (a write that waited out a failing disk past midnight). */
export async function restoreLog(compressedPath: string): Promise<void> {
  await writeInPlace(compressedPath.slice(0, -'.gz'.length), (partial) =>
    pipeline(createReadStream(compressedPath), createGunzip(), createWriteStream(partial)),
  );
  await rm(compressedPath);
}

/** Writes `target` under a temporary name and renames it into place once complete and on disk; else removes it. */
async function writeInPlace(target: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = `${target}${PARTIAL_SUFFIX}`;
  try {
    await write(partial);
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Removes the temporary files a crash left in the middle of compressLog or restoreLog, for one host's days. */
export async function removePartials(dir: string, host: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith(PARTIAL_SUFFIX)) continue;
    const parsed = parseLogFileName(name.slice(0, -PARTIAL_SUFFIX.length));
    if (parsed?.kind === 'log' && parsed.host === host) await rm(join(dir, name), { force: true });
  }
}
