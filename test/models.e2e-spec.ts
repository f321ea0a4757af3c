import { expect } from '@jest/globals';
import { Prediction } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type {
  KServePredictResponse,
  ModelDescription,
  ModelList,
} from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import { startApp } from './support/app';
import { expectClose } from './support/golden';
import { bodyOf } from './support/http';
import { UNSEEN_MODELS } from './support/unseen-models';
import { linearRegressor, randomRows, writeModel } from './support/onnx-model-builder';

const MODELS = UNSEEN_MODELS;

/** A served answer's prediction members, from either route (KServe's predictions, /predict's body). */
interface Served {
  label?: unknown;
  value?: unknown;
  probability?: unknown;
  probabilities?: unknown;
}

function expectSamePrediction(served: Served, expected: Prediction): void {
  if (expected.task === 'regression') {
    const values = Array.isArray(expected.value) ? expected.value : [expected.value];
    const got = (Array.isArray(served.value) ? served.value : [served.value]) as number[];
    expect(got).toHaveLength(values.length);
    values.forEach((value, i) => expectClose(got[i], value));
    return;
  }
  expect(served.label).toBe(expected.label);
  expectClose(served.probability as number, expected.probability);
  const probabilities = served.probabilities as Record<string, number>;
  expect(Object.keys(probabilities)).toEqual(Object.keys(expected.probabilities));
  for (const [label, p] of Object.entries(expected.probabilities)) expectClose(probabilities[label], p);
}

describe('models exported by other pipelines', () => {
  let app: NestExpressApplication;
  const server = () => app.getHttpServer();

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'repository-'));
    for (const model of MODELS) await writeModel(root, model);
    // An older version beside the newest: only the highest is served.
    await writeModel(root, linearRegressor({ name: 'house_prices', featureCount: 3 }), 0);
    app = await startApp({ MODEL_REPOSITORY: root, DEFAULT_MODEL: 'iris_strings' });
  });
  afterAll(() => app.close());

  it('lists every model as ready', async () => {
    const res = await request(server()).get('/v1/models').expect(200);
    const { models } = bodyOf<ModelList>(res);
    expect(models.map((m) => m.name)).toEqual(MODELS.map((m) => m.name).sort());
    expect(models.every((m) => m.ready)).toBe(true);
  });

  it.each(MODELS.map((m) => [m.name, m] as const))(
    'serves %s as its reference computes it',
    async (_, model) => {
      const rows = randomRows(13, model.featureCount, model.featureCount * 31);
      const res = await request(server())
        .post(`/v1/models/${model.name}:predict`)
        .send({ instances: rows })
        .expect(200);
      const expected = model.reference(rows);
      const { predictions } = bodyOf<KServePredictResponse>(res);
      expect(predictions).toHaveLength(rows.length);
      predictions.forEach((served, i) => expectSamePrediction(served, expected[i]));
    },
  );

  it('keeps string labels as strings through POST /predict on the default model', async () => {
    const model = MODELS[0];
    const [row] = randomRows(1, model.featureCount, 99);
    const res = await request(server()).post('/predict').send({ features: row }).expect(200);
    const [expected] = model.reference([row]);
    const body = bodyOf<PredictResponse>(res);
    expect(typeof body.prediction).toBe('string');
    expect(body.prediction).toBe(expected.task === 'classification' && expected.label);
    expect(body.model).toBe('iris_strings');
  });

  it('describes what it inferred from each graph', async () => {
    const describe = async (name: string) =>
      bodyOf<ModelDescription>(await request(server()).get(`/v1/models/${name}`).expect(200));
    expect(await describe('iris_strings')).toMatchObject({
      task: 'classification',
      labels: ['setosa', 'versicolor', 'virginica'],
      scores: 'probabilities',
    });
    expect(await describe('digits_nozipmap')).toMatchObject({ labels: [3, 5, 7, 9] });
    expect(await describe('house_prices')).toMatchObject({
      task: 'regression',
      version: '1',
      inputs: [{ shape: [expect.anything(), 5] }],
    });
    expect(await describe('mlp_fixed_batch')).toMatchObject({
      scores: 'logits',
      fixed_batch_size: 1,
      labels: [0, 1, 2],
    });
    expect(await describe('mlp_softmax')).toMatchObject({ scores: 'probabilities' });
    expect(await describe('mlp_sigmoid')).toMatchObject({ scores: 'positive-probability', labels: [0, 1] });
    expect(await describe('mlp_two_targets')).toMatchObject({ task: 'regression' });
  });
});

describe.each(MODELS.map((m) => [m.name, m] as const))('POST /predict serving %s alone', (_, model) => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'single-'));
    await writeModel(root, model);
    app = await startApp({ MODEL_PATH: join(root, model.name, '1', 'model.onnx') });
  });
  afterAll(() => app.close());

  it('answers the seed contract as the reference computes it', async () => {
    const [row] = randomRows(1, model.featureCount, 5 + model.featureCount);
    const res = await request(app.getHttpServer()).post('/predict').send({ features: row }).expect(200);
    const [expected] = model.reference([row]);
    const body = bodyOf<PredictResponse>(res);
    expect(body.model).toBe('model');
    if (expected.task === 'regression') {
      expectSamePrediction({ value: body.prediction }, expected);
      expect(body).not.toHaveProperty('probability');
    } else {
      expectSamePrediction(
        {
          label: body.prediction,
          probability: body.probability,
          probabilities: body.probabilities,
        },
        expected,
      );
    }
  });
});
