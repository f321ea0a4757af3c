import { AppConfig } from '@app/config';
import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import pino, { DestinationStream, Logger } from 'pino';
import { loggerOptions, stdoutDestination } from './logging-options';
import { RequestLog, RequestLogMiddleware, ROOT_LOGGER } from './request-log';

/**
 * Where log lines go. `null` (the default) means stdout, pretty or JSON as LOG_PRETTY says; a spec overrides it
 * with a stream it reads: `.overrideProvider(LOG_DESTINATION).useValue(stream)`.
 */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The root pino logger, built once from AppConfig; nestjs-pino and RequestLog both write through it. */
@Module({
  providers: [
    { provide: LOG_DESTINATION, useValue: null },
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null): Logger => {
        const settings = {
          level: config.get('LOG_LEVEL'),
          pretty: config.get('LOG_PRETTY'),
          flushMs: config.get('LOG_FLUSH_MS'),
          service: config.get('SERVICE_NAME'),
          version: config.get('SERVICE_VERSION'),
        };
        return pino(loggerOptions(settings), destination ?? stdoutDestination(settings));
      },
    },
  ],
  exports: [ROOT_LOGGER],
})
class RootLoggerModule {}

/**
 * pino for the whole app, configured once from AppConfig: nestjs-pino's Logger for Nest's and the code's own
 * lines (`app.useLogger(app.get(Logger))`), and RequestLog for one line per request. nestjs-pino's per-request
 * middleware (a pino-http child logger and an AsyncLocalStorage scope per request) is not mounted
 * (`forRoutes: []`): it cost more than anything else on the request path.
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      inject: [ROOT_LOGGER],
      useFactory: (logger: Logger): Params => ({ pinoHttp: { logger }, forRoutes: [] }),
    }),
  ],
  providers: [RequestLog, RequestLogMiddleware],
  exports: [LoggerModule, RequestLog],
})
export class LoggingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
