import { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import { AppConfig, Environment } from '@app/config';
import { CliModule } from './cli.module';

/** A command's failure that is the user's to fix: its message is shown without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Nest's own start-up chatter: noise in a command's output. */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'NestApplicationContext']);

/**
 * Log lines go to stderr, so stdout carries only the command's result (a CronJob's log shows both). Structured
 * first arguments, as the services pass them to pino in the server, are printed as JSON after the message.
 */
export class StderrLogger implements LoggerService {
  constructor(private readonly levels: readonly LogLevel[] = ['log', 'warn', 'error', 'fatal']) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (!this.levels.includes(level)) return;
    // Nest passes the context last; services may pass an object first and the message second.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : '';
    if (level === 'log' && NEST_BOOT_CONTEXTS.has(context)) return;
    const text =
      typeof message === 'object' && message !== null && typeof rest[0] === 'string' && rest.length > 1
        ? `${rest[0]} ${JSON.stringify(message)}`
        : typeof message === 'string'
          ? message
          : JSON.stringify(message);
    process.stderr.write(`${level.toUpperCase()}${context ? ` [${context}]` : ''} ${text}\n`);
  }
}

/** Nest's levels at and above each LOG_LEVEL, so the CLI honours the same setting as the server. */
const LEVELS_FROM: Record<Environment['LOG_LEVEL'], LogLevel[]> = {
  silent: [],
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** The Nest application context the commands run in (no HTTP server). */
export async function createCliContext(): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(), {
    logger: new StderrLogger(),
    abortOnError: false,
  });
  app.useLogger(new StderrLogger(LEVELS_FROM[app.get(AppConfig).get('LOG_LEVEL')]));
  return app;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (a CronJob's log is not a terminal). */
export class ProgressBar {
  private last = 0;
  private readonly enabled = process.stderr.isTTY === true;

  constructor(private readonly label: string) {}

  update(read: number, total: number, rows: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && read < total) return;
    this.last = now;
    const share = total === 0 ? 1 : Math.min(1, read / total);
    const width = 30;
    const done = Math.round(share * width);
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    process.stderr.write(
      `\r${this.label} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(share * 100).toFixed(0).padStart(3)}% ` +
        `${mb(read)}/${mb(total)} MB, ${rows.toLocaleString('en')} rows`,
    );
  }

  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
