import { AppConfig } from '@app/config';
import { ConnectionDrain } from './http-edge/connection-drain';
import { configureHttpServer } from './http-edge/http-server';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { PredictionLane } from './fast-lane/prediction-lane';
import { GrpcEndpoint } from './grpc/grpc-endpoint';
import { setupOpenApi } from './openapi';

/** Builds the app as production runs it (HTTP, and gRPC when GRPC_ENABLED); main.ts and the end-to-end specs share it. */
export async function createApp(): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    // The JSON body parser lives in HttpEdgeModule, so its errors become problem+json like every other.
    bodyParser: false,
    bufferLogs: true,
    // Let bootstrap errors reach main.ts, which names them and exits 1, instead of Nest aborting the process.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Predictions are answers to POSTs, never cached: hashing every body for an ETag buys nothing.
  app.set('etag', false);
  const config = app.get(AppConfig);
  if (config.get('SWAGGER_ENABLED')) setupOpenApi(app, config.get('SERVICE_VERSION'));
  configureHttpServer(app.getHttpServer(), {
    headersTimeoutMs: config.get('HTTP_HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: config.get('HTTP_REQUEST_TIMEOUT_MS'),
    keepAliveTimeoutMs: config.get('HTTP_KEEPALIVE_TIMEOUT_MS'),
  });
  const lane = app.get(PredictionLane);
  if (lane.enabled) lane.install(app.getHttpServer());
  app.get(ConnectionDrain).install(app.getHttpServer());
  // A hybrid app: the gRPC server is connected here and bound by runServer (startAllMicroservices), on its own port.
  const grpc = app.get(GrpcEndpoint);
  if (grpc.enabled) app.connectMicroservice(grpc.microserviceOptions());
  return app;
}
