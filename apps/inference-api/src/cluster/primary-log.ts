import type { Environment } from '@app/config/environment';

type Level = 'fatal' | 'error' | 'warn' | 'info';

const SEVERITY: Record<Environment['LOG_LEVEL'], number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** Whatever a line says besides its message: worker slot, pid, exit code… */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/**
 * The cluster primary's log: the same JSON lines as the workers' pino logs (level as a word, ISO time, service,
 * version, pid, context, msg), so one stdout carries one format. The primary is kept small and boots no Nest,
 * and its handful of lines do not need pino. Written synchronously (stdout is synchronous for files and pipes on
 * Linux), so the last line before `process.exit` is not lost.
 */
export class PrimaryLog {
  private readonly threshold: number;

  constructor(
    private readonly settings: Pick<
      Environment,
      'LOG_LEVEL' | 'LOG_PRETTY' | 'SERVICE_NAME' | 'SERVICE_VERSION'
    >,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.threshold = SEVERITY[settings.LOG_LEVEL];
  }

  info(msg: string, fields: LogFields = {}): void {
    this.line('info', msg, fields);
  }

  warn(msg: string, fields: LogFields = {}): void {
    this.line('warn', msg, fields);
  }

  error(msg: string, fields: LogFields = {}): void {
    this.line('error', msg, fields);
  }

  fatal(msg: string, fields: LogFields = {}): void {
    this.line('fatal', msg, fields);
  }

  private line(level: Level, msg: string, fields: LogFields): void {
    if (SEVERITY[level] < this.threshold) return;
    const time = new Date();
    if (this.settings.LOG_PRETTY) {
      const clock = time.toTimeString().slice(0, 8) + `.${String(time.getMilliseconds()).padStart(3, '0')}`;
      this.write(`[${clock}] ${level.toUpperCase()} (HttpPrimary): ${msg}\n`);
      return;
    }
    const record = {
      level,
      time: time.toISOString(),
      service: this.settings.SERVICE_NAME,
      version: this.settings.SERVICE_VERSION,
      pid: process.pid,
      context: 'HttpPrimary',
      ...fields,
      msg,
    };
    this.write(`${JSON.stringify(record)}\n`);
  }
}
