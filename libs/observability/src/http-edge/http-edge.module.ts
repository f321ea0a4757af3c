import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { JsonBody, JsonBodyInterceptor } from './json-body';

/**
 * What happens to a request's body before a controller sees it: the JSON body parser, run for every handler after
 * the guards (see JsonBodyInterceptor), and exported for the fast lane, which decodes with it.
 */
@Module({
  providers: [JsonBody, { provide: APP_INTERCEPTOR, useClass: JsonBodyInterceptor }],
  exports: [JsonBody],
})
export class HttpEdgeModule {}
