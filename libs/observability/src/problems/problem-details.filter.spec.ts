import { expect } from '@jest/globals';
import 'reflect-metadata';
import {
  Body,
  CanActivate,
  Controller,
  Get,
  Injectable,
  PayloadTooLargeException,
  Post,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { IsNumber } from 'class-validator';
import request from 'supertest';
import type { HttpApp } from '../../../../test/support/http';
import { createObservabilityApp, LogCapture } from '../../../../test/support/observability-app';
import { DomainError } from './domain-error';

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new DomainError({
      code: 'unauthorized',
      status: 401,
      title: 'Unauthorized',
      detail: 'An API key is required.',
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  }
}

class PredictDto {
  @IsNumber({}, { each: true })
  features!: number[];
}

@Controller()
class ProblemController {
  @Get('not-ready')
  notReady() {
    throw new DomainError({
      code: 'model-not-ready',
      status: 503,
      title: 'Model not ready',
      detail: 'Model "iris" is still loading; retry shortly.',
      headers: { 'Retry-After': '1' },
    });
  }

  @Get('guarded')
  @UseGuards(DenyGuard)
  guarded() {
    return 'never';
  }

  @Get('too-large')
  tooLarge() {
    throw new PayloadTooLargeException();
  }

  @Get('ready')
  ready() {
    // What Terminus throws when a health indicator is down.
    throw new ServiceUnavailableException({
      status: 'error',
      info: {},
      error: { models: { status: 'down' } },
      details: { models: { status: 'down' } },
    });
  }

  @Get('boom')
  boom() {
    throw new Error('ENOENT: /srv/secret/model.onnx');
  }

  @Post('predict')
  predict(@Body() body: PredictDto) {
    return body;
  }
}

/** Routes of the Open Inference Protocol (V2), whose clients read `{"error": "..."}` instead of problem+json. */
@Controller('v2')
class OpenInferenceController {
  @Get('models/:name/ready')
  notReady() {
    throw new DomainError({
      code: 'model-not-ready',
      status: 503,
      title: 'Model not ready',
      detail: 'Model "iris" is still loading; retry shortly.',
      headers: { 'Retry-After': '1' },
    });
  }

  @Get('guarded')
  @UseGuards(DenyGuard)
  guarded() {
    return 'never';
  }

  @Post('models/:name/infer')
  infer(@Body() body: PredictDto) {
    return body;
  }

  @Get('boom')
  boom() {
    throw new Error('ENOENT: /srv/secret/model.onnx');
  }
}

const PROBLEM = 'application/problem+json; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

describe('ProblemDetailsFilter', () => {
  let app: HttpApp;
  let logs: LogCapture;

  beforeAll(async () => {
    ({ app, logs } = await createObservabilityApp([ProblemController, OpenInferenceController], {
      LOG_LEVEL: 'info',
    }));
  });
  afterAll(() => app.close());
  beforeEach(() => logs.clear());

  it('turns a DomainError into a typed problem with its headers', async () => {
    const res = await request(app.getHttpServer()).get('/not-ready').set('X-Request-Id', 'req-1').expect(503);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      type: 'https://ml-inference.dev/problems/model-not-ready',
      title: 'Model not ready',
      status: 503,
      detail: 'Model "iris" is still loading; retry shortly.',
      instance: '/not-ready',
      request_id: 'req-1',
    });
  });

  it('answers guard rejections the same way', async () => {
    const res = await request(app.getHttpServer()).get('/guarded').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ type: 'https://ml-inference.dev/problems/unauthorized', status: 401 });
  });

  it('gives plain HTTP errors about:blank and the status phrase', async () => {
    const unknown = await request(app.getHttpServer())
      .get('/nope?x=1')
      .set('X-Request-Id', 'req-2')
      .expect(404);
    expect(unknown.headers['content-type']).toBe(PROBLEM);
    expect(unknown.body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /nope?x=1',
      instance: '/nope',
      request_id: 'req-2',
    });
    const large = await request(app.getHttpServer()).get('/too-large').expect(413);
    expect(large.body).toMatchObject({
      type: 'about:blank',
      title: 'Payload Too Large',
      status: 413,
      detail: 'Payload Too Large',
    });
  });

  it('keeps extra members of an HttpException response, such as Terminus details', async () => {
    const res = await request(app.getHttpServer()).get('/ready').expect(503);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'Service Unavailable Exception',
      instance: '/ready',
      request_id: expect.any(String),
      info: {},
      error: { models: { status: 'down' } },
      details: { models: { status: 'down' } },
    });
  });

  it('answers class-validator failures through validationProblem as 422 with errors', async () => {
    const res = await request(app.getHttpServer())
      .post('/predict')
      .set('Content-Type', 'application/json')
      .send('{"features":[1,"2"],"extra":true}')
      .expect(422);
    expect(res.body).toEqual({
      type: 'https://ml-inference.dev/problems/validation-failed',
      title: 'Invalid input',
      status: 422,
      detail:
        '2 problems with the input: property extra should not exist; ' +
        'each value in features must be a number conforming to the specified constraints',
      instance: '/predict',
      request_id: expect.any(String),
      errors: [
        { field: 'extra', message: 'property extra should not exist' },
        {
          field: 'features',
          message: 'each value in features must be a number conforming to the specified constraints',
        },
      ],
    });
  });

  it('hides unknown errors behind a generic 500 and logs them with their stack at error level', async () => {
    const res = await request(app.getHttpServer()).get('/boom').set('X-Request-Id', 'req-boom').expect(500);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'The server failed to handle the request. Quote the request id when reporting it.',
      instance: '/boom',
      request_id: 'req-boom',
    });
    expect(JSON.stringify(res.body)).not.toContain('secret');

    const errorLines = logs.lines.filter((line) => line.level === 'error');
    const logged = errorLines.find((line) => line.msg === 'unhandled error');
    // No per-request child logger: the filter names the request itself.
    expect(logged).toMatchObject({
      request_id: 'req-boom',
      context: 'ProblemDetailsFilter',
    });
    expect((logged?.err as { message: string; stack: string }).message).toBe(
      'ENOENT: /srv/secret/model.onnx',
    );
    expect((logged?.err as { stack: string }).stack).toContain('ProblemController.boom');
    // The request line says 500 and names the problem, without repeating the stack.
    const requestLine = logs.requestLines.find((line) => (line.req as { id: string }).id === 'req-boom');
    expect(requestLine).toMatchObject({
      level: 'error',
      res: { statusCode: 500 },
      problem: { code: 'internal-error' },
    });
    expect(requestLine?.err).toBeUndefined();
  });

  describe('under /v2, the Open Inference Protocol', () => {
    it('answers a DomainError as {"error"} JSON with its status and headers', async () => {
      const res = await request(app.getHttpServer())
        .get('/v2/models/iris/ready')
        .set('X-Request-Id', 'req-v2')
        .expect(503);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['x-request-id']).toBe('req-v2');
      expect(res.body).toEqual({ error: 'Model "iris" is still loading; retry shortly.' });
    });

    it('answers guard rejections, unknown routes and crashes the same way', async () => {
      const denied = await request(app.getHttpServer()).get('/v2/guarded').expect(401);
      expect(denied.headers['www-authenticate']).toBe('Bearer');
      expect(denied.body).toEqual({ error: 'An API key is required.' });
      const unknown = await request(app.getHttpServer()).get('/v2/nope').expect(404);
      expect(unknown.headers['content-type']).toBe(JSON_TYPE);
      expect(unknown.body).toEqual({ error: 'Cannot GET /v2/nope' });
      const crash = await request(app.getHttpServer()).get('/v2/boom').expect(500);
      expect(crash.body).toEqual({
        error: 'The server failed to handle the request. Quote the request id when reporting it.',
      });
    });

    it('answers invalid input with 400, the status the protocol gives a request it cannot serve', async () => {
      const res = await request(app.getHttpServer())
        .post('/v2/models/iris/infer')
        .set('Content-Type', 'application/json')
        .send('{"features":[1,"2"]}')
        .expect(400);
      expect(res.body).toEqual({
        error: 'each value in features must be a number conforming to the specified constraints',
      });
    });

    it('matches /v2 as Express routes it (any case), and only /v2', async () => {
      const upper = await request(app.getHttpServer()).get('/V2/Models/iris/ready').expect(503);
      expect(upper.body).toEqual({ error: 'Model "iris" is still loading; retry shortly.' });
      for (const path of ['/v20/models', '/v2x', '/predict/v2/']) {
        const res = await request(app.getHttpServer()).get(path).expect(404);
        expect(res.headers['content-type']).toBe(PROBLEM);
      }
      const root = await request(app.getHttpServer()).get('/v2').expect(404);
      expect(root.body).toEqual({ error: 'Cannot GET /v2' });
    });

    it('still names the problem in the request log line', async () => {
      await request(app.getHttpServer()).get('/v2/guarded').set('X-Request-Id', 'req-v2-401').expect(401);
      const line = logs.requestLines.find((l) => (l.req as { id: string }).id === 'req-v2-401');
      expect(line).toMatchObject({
        level: 'info',
        res: { statusCode: 401 },
        problem: { code: 'unauthorized', detail: 'An API key is required.' },
      });
    });
  });

  it('logs expected failures at info (4xx) and warn (deliberate 5xx), never error', async () => {
    await request(app.getHttpServer()).get('/guarded').set('X-Request-Id', 'req-401').expect(401);
    await request(app.getHttpServer()).get('/not-ready').set('X-Request-Id', 'req-503').expect(503);
    expect(logs.lines.filter((line) => line.level === 'error')).toEqual([]);
    const byId = (id: string) => logs.requestLines.find((line) => (line.req as { id: string }).id === id);
    expect(byId('req-401')).toMatchObject({
      level: 'info',
      problem: { code: 'unauthorized', detail: 'An API key is required.' },
    });
    expect(byId('req-503')).toMatchObject({ level: 'warn', problem: { code: 'model-not-ready' } });
  });
});
