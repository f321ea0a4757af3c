import { expect } from '@jest/globals';
import { ModelRegistry, PredictionService, rowPaths } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type { KServePredictResponse, ModelDescription } from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import { FIXTURES, startApp } from './support/app';
import { expectClose, readGolden } from './support/golden';
import { bodyOf } from './support/http';

const golden = readGolden('seed_torch_mlp');
const sklearn = readGolden('seed_gbc_zipmap');

/** Sends every golden row as its own request, all at once, and returns the answers in row order. */
async function concurrentPredictions(app: NestExpressApplication, rows: number[][], path = '/predict') {
  const server = app.getHttpServer();
  return Promise.all(rows.map((row) => request(server).post(path).send({ features: row })));
}

describe('inference on worker threads', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    // A zero budget puts every model on the workers, as a slow model would be.
    app = await startApp({
      MODEL_PATH: `${FIXTURES}/seed_torch_mlp.onnx`,
      INFERENCE_INLINE_MAX_MS: '0',
      INFERENCE_WORKERS: '2',
    });
  });
  afterAll(() => app.close());

  it('leaves a request its own feature values: a worker run is handed a copy, not the array the log still reads', async () => {
    const rows = golden.inputs.slice(0, 4);
    // Binary FP32 rows for a float32 model: the one case where the request's array is already the model's input.
    const values = Float32Array.from(rows.flat());
    const predictions = app.get(PredictionService);
    const prepared = predictions.prepareFor(app.get(ModelRegistry).getDefault(), {
      values,
      paths: rowPaths('input', rows.length),
      float32: new Uint8Array(values.buffer.slice(0)),
    });
    const result = await predictions.run(prepared, 'worker-copy');
    expect(result.predictions.map((p) => (p.task === 'classification' ? p.label : undefined))).toEqual(
      golden.labels.slice(0, 4),
    );
    // Handed over instead, the array would be empty now, and the drift counts would bin nothing.
    expect(prepared.features).toBe(values);
    expect(Array.from(values)).toEqual(rows.flat().map(Math.fround));
  });

  it('places the model on the worker threads and says so', async () => {
    const res = await request(app.getHttpServer()).get('/v1/models/seed_torch_mlp').expect(200);
    expect(res.body).toMatchObject({ placement: 'worker-threads', execution_providers: ['cpu'] });
  });

  it('matches PyTorch through the workers, for concurrent single rows and for batches', async () => {
    const answers = await concurrentPredictions(app, golden.inputs);
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      const body = bodyOf<PredictResponse>(res);
      expect(body.prediction).toBe(golden.labels[i]);
      expectClose(body.probabilities?.['0'], golden.probabilities[i][0]);
      expectClose(body.probabilities?.['1'], golden.probabilities[i][1]);
    });
    const batch = await request(app.getHttpServer())
      .post('/v1/models/seed_torch_mlp:predict')
      .send({ instances: golden.inputs.slice(0, 32) })
      .expect(200);
    bodyOf<KServePredictResponse>(batch).predictions.forEach((p, i) =>
      expectClose(p.probabilities?.['1'], golden.probabilities[i][1]),
    );
  });
});

describe('dynamic batching', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await startApp({
      MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx`,
      BATCH_MAX_SIZE: '16',
      BATCH_MAX_DELAY_MS: '5',
    });
  });
  afterAll(() => app.close());

  it('merges concurrent requests and hands each its own answer, identical to a lone request', async () => {
    const server = app.getHttpServer();
    const alone: PredictResponse[] = [];
    for (const row of sklearn.inputs)
      alone.push(bodyOf<PredictResponse>(await request(server).post('/predict').send({ features: row })));
    const together = await concurrentPredictions(app, sklearn.inputs);
    together.forEach((res, i) => {
      expect(res.status).toBe(200);
      const body = bodyOf<PredictResponse>(res);
      expect(body.prediction).toBe(sklearn.labels[i]);
      expect(body.probabilities).toEqual(alone[i].probabilities);
      expectClose(body.probability, sklearn.probabilities[i][sklearn.labels[i]]);
    });
    // Mixed batch sizes through the KServe route, concurrently with single rows.
    const mixed = await Promise.all([
      request(server)
        .post('/v1/models/seed_gbc_zipmap:predict')
        .send({ instances: sklearn.inputs.slice(0, 20) }),
      ...sklearn.inputs.slice(20, 30).map((row) => request(server).post('/predict').send({ features: row })),
      request(server)
        .post('/v1/models/seed_gbc_zipmap:predict')
        .send({ instances: sklearn.inputs.slice(30, 33) }),
    ]);
    const labels = (res: (typeof mixed)[number]) =>
      bodyOf<KServePredictResponse>(res).predictions.map((p) => p.label);
    expect(labels(mixed[0])).toEqual(sklearn.labels.slice(0, 20));
    mixed
      .slice(1, 11)
      .forEach((res, i) => expect(bodyOf<PredictResponse>(res).prediction).toBe(sklearn.labels[20 + i]));
    expect(labels(mixed[11])).toEqual(sklearn.labels.slice(30, 33));

    const metrics = (await request(server).get('/metrics').expect(200)).text;
    const merged = metrics
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('model_batch_rows_bucket{') && l.includes('le="1"') && l.includes('seed_gbc_zipmap'),
      )
      .map((l) => Number(l.split(' ').pop()));
    const runs = metrics
      .split('\n')
      .filter((l) => l.startsWith('model_batch_rows_count{') && l.includes('seed_gbc_zipmap'))
      .map((l) => Number(l.split(' ').pop()));
    // Fewer runs than requests with more than one row each: batching happened.
    expect(runs[0]).toBeGreaterThan(0);
    expect(merged[0]).toBeLessThan(runs[0]);
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After beyond MAX_QUEUE_ROWS, and every request gets exactly one answer', async () => {
    const app = await startApp({
      MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx`,
      MAX_QUEUE_ROWS: '40',
      BATCH_MAX_SIZE: '8',
    });
    try {
      const server = app.getHttpServer();
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          request(server)
            .post('/v1/models/seed_gbc_zipmap:predict')
            .send({ instances: sklearn.inputs.slice(0, 10) }),
        ),
      );
      const statuses = answers.map((res) => res.status);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses).toContain(503);
      expect(statuses).toContain(200);
      const shed = answers.find((res) => res.status === 503)!;
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.body).toMatchObject({ status: 503, type: expect.stringMatching(/overloaded$/) });
      for (const ok of answers.filter((res) => res.status === 200)) {
        expect(bodyOf<KServePredictResponse>(ok).predictions.map((p) => p.label)).toEqual(
          sklearn.labels.slice(0, 10),
        );
      }
      // Nothing is left queued and the service still answers.
      await request(server).post('/predict').send({ features: sklearn.inputs[0] }).expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('execution providers', () => {
  it('falls back to CPU when a preferred provider is not available, and reports the one in use', async () => {
    const app = await startApp({
      MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx`,
      ORT_EXECUTION_PROVIDERS: 'cuda,cpu',
    });
    try {
      const res = await request(app.getHttpServer()).get('/v1/models/seed_gbc_zipmap').expect(200);
      expect(bodyOf<ModelDescription>(res).execution_providers).toEqual(['cpu']);
      await request(app.getHttpServer()).post('/predict').send({ features: sklearn.inputs[0] }).expect(200);
    } finally {
      await app.close();
    }
  });
});
