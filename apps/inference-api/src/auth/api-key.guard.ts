import { DomainError } from '@app/observability';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Request } from 'express';
import { ApiKeys } from './api-keys';
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

/** Every route needs a key unless marked @Public(), so a new endpoint is protected by default. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.required) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    // The scrape controller (the Prometheus library's, or the observability library's subclass of it) lives outside
    // this app and cannot carry @Public() itself.
    const controller = context.getClass();
    if (
      isPublic ||
      controller === PrometheusController ||
      controller.prototype instanceof PrometheusController
    ) {
      return true;
    }

    const check = this.keys.check(context.switchToHttp().getRequest<Request>().headers);
    if (check === 'missing') {
      throw new ApiKeyError(
        'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
      );
    }
    if (check === 'invalid') throw new ApiKeyError('The API key is not valid.');
    return true;
  }
}
