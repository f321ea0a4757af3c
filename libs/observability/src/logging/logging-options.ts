import pino, { DestinationStream, LevelWithSilent, LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export interface LoggingSettings {
  level: LevelWithSilent;
  pretty: boolean;
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
  };
}

/**
 * stdout, synchronously so the last lines before a crash or `process.exit` are not lost; pino-pretty in the same
 * thread for a terminal (a worker-thread transport would be faster, but pretty output is for laptops only).
 */
export function stdoutDestination(settings: Pick<LoggingSettings, 'pretty'>): DestinationStream {
  if (settings.pretty) {
    return pretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,service,version',
      sync: true,
    });
  }
  return pino.destination({ dest: 1, sync: true });
}
