import { expect } from '@jest/globals';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { ProblemDocument } from '@app/observability';
import request from 'supertest';
import type { KServePredictResponse, ModelList } from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import { FIXTURES, startApp } from './support/app';
import { expectClose, readGolden } from './support/golden';
import { bodyOf } from './support/http';

const golden = { sklearn: readGolden('seed_gbc_zipmap'), torch: readGolden('seed_torch_mlp') };

describe('POST /predict and POST /v1/models/{name}:predict', () => {
  describe.each([
    ['sklearn', `${FIXTURES}/seed_gbc_zipmap.onnx`, 'seed_gbc_zipmap'],
    ['torch', `${FIXTURES}/seed_torch_mlp.onnx`, 'seed_torch_mlp'],
  ] as const)('parity with %s', (kind, path, name) => {
    let app: NestExpressApplication;
    const reference = golden[kind];

    beforeAll(async () => {
      app = await startApp({ MODEL_PATH: path });
    });
    afterAll(() => app.close());

    it('matches the exporter on every golden row through POST /predict', async () => {
      for (const [i, row] of reference.inputs.entries()) {
        const res = await request(app.getHttpServer()).post('/predict').send({ features: row }).expect(200);
        const body = bodyOf<PredictResponse>(res);
        expect(body.prediction).toBe(reference.labels[i]);
        expectClose(body.probability, reference.probabilities[i][reference.labels[i]]);
        expect(body.model).toBe(name);
        expect(body.version).toBe('1');
        expect(typeof body.latency_ms).toBe('number');
      }
    });

    it('matches the exporter on a 32-row batch through the KServe endpoint', async () => {
      for (const start of [0, 32]) {
        const rows = reference.inputs.slice(start, start + 32);
        const res = await request(app.getHttpServer())
          .post(`/v1/models/${name}:predict`)
          .send({ instances: rows })
          .expect(200);
        expect(res.body).toMatchObject({ model_name: name, model_version: '1' });
        const { predictions } = bodyOf<KServePredictResponse>(res);
        expect(predictions).toHaveLength(rows.length);
        predictions.forEach((p, j) => {
          expect(p.label).toBe(reference.labels[start + j]);
          expectClose(p.probabilities?.['0'], reference.probabilities[start + j][0]);
          expectClose(p.probabilities?.['1'], reference.probabilities[start + j][1]);
        });
      }
    });
  });

  describe('with the shipped default model', () => {
    let app: NestExpressApplication;
    const server = () => app.getHttpServer();
    const row = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

    beforeAll(async () => {
      app = await startApp({ MODEL_REPOSITORY: './models' });
    });
    afterAll(() => app.close());

    it('answers the seed contract', async () => {
      const res = await request(server()).post('/predict').send({ features: row }).expect(200);
      const body = bodyOf<PredictResponse>(res);
      expect([0, 1]).toContain(body.prediction);
      expect(body.probability).toBeGreaterThanOrEqual(0.5);
      expect(body.model).toBe('seed_gbc');
    });

    it('accepts instances keyed by feature name, in any key order', async () => {
      const named = Object.fromEntries(row.map((v, i): [string, number] => [`f${i}`, v]).reverse());
      const [byName, byPosition] = await Promise.all([
        request(server())
          .post('/v1/models/seed_gbc:predict')
          .send({ instances: [named] })
          .expect(200),
        request(server())
          .post('/v1/models/seed_gbc:predict')
          .send({ instances: [row] })
          .expect(200),
      ]);
      expect(bodyOf<KServePredictResponse>(byName).predictions).toEqual(
        bodyOf<KServePredictResponse>(byPosition).predictions,
      );
    });

    const problem = (res: request.Response) => {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = bodyOf<ProblemDocument>(res);
      expect(body.status).toBe(res.status);
      return body;
    };

    it.each([
      ['a missing field', {}, 'features'],
      ['a string instead of a list', { features: 'abc' }, 'features'],
      ['an unknown field', { features: row, extra: 1 }, 'extra'],
    ])('rejects %s with 422 naming the field', async (_, body, field) => {
      const res = await request(server()).post('/predict').send(body).expect(422);
      expect(problem(res).errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('rejects the wrong number of features, naming the count', async () => {
      const res = await request(server())
        .post('/predict')
        .send({ features: row.slice(0, 9) })
        .expect(422);
      expect(problem(res).errors).toEqual([
        { field: 'features', message: 'features has 9 values; the model expects 10 features' },
      ]);
    });

    it('rejects one feature too many, on /predict and in a batch before a valid row', async () => {
      const res = await request(server())
        .post('/predict')
        .send({ features: [...row, 0.5] })
        .expect(422);
      expect(problem(res).errors).toEqual([
        { field: 'features', message: 'features has 11 values; the model expects 10 features' },
      ]);
      // Accepted, the extra value would shift into the next row and change its answer with a 200.
      const batch = await request(server())
        .post('/v1/models/seed_gbc:predict')
        .send({ instances: [[...row, 0.5], row] })
        .expect(422);
      expect(problem(batch).errors).toEqual([
        { field: 'instances[0]', message: 'instances[0] has 11 values; the model expects 10 features' },
      ]);
    });

    it.each([
      ['a string', '"0.3"', 'features[2] must be a number, got the string "0.3"'],
      ['null', 'null', 'features[2] must be a number, got null'],
      ['a boolean', 'true', 'features[2] must be a number, got boolean true'],
      ['an overflowing number', '1e999', 'features[2]'],
      ['a bare NaN token', 'NaN', 'features[2]'],
      ['a bare Infinity token', 'Infinity', 'features[2]'],
      ['a bare -Infinity token', '-Infinity', 'features[2]'],
    ])('rejects %s inside features with a 4xx naming features[2]', async (_, token, message) => {
      const body = `{"features":[0.1,0.2,${token},0.4,0.5,0.6,0.7,0.8,0.9,1.0]}`;
      const res = await request(server()).post('/predict').set('content-type', 'application/json').send(body);
      expect(res.status).toBe(422);
      const errors = problem(res).errors ?? [];
      expect(errors.map((e) => e.field)).toEqual(['features[2]']);
      expect(errors[0].message).toContain(message);
      if (['1e999', 'NaN', 'Infinity', '-Infinity'].includes(token)) {
        expect(errors[0].message).toMatch(/NaN|Infinity/);
        expect(errors[0].message).toMatch(/finite/);
      }
    });

    it('rejects malformed JSON with 400', async () => {
      const res = await request(server())
        .post('/predict')
        .set('content-type', 'application/json')
        .send('{"features": [1, 2,');
      expect(res.status).toBe(400);
      expect(problem(res).title).toMatch(/JSON/i);
    });

    it.each([
      ['/predict', `{"features":${'['.repeat(1900)}${']'.repeat(1900)}}`, 'features[0][0][0][0][0][0][0]'],
      ['/predict', `${'['.repeat(1900)}${']'.repeat(1900)}`, '[0][0][0][0][0][0][0][0]'],
      [
        '/v1/models/seed_gbc:predict',
        `{"instances":[${'{"f0":'.repeat(2000)}1${'}'.repeat(2000)}]}`,
        'instances[0].f0.f0.f0.f0.f0.f0',
      ],
    ])(
      'answers a body nested past JSON_MAX_DEPTH on %s with 422 naming where, not a stack overflow',
      async (path, body, field) => {
        const res = await request(server()).post(path).set('content-type', 'application/json').send(body);
        expect(res.status).toBe(422);
        expect(problem(res)).toMatchObject({
          type: expect.stringMatching(/nesting-too-deep$/),
          errors: [{ field, message: expect.stringContaining('JSON_MAX_DEPTH') }],
        });
      },
    );

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'refuses a %s key like any unknown key, at the top and in a row, on both routes',
      async (key) => {
        const top = await request(server())
          .post('/predict')
          .set('content-type', 'application/json')
          .send(`{"features":${JSON.stringify(row)},"${key}":1}`)
          .expect(422);
        expect(problem(top).errors).toEqual([expect.objectContaining({ field: key })]);
        const named = JSON.stringify(Object.fromEntries(row.map((v, i) => [`f${i}`, v])));
        const inRow = await request(server())
          .post('/v1/models/seed_gbc:predict')
          .set('content-type', 'application/json')
          .send(`{"instances":[${named.slice(0, -1)},"${key}":1}]}`)
          .expect(422);
        expect(problem(inRow).errors).toEqual([expect.objectContaining({ field: `instances[0].${key}` })]);
      },
    );

    it('rejects a body over BODY_LIMIT with 413', async () => {
      const huge = JSON.stringify({ features: new Array(200_000).fill(0.123456789) });
      const res = await request(server()).post('/predict').set('content-type', 'application/json').send(huge);
      expect(res.status).toBe(413);
      problem(res);
    });

    it('rejects more instances than MAX_BATCH_SIZE with 413', async () => {
      const res = await request(server())
        .post('/v1/models/seed_gbc:predict')
        .send({ instances: new Array(33).fill(row) })
        .expect(413);
      expect(problem(res).detail).toMatch(/33 instances; at most 32/);
    });

    it('names each bad row and field of a batch', async () => {
      const res = await request(server())
        .post('/v1/models/seed_gbc:predict')
        .send({
          instances: [
            row,
            row.slice(1),
            { ...Object.fromEntries(row.map((v, i) => [`f${i}`, v])), f3: 'x', bogus: 1 },
          ],
        })
        .expect(422);
      expect(problem(res).errors?.map((e) => e.field)).toEqual([
        'instances[1]',
        'instances[2].bogus',
        'instances[2].f3',
      ]);
    });

    it('answers 404 for an unknown model', async () => {
      const res = await request(server())
        .post('/v1/models/nope:predict')
        .send({ instances: [row] })
        .expect(404);
      expect(problem(res).detail).toMatch(/nope/);
      await request(server()).get('/v1/models/nope').expect(404);
    });

    it('gives the same answer after bad requests as before', async () => {
      const before = await request(server()).post('/predict').send({ features: row }).expect(200);
      await request(server())
        .post('/predict')
        .set('content-type', 'application/json')
        .send('{"features":[NaN]}');
      await request(server())
        .post('/predict')
        .send({ features: row.slice(2) });
      const after = await request(server()).post('/predict').send({ features: row }).expect(200);
      expect(bodyOf<PredictResponse>(after).probabilities).toEqual(
        bodyOf<PredictResponse>(before).probabilities,
      );
    });

    it('describes its models', async () => {
      const list = await request(server()).get('/v1/models').expect(200);
      expect(bodyOf<ModelList>(list).models).toEqual([
        expect.objectContaining({ name: 'seed_gbc', version: '1', ready: true }),
      ]);
      const one = await request(server()).get('/v1/models/seed_gbc').expect(200);
      expect(one.body).toMatchObject({
        task: 'classification',
        labels: [0, 1],
        features: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9'],
        inputs: [{ name: 'float_input', datatype: 'float32', shape: [expect.anything(), 10] }],
      });
    });
  });
});
