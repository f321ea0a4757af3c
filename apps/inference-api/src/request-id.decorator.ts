import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** The id RequestLog gave this request (a sane incoming X-Request-Id, or a fresh UUID). */
export const RequestId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<IncomingMessage & { id?: unknown }>();
  // RequestLog sets it as a string (see assignRequestId); anything else means logging was not set up.
  return typeof request.id === 'string' ? request.id : '';
});
