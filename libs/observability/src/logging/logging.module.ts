import { AppConfig } from '@app/config';
import { Module } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { pinoHttpOptions, stdoutDestination } from './logging-options';

/**
 * Where log lines go. `null` (the default) means stdout, pretty or JSON as LOG_PRETTY says; a spec overrides it
 * with a stream it reads: `.overrideProvider(LOG_DESTINATION).useValue(stream)`.
 */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/**
 * pino for the whole app: Nest's own logs (with `app.useLogger(app.get(Logger))`) and one line per request,
 * configured once from AppConfig. `req.id` holds the request id for controllers and the problem filter.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [{ provide: LOG_DESTINATION, useValue: null }],
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null): Params => {
        const settings = {
          level: config.get('LOG_LEVEL'),
          pretty: config.get('LOG_PRETTY'),
          service: config.get('SERVICE_NAME'),
          version: config.get('SERVICE_VERSION'),
        };
        return { pinoHttp: [pinoHttpOptions(settings), destination ?? stdoutDestination(settings)] };
      },
    }),
  ],
  exports: [LoggerModule],
})
export class LoggingModule {}
