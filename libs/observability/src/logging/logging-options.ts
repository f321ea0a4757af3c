import pino, { DestinationStream, LevelWithSilent, LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { BatchedLines } from './batched-lines';

export interface LoggingSettings {
  level: LevelWithSilent;
  pretty: boolean;
  /** LOG_FLUSH_MS: how long JSON lines may wait to be written together; 0 writes each at once. */
  flushMs: number;
  service: string;
  version: string;
}

/**
 * Header paths censored wherever someone logs a request or its headers by hand. The request log line
 * (RequestLog) logs no headers at all; this is the second line of defence.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'headers["set-cookie"]',
];

/** pino options: JSON lines with service, version and pid on every line, ISO time, level as a word, redaction. */
export function loggerOptions(settings: LoggingSettings): LoggerOptions {
  return {
    level: settings.level,
    base: { service: settings.service, version: settings.version, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks: { streamWrite: fitLine },
  };
}

/**
 * The longest line a write puts into a pipe whole (PIPE_BUF on Linux). HTTP workers share the container's stdout
 * pipe: two longer lines written at once can interleave into lines that are not JSON.
 */
export const MAX_LINE_BYTES = 4096;

/** How long the strings of an overlong line are cut, tried in turn until it fits. */
const STRING_CUTS = [1024, 256, 64];

/**
 * A log line as written: itself when it fits MAX_LINE_BYTES (almost every line, checked by its length alone),
 * else the same record with its long strings (a stack, a message quoting input) cut and marked, and failing that
 * its level, time and the start of its message. Always one JSON line.
 */
export function fitLine(line: string): string {
  if (line.length * 3 < MAX_LINE_BYTES || Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line; // not JSON (pino-pretty's own output is never seen here): nothing to keep whole
  }
  for (const length of STRING_CUTS) {
    const cut = `${JSON.stringify(cutStrings(record, length))}\n`;
    if (Buffer.byteLength(cut) <= MAX_LINE_BYTES) return cut;
  }
  const { level, time, pid, service, version, msg } = record;
  const short = {
    level,
    time,
    pid,
    service,
    version,
    msg: cutString(typeof msg === 'string' ? msg : JSON.stringify(msg ?? ''), 1024),
    cut_bytes: Buffer.byteLength(line),
  };
  return `${JSON.stringify(short)}\n`;
}

function cutString(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}… (${text.length} characters)` : text;
}

function cutStrings(value: unknown, length: number): unknown {
  if (typeof value === 'string') return cutString(value, length);
  if (Array.isArray(value)) return value.map((item) => cutStrings(item, length));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutStrings(item, length)]));
  }
  return value;
}

/**
 * stdout, written synchronously (a worker-thread transport would lose the last lines before a crash), lines
 * gathered for LOG_FLUSH_MS into writes of whole lines (BatchedLines); pino-pretty in the same thread for a terminal
 * (pretty output is for laptops only).
 */
export function stdoutDestination(settings: Pick<LoggingSettings, 'pretty' | 'flushMs'>): DestinationStream {
  if (settings.pretty) {
    return pretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,service,version',
      sync: true,
    });
  }
  const stdout = pino.destination({ dest: 1, sync: true });
  return settings.flushMs > 0 ? new BatchedLines(stdout, settings.flushMs, MAX_LINE_BYTES) : stdout;
}
