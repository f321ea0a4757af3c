import { AppConfig, validateEnvironment } from '@app/config';
import { LOG_DESTINATION, LoggingModule, MetricsModule } from '@app/observability';
import { Global, Module, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Logger } from 'nestjs-pino';
import { HttpEdgeModule } from '../../apps/inference-api/src/http-edge/http-edge.module';
import { httpEdgeGlobals } from '../../apps/inference-api/src/http-edge/http-edge-globals';
import type { HttpApp } from './http';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line, so a spec can assert on exactly what would reach stdout. */
export class LogCapture {
  readonly raw: string[] = [];

  write(chunk: string): void {
    this.raw.push(chunk);
  }

  get lines(): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine);
  }

  /** Request lines RequestLog wrote when a response was over. */
  get requestLines(): LogLine[] {
    return this.lines.filter((line) => line.res !== undefined && line.responseTime !== undefined);
  }

  clear(): void {
    this.raw.length = 0;
  }
}

export interface ObservabilityTestApp {
  app: HttpApp;
  logs: LogCapture;
}

/**
 * A small app wired the way AppModule wires the observability library (config, logging, metrics, body parser, and
 * the production set of global filter, guard and pipe: httpEdgeGlobals), around the given controllers.
 */
export async function createObservabilityApp(
  controllers: Type[],
  env: Record<string, string> = {},
  providers: Provider[] = [],
): Promise<ObservabilityTestApp> {
  const environment = validateEnvironment({ NODE_ENV: 'test', SERVICE_VERSION: '9.8.7-test', ...env });
  const config = { get: (key: keyof typeof environment) => environment[key] } as unknown as AppConfig;

  @Global()
  @Module({ providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] })
  class TestConfigModule {}

  const logs = new LogCapture();
  const moduleRef = await Test.createTestingModule({
    imports: [TestConfigModule, LoggingModule, MetricsModule, HttpEdgeModule],
    controllers,
    providers: [...providers, ...httpEdgeGlobals()],
  })
    .overrideProvider(LOG_DESTINATION)
    .useValue(logs)
    .compile();
  const app = moduleRef.createNestApplication<HttpApp>({ bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  await app.init();
  return { app, logs };
}
