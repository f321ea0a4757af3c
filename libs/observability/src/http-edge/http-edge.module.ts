import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { JsonBodyMiddleware } from './json-body.middleware';

/**
 * What happens to a request before a controller sees it: the JSON body parser, for every route.
 * Import it after MetricsModule: Nest runs middleware of sibling modules in import order, and a request this
 * parser rejects must already be counted by the metrics middleware.
 */
@Module({ providers: [JsonBodyMiddleware], exports: [JsonBodyMiddleware] })
export class HttpEdgeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
