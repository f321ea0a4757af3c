import { expect } from '@jest/globals';
import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { IsString } from 'class-validator';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import request from 'supertest';
import { bodyOf, type HttpApp } from '../../../../test/support/http';
import { createObservabilityApp, LogCapture } from '../../../../test/support/observability-app';

class NoteRequest {
  @IsString()
  text!: string;
}

@Controller()
class LoggedController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  ready() {
    return { status: 'ok' };
  }

  @Get(['v2/health/live', 'v2/health/ready'])
  openInferenceProbe() {
    return { live: true };
  }

  @Get('whoami')
  whoami(@Req() req: Request) {
    return { id: req.id };
  }

  @Post('notes')
  note(@Body() body: NoteRequest) {
    return body;
  }

  constructor(private readonly logger: PinoLogger) {}

  @Post('login')
  login(@Req() req: Request) {
    // A careless handler logging the headers it got must not leak them either.
    this.logger.info({ headers: req.headers }, 'handler saw headers');
    return { ok: true };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('LoggingModule', () => {
  let app: HttpApp;
  let logs: LogCapture;

  beforeAll(async () => {
    ({ app, logs } = await createObservabilityApp([LoggedController], {
      LOG_LEVEL: 'info',
      SERVICE_NAME: 'svc-test',
    }));
  });
  afterAll(() => app.close());
  beforeEach(() => logs.clear());

  it('writes one lean JSON line per request with service, version, method, url, status, time and id', async () => {
    await request(app.getHttpServer()).get('/whoami?verbose=1').set('X-Request-Id', 'abc-123').expect(200);
    expect(logs.requestLines).toHaveLength(1);
    const [line] = logs.requestLines;
    expect(line).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      service: 'svc-test',
      version: '9.8.7-test',
      pid: process.pid,
      reqId: 'abc-123',
      req: { id: 'abc-123', method: 'GET', url: '/whoami?verbose=1' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      msg: 'request completed',
    });
  });

  it('keeps a sane X-Request-Id, echoes it and exposes it as req.id', async () => {
    const res = await request(app.getHttpServer())
      .get('/whoami')
      .set('X-Request-Id', 'upstream.id:42_x')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('upstream.id:42_x');
    expect(res.body).toEqual({ id: 'upstream.id:42_x' });
  });

  it.each([
    ['absent', undefined],
    ['with spaces', 'a b'],
    ['too long', 'x'.repeat(129)],
    ['with a newline-like payload', 'id\\n{"level":"fatal"}'],
  ])('generates a UUID when the incoming id is %s', async (_case, incoming) => {
    const req = request(app.getHttpServer()).get('/whoami');
    if (incoming !== undefined) req.set('X-Request-Id', incoming);
    const res = await req.expect(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(bodyOf<{ id: string }>(res).id).toBe(res.headers['x-request-id']);
    expect((logs.requestLines[0].req as { id: string }).id).toBe(res.headers['x-request-id']);
  });

  it('never writes API keys, bearer tokens or cookies', async () => {
    await request(app.getHttpServer())
      .post('/login')
      .set('Authorization', 'Bearer secret-value-123456')
      .set('X-API-Key', 'key-secret-abcdef-7890')
      .set('Cookie', 'session=cookie-secret-42')
      .expect(201);
    const everything = logs.raw.join('');
    expect(logs.lines.length).toBeGreaterThanOrEqual(2);
    expect(everything).not.toContain('secret-value-123456');
    expect(everything).not.toContain('key-secret-abcdef-7890');
    expect(everything).not.toContain('cookie-secret-42');
    const handlerLine = logs.lines.find((line) => line.msg === 'handler saw headers');
    expect(handlerLine?.headers).toMatchObject({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      cookie: '[redacted]',
    });
  });

  it('redacts credential-like query parameters in the logged URL', async () => {
    await request(app.getHttpServer())
      .get('/whoami?api_key=query-secret-1&page=2&Token=query-secret-2&access%5Ftoken=query-secret-3')
      .expect(200);
    expect(logs.raw.join('')).not.toContain('query-secret');
    expect((logs.requestLines[0].req as { url: string }).url).toBe(
      '/whoami?api_key=[redacted]&page=2&Token=[redacted]&access%5Ftoken=[redacted]',
    );
  });

  it('cuts a long URL and a long problem detail, so a request line stays under the 4 KB a pipe writes whole', async () => {
    const query = `?page=${'p'.repeat(10_000)}`;
    // Each key is shown cut in the problem, but five of them still make a detail of over a kilobyte.
    const keys = Array.from({ length: 10 }, (_, i) => `${i}${'k'.repeat(300)}`);
    const answer = await request(app.getHttpServer())
      .post(`/notes${query}`)
      .set('content-type', 'application/json')
      .send(`{"text":"x",${keys.map((key) => `"${key}":1`).join(',')}}`)
      .expect(422);
    expect(logs.raw).toHaveLength(1);
    expect(Buffer.byteLength(logs.raw[0])).toBeLessThan(4096);
    const [line] = logs.requestLines;
    const url = `/notes${query}`;
    expect((line.req as { url: string }).url).toBe(`${url.slice(0, 512)}… (${url.length} characters)`);
    const detail = (answer.body as { detail: string }).detail;
    expect(detail.length).toBeGreaterThan(1000);
    expect((line.problem as { detail: string }).detail).toBe(
      `${detail.slice(0, 512)}… (${detail.length} characters)`,
    );
  });

  it('keeps probes out of the request log but still gives them an id', async () => {
    const health = await request(app.getHttpServer()).get('/health').expect(200);
    await request(app.getHttpServer()).get('/ready/').expect(200);
    await request(app.getHttpServer()).get('/metrics').expect(200);
    await request(app.getHttpServer()).get('/v2/health/live').expect(200);
    await request(app.getHttpServer()).get('/v2/health/ready').expect(200);
    expect(health.headers['x-request-id']).toMatch(UUID);
    expect(logs.requestLines).toEqual([]);
  });
});

describe('LoggingModule with LOG_LEVEL=warn', () => {
  it('drops info request lines', async () => {
    const { app, logs } = await createObservabilityApp([LoggedController], { LOG_LEVEL: 'warn' });
    try {
      await request(app.getHttpServer()).get('/whoami').expect(200);
      expect(logs.requestLines).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
