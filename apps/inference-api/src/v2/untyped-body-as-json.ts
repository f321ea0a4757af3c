import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Reads a /v2 body sent without a Content-Type as JSON. Triton's Python client (`tritonclient.http`) posts its JSON
 * without one, and the protocol defines the body as JSON; elsewhere the body parser asks for the header (415).
 * A body announcing Triton's binary tensor data (`Inference-Header-Content-Length`) is not JSON past that length:
 * it is left as it came, for the body reader to cut into its JSON header and its tensor bytes (AcceptsBinaryTensorData
 * on the infer routes).
 */
@Injectable()
export class UntypedBodyAsJson implements NestMiddleware {
  use(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
    const { headers } = req;
    if (headers['content-type'] === undefined && headers['inference-header-content-length'] === undefined) {
      headers['content-type'] = 'application/json';
    }
    next();
  }
}
