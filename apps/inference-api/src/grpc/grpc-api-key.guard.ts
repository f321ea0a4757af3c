import { DomainError } from '@app/observability';
import type { Metadata } from '@grpc/grpc-js';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiKeys } from '../auth/api-keys';
import { IS_PUBLIC } from '../auth/public.decorator';

/** 401 over REST, UNAUTHENTICATED over gRPC. */
class GrpcApiKeyError extends DomainError {
  constructor(detail: string) {
    super({ code: 'unauthorized', status: 401, title: 'Unauthorized', detail });
  }
}

/** gRPC metadata keys are lower-case, as HTTP/2 headers are; a key sent twice counts as its first value. */
function keyHeaders(metadata: Metadata): IncomingHttpHeaders {
  const first = (key: string) => {
    const [value] = metadata.get(key);
    return typeof value === 'string' ? value : undefined;
  };
  return { 'x-api-key': first('x-api-key'), authorization: first('authorization') };
}

/** The key check of every method but the public ones: throws UNAUTHENTICATED, in REST's words, without a valid key. */
export function checkGrpcKey(keys: ApiKeys, metadata: Metadata): void {
  const check = keys.check(keyHeaders(metadata));
  if (check === 'missing') {
    throw new GrpcApiKeyError(
      'An API key is required: send the metadata "authorization: Bearer <key>" or "x-api-key: <key>".',
    );
  }
  if (check === 'invalid') throw new GrpcApiKeyError('The API key is not valid.');
}

/**
 * The API keys of the REST routes, read from the call's metadata (`authorization: Bearer <key>` or
 * `x-api-key: <key>`). As over REST, every method needs one unless marked @Public() (the probes' twins).
 */
@Injectable()
export class GrpcApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.required) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    checkGrpcKey(this.keys, context.switchToRpc().getContext<Metadata>());
    return true;
  }
}
