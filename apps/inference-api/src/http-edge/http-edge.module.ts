import { Module } from '@nestjs/common';
import { ConnectionDrain } from './connection-drain';
import { JsonBody, JsonBodyGuard } from './json-body';

/**
 * What happens to a request's body before a controller sees it: the JSON body parser (JsonBody, which the fast lane
 * decodes with too) and JsonBodyGuard, which an app registers as an APP_GUARD after its authentication guard. And
 * ConnectionDrain, which takes the HTTP server down without dropping a request.
 */
@Module({
  providers: [JsonBody, JsonBodyGuard, ConnectionDrain],
  exports: [JsonBody, JsonBodyGuard, ConnectionDrain],
})
export class HttpEdgeModule {}
