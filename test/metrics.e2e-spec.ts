import { NestExpressApplication } from '@nestjs/platform-express';
import { execFileSync } from 'node:child_process';
import request from 'supertest';
import { startApp } from './support/app';

const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

describe('GET /metrics', () => {
  let app: NestExpressApplication;
  let exposition: string;
  let badEscape: request.Response;

  beforeAll(async () => {
    app = await startApp({ MODEL_REPOSITORY: './models' });
    const server = app.getHttpServer();
    await request(server).post('/predict').send({ features: ROW }).expect(200);
    await request(server)
      .post('/v1/models/seed_gbc:predict')
      .send({ instances: [ROW, ROW, ROW] })
      .expect(200);
    await request(server)
      .post('/predict')
      .send({ features: [1] })
      .expect(422);
    await request(server).get('/no/such/route').expect(404);
    // Express fails to decode the parameter before any middleware runs: still answered with an id, and counted.
    badEscape = await request(server)
      .post('/v1/models/%zz:predict')
      .send({ instances: [ROW] })
      .expect(400);
    exposition = (await request(server).get('/metrics').expect(200)).text;
  });
  afterAll(() => app.close());

  const sample = (pattern: RegExp) => {
    const line = exposition.split('\n').find((l) => pattern.test(l));
    if (!line) throw new Error(`no sample matches ${pattern}`);
    return Number(line.split(' ').pop());
  };

  it('passes promtool check metrics', () => {
    // promtool exits non-zero on format errors and on lint problems; its output names them.
    const output = execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(output).toBe('');
  });

  it('counts HTTP requests by method, matched route and status', () => {
    expect(sample(/^http_requests_total\{.*method="POST".*route="\/predict".*status="200"/)).toBe(1);
    expect(sample(/^http_requests_total\{.*method="POST".*route="\/predict".*status="422"/)).toBe(1);
    expect(sample(/^http_requests_total\{.*route="\/v1\/models\/:name:predict".*status="200"/)).toBe(1);
    expect(sample(/^http_requests_total\{.*route="unmatched".*status="404"/)).toBe(1);
    expect(sample(/^http_requests_total\{.*route="unmatched".*status="400"/)).toBe(1);
    expect(badEscape.body).toMatchObject({ status: 400, request_id: badEscape.headers['x-request-id'] });
    expect(badEscape.headers['x-request-id']).toEqual(expect.any(String));
    expect(exposition).not.toMatch(/route="\/no\/such\/route"/);
    expect(sample(/^http_request_duration_seconds_count\{.*route="\/predict".*status="200"/)).toBe(1);
  });

  it('times inference and counts predictions by model, version and label', () => {
    expect(sample(/^model_inference_duration_seconds_count\{.*model="seed_gbc".*version="1"/)).toBe(2);
    const counted = exposition
      .split('\n')
      .filter((l) => l.startsWith('model_predictions_total{') && l.includes('model="seed_gbc"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    expect(counted).toBe(4);
    expect(exposition).toMatch(/^model_predictions_total\{.*label="[01]"/m);
  });

  it('reports loaded models and the Node.js defaults, event-loop lag included', () => {
    expect(sample(/^model_loaded\{.*model="seed_gbc".*version="1"/)).toBe(1);
    expect(exposition).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(exposition).toMatch(/^process_resident_memory_bytes /m);
  });
});
