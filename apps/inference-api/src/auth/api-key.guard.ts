import { AppConfig } from '@app/config';
import { DomainError } from '@app/observability';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { IS_PUBLIC } from './public.decorator';

class ApiKeyError extends DomainError {
  constructor(detail: string) {
    super({
      code: 'unauthorized',
      status: 401,
      title: 'Unauthorized',
      detail,
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Every route needs a key unless marked @Public(), so a new endpoint is protected by default.
 * Keys are compared as SHA-256 digests with timingSafeEqual: equal lengths, constant time, and every
 * configured key is checked so timing does not tell which one matched.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keyDigests: Buffer[];

  constructor(
    private readonly reflector: Reflector,
    config: AppConfig,
  ) {
    this.keyDigests = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keyDigests.length === 0) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    // The scrape controller comes from the Prometheus library and cannot carry @Public() itself.
    if (isPublic || context.getClass() === PrometheusController) return true;

    const presented = presentedKey(context.switchToHttp().getRequest<Request>());
    if (presented === undefined) {
      throw new ApiKeyError(
        'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
      );
    }
    const candidate = digest(presented);
    const matches = this.keyDigests.reduce((found, key) => timingSafeEqual(key, candidate) || found, false);
    if (!matches) throw new ApiKeyError('The API key is not valid.');
    return true;
  }
}

function presentedKey(request: Request): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : undefined;
}
