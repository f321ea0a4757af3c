import { Module } from '@nestjs/common';
import { JsonBody, JsonBodyGuard } from './json-body';

/**
 * What happens to a request's body before a controller sees it: the JSON body parser (JsonBody, which the fast lane
 * decodes with too) and JsonBodyGuard, which an app registers as an APP_GUARD after its authentication guard.
 */
@Module({ providers: [JsonBody, JsonBodyGuard], exports: [JsonBody, JsonBodyGuard] })
export class HttpEdgeModule {}
