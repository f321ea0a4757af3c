import { ModelRegistry } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { FIXTURES, startApp } from './support/app';
import { bodyOf, type OpenApiDocument } from './support/http';

const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const KEYS = ['first-key-0123456789abcdef', 'second-key-0123456789abcdef'];

describe('readiness', () => {
  it('is 503 before the models load, 200 after, and 503 again once shutdown begins', async () => {
    const app = await startApp({ MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx` }, { load: false });
    try {
      const server = app.getHttpServer();
      await request(server).get('/health').expect(200);
      const before = await request(server).get('/ready').expect(503);
      expect(JSON.stringify(before.body)).toMatch(/models/);
      await request(server).post('/predict').send({ features: ROW }).expect(503);

      await app.get(ModelRegistry).loadAll();
      await request(server).get('/ready').expect(200);
      await request(server).post('/predict').send({ features: ROW }).expect(200);

      app.get(ModelRegistry).beginShutdown();
      await request(server).get('/ready').expect(503);
      await request(server).get('/health').expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('API keys', () => {
  let app: NestExpressApplication;
  const server = () => app.getHttpServer();

  beforeAll(async () => {
    app = await startApp({ MODEL_REPOSITORY: './models', API_KEYS: KEYS.join(',') });
  });
  afterAll(() => app.close());

  it('rejects prediction and model routes without a key, with problem+json 401', async () => {
    for (const call of [
      request(server()).post('/predict').send({ features: ROW }),
      request(server())
        .post('/v1/models/seed_gbc:predict')
        .send({ instances: [ROW] }),
      request(server()).get('/v1/models'),
      request(server()).get('/v1/models/seed_gbc'),
    ]) {
      const res = await call;
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it.each([
    ['malformed JSON', '{"features": [1,'],
    ['a body over BODY_LIMIT', JSON.stringify({ features: new Array(200_000).fill(0.5) })],
    ['NaN', '{"features": [NaN]}'],
  ])('answers a caller without a key 401 whatever its body (%s)', async (_, body) => {
    for (const path of ['/predict', '/v1/models/seed_gbc:predict']) {
      const res = await request(server()).post(path).set('content-type', 'application/json').send(body);
      expect(res.status).toBe(401);
    }
  });

  it('refuses a caller without a key from its headers, without waiting for or reading its body', async () => {
    if (!server().listening) await new Promise<void>((resolve) => server().listen(0, '127.0.0.1', resolve));
    const { port } = server().address() as AddressInfo;
    // A megabyte announced, ten bytes sent: an answer can only come from the headers.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/predict',
        headers: { 'content-type': 'application/json', 'content-length': String(1_000_000) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write('{"features"');
    });
    expect(status).toBe(401);
  });

  it('rejects a real key with characters appended, as a header and as a bearer token', async () => {
    await request(server())
      .post('/predict')
      .set('X-API-Key', `${KEYS[0]}x`)
      .send({ features: ROW })
      .expect(401);
    await request(server())
      .post('/predict')
      .set('Authorization', `Bearer ${KEYS[1]}0`)
      .send({ features: ROW })
      .expect(401);
    // (Trailing spaces are not characters of the value: HTTP strips them before anyone sees the header.)
    await request(server()).get('/v1/models').set('X-API-Key', `${KEYS[1]}=`).expect(401);
  });

  it('rejects a wrong key and a key that is only a prefix of a real one', async () => {
    await request(server())
      .post('/predict')
      .set('X-API-Key', 'wrong-key-0123456789abcdef')
      .send({ features: ROW })
      .expect(401);
    await request(server())
      .post('/predict')
      .set('Authorization', `Bearer ${KEYS[0].slice(0, -1)}`)
      .send({ features: ROW })
      .expect(401);
    await request(server())
      .post('/predict')
      .set('Authorization', `Basic ${KEYS[0]}`)
      .send({ features: ROW })
      .expect(401);
  });

  it('accepts every configured key, as a bearer token or an X-API-Key header', async () => {
    await request(server())
      .post('/predict')
      .set('Authorization', `Bearer ${KEYS[0]}`)
      .send({ features: ROW })
      .expect(200);
    await request(server()).post('/predict').set('X-API-Key', KEYS[1]).send({ features: ROW }).expect(200);
    await request(server()).get('/v1/models').set('X-API-Key', KEYS[0]).expect(200);
  });

  it('leaves probes and metrics open', async () => {
    await request(server()).get('/health').expect(200);
    await request(server()).get('/ready').expect(200);
    await request(server()).get('/metrics').expect(200);
  });
});

describe('OpenAPI', () => {
  it('serves Swagger UI and a document whose examples are accepted by the API', async () => {
    const app = await startApp({ MODEL_REPOSITORY: './models' });
    try {
      const server = app.getHttpServer();
      const ui = await request(server).get('/docs').redirects(1).expect(200);
      expect(ui.text).toMatch(/swagger-ui/i);
      const doc = bodyOf<OpenApiDocument>(await request(server).get('/docs-json').expect(200));
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/predict',
          '/v1/models',
          '/v1/models/{name}',
          '/v1/models/{name}:predict',
          '/health',
          '/ready',
        ]),
      );
      // The lock in Swagger UI shows on exactly the routes that need a key.
      expect(doc.paths['/predict'].post.security).toEqual(
        expect.arrayContaining([{ bearer: [] }, { 'api-key': [] }]),
      );
      expect(doc.paths['/health'].get.security).toBeUndefined();
      const example = (schema: string) => {
        const properties = doc.components.schemas[schema].properties;
        return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, value.example]));
      };
      // "Try it out" sends exactly these examples; they must work against the shipped model.
      await request(server).post('/predict').send(example('PredictRequest')).expect(200);
      await request(server)
        .post('/v1/models/seed_gbc:predict')
        .send(example('KServePredictRequest'))
        .expect(200);
    } finally {
      await app.close();
    }
  });

  it('is off when SWAGGER_ENABLED=false', async () => {
    const app = await startApp({ MODEL_REPOSITORY: './models', SWAGGER_ENABLED: 'false' });
    try {
      await request(app.getHttpServer()).get('/docs-json').expect(404);
    } finally {
      await app.close();
    }
  });
});
