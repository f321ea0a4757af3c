import { DomainError } from '@app/observability';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Request } from 'express';
import { ApiKeys } from './api-keys';
import { IS_ADMIN } from './admin.decorator';
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

class AdminKeyError extends DomainError {
  constructor(detail: string) {
    super({ code: 'forbidden', status: 403, title: 'Forbidden', detail });
  }
}

/**
 * Every route needs a key unless marked @Public(), so a new endpoint is protected by default; routes marked
 * @AdminOnly() (the repository API) need an admin key instead.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const admin = this.reflector.getAllAndOverride<boolean>(IS_ADMIN, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (admin) return this.checkAdmin(context);
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

  /** 401 without a usable key, as elsewhere; 403 for a key that may predict but not change what is served. */
  private checkAdmin(context: ExecutionContext): boolean {
    switch (this.keys.checkAdmin(context.switchToHttp().getRequest<Request>().headers)) {
      case 'valid':
        return true;
      case 'disabled':
        throw new AdminKeyError(
          'The repository API is off: set ADMIN_API_KEYS to keys of its own to load and unload models.',
        );
      case 'prediction-key':
        throw new AdminKeyError(
          'This key may predict but not change what is served: the repository API takes one of ADMIN_API_KEYS.',
        );
      case 'missing':
        throw new ApiKeyError(
          'An admin key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>" with one of ADMIN_API_KEYS.',
        );
      case 'invalid':
        throw new ApiKeyError('The API key is not valid.');
    }
  }
}
