import { AppConfig, validateEnvironment } from '@app/config';
import { type DomainError, MetricsController } from '@app/observability';
import { Controller, Get } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { IncomingHttpHeaders } from 'node:http';
import { AdminOnly } from './admin.decorator';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeys } from './api-keys';
import { Public } from './public.decorator';

const KEY = 'prediction-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789abcdef';

// Routes as the app declares them: the guard reads the decorators' metadata from the handler and from its class.
@Controller()
class PredictionRoutes {
  @Get() predict() {}
  @Public() @Get() health() {}
  @AdminOnly() @Get() load() {}
}

@Public()
@Controller()
class PublicRoutes {
  @Get() probe() {}
}

@AdminOnly()
@Controller()
class RepositoryRoutes {
  @Get() unload() {}
}

function guard(env: Record<string, string> = {}): ApiKeyGuard {
  const config = new AppConfig(new ConfigService(validateEnvironment(env)));
  return new ApiKeyGuard(new Reflector(), new ApiKeys(config));
}

/** The guard's answer for a request with these headers to `handler` of `routes`: true, or the error it throws. */
function decide(
  subject: ApiKeyGuard,
  routes: abstract new (...args: never[]) => object,
  handler: string,
  headers: IncomingHttpHeaders = {},
): true | { status: number; code: string; title: string; detail: string; headers: Record<string, string> } {
  const request = { headers };
  const context = new ExecutionContextHost(
    [request, {}, () => undefined],
    routes as never,
    (routes.prototype as Record<string, () => void>)[handler],
  );
  try {
    const allowed = subject.canActivate(context);
    if (allowed !== true) throw new Error(`canActivate answered ${String(allowed)}`);
    return allowed;
  } catch (error) {
    // A DomainError, which the problem-details filter turns into the response.
    const { status, code, title, detail, headers: sent } = error as DomainError;
    return { status, code, title, detail, headers: { ...sent } };
  }
}

const missing = {
  status: 401,
  code: 'unauthorized',
  title: 'Unauthorized',
  detail: 'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
  headers: { 'WWW-Authenticate': 'Bearer' },
};
const notValid = {
  status: 401,
  code: 'unauthorized',
  title: 'Unauthorized',
  detail: 'The API key is not valid.',
  headers: { 'WWW-Authenticate': 'Bearer' },
};
const repositoryOff = {
  status: 403,
  code: 'forbidden',
  title: 'Forbidden',
  detail: 'The repository API is off: set ADMIN_API_KEYS to keys of its own to load and unload models.',
  headers: {},
};

describe('ApiKeyGuard', () => {
  describe('with API keys configured', () => {
    const subject = guard({ API_KEYS: KEY, ADMIN_API_KEYS: ADMIN_KEY });

    it('lets a request with a configured key through, as X-API-Key or as a bearer token', () => {
      expect(decide(subject, PredictionRoutes, 'predict', { 'x-api-key': KEY })).toBe(true);
      expect(decide(subject, PredictionRoutes, 'predict', { authorization: `Bearer ${KEY}` })).toBe(true);
    });

    it('answers 401 with a challenge to a request without a key, and another 401 to a wrong key', () => {
      expect(decide(subject, PredictionRoutes, 'predict')).toEqual(missing);
      expect(decide(subject, PredictionRoutes, 'predict', { 'x-api-key': `${KEY}x` })).toEqual(notValid);
      expect(decide(subject, PredictionRoutes, 'predict', { authorization: `Bearer ${ADMIN_KEY}x` })).toEqual(
        notValid,
      );
    });

    it('does not take an admin key for a prediction key', () => {
      expect(decide(subject, PredictionRoutes, 'predict', { 'x-api-key': ADMIN_KEY })).toEqual(notValid);
    });

    it('leaves routes marked @Public() open, on the handler or on the controller', () => {
      expect(decide(subject, PredictionRoutes, 'health')).toBe(true);
      expect(decide(subject, PublicRoutes, 'probe')).toBe(true);
    });

    it("leaves the metrics scrape open: the Prometheus library's controller and the observability subclass", () => {
      expect(decide(subject, PrometheusController, 'index')).toBe(true);
      expect(decide(subject, MetricsController, 'index')).toBe(true);
    });

    it('lets only an admin key into routes marked @AdminOnly(), on the handler or on the controller', () => {
      for (const [routes, handler] of [
        [PredictionRoutes, 'load'],
        [RepositoryRoutes, 'unload'],
      ] as const) {
        expect(decide(subject, routes, handler, { 'x-api-key': ADMIN_KEY })).toBe(true);
        expect(decide(subject, routes, handler, { authorization: `Bearer ${ADMIN_KEY}` })).toBe(true);
        expect(decide(subject, routes, handler, { 'x-api-key': KEY })).toEqual({
          status: 403,
          code: 'forbidden',
          title: 'Forbidden',
          detail:
            'This key may predict but not change what is served: the repository API takes one of ADMIN_API_KEYS.',
          headers: {},
        });
        expect(decide(subject, routes, handler)).toEqual({
          ...missing,
          detail:
            'An admin key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>" with one of ADMIN_API_KEYS.',
        });
        expect(decide(subject, routes, handler, { 'x-api-key': `${ADMIN_KEY}x` })).toEqual(notValid);
      }
    });

    it('keeps the repository API off without ADMIN_API_KEYS, even for a prediction key', () => {
      const withoutAdmin = guard({ API_KEYS: KEY });
      expect(decide(withoutAdmin, RepositoryRoutes, 'unload', { 'x-api-key': KEY })).toEqual(repositoryOff);
      expect(decide(withoutAdmin, PredictionRoutes, 'predict', { 'x-api-key': KEY })).toBe(true);
    });
  });

  describe('without API keys (authentication off)', () => {
    it('lets every prediction route through without a key', () => {
      expect(decide(guard(), PredictionRoutes, 'predict')).toBe(true);
      expect(decide(guard({ API_KEYS: KEY, AUTH_DISABLED: 'true' }), PredictionRoutes, 'predict')).toBe(true);
    });

    it('still asks for an admin key on the repository API, and keeps it off when none is configured', () => {
      const adminOnly = guard({ ADMIN_API_KEYS: ADMIN_KEY, AUTH_DISABLED: 'true' });
      expect(decide(adminOnly, RepositoryRoutes, 'unload')).toEqual({
        ...missing,
        detail:
          'An admin key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>" with one of ADMIN_API_KEYS.',
      });
      expect(decide(adminOnly, RepositoryRoutes, 'unload', { 'x-api-key': ADMIN_KEY })).toBe(true);
      expect(decide(guard({ AUTH_DISABLED: 'true' }), RepositoryRoutes, 'unload')).toEqual(repositoryOff);
    });
  });
});
