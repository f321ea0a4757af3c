import { ModelRegistry } from '@app/inference';
import type { DriftReport } from '@app/monitoring';
import type { ProblemDocument } from '@app/observability';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type {
  KServePredictResponse,
  ModelDescription,
  ModelList,
} from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import type { InferenceResponse } from '../apps/inference-api/src/v2/open-inference.dto';
import { startApp } from './support/app';
import { expectClose } from './support/golden';
import { bodyOf } from './support/http';
import { type CallResult, OpenInferenceGrpcClient } from './support/grpc-client';
import { type BuiltModel, linearRegressor, randomRows, writeModel } from './support/onnx-model-builder';
import { freePort } from './support/server-process';
import { loggedRecords } from './support/logged-records';

/*
 * Several versions of one model served side by side (the model's own model.json: version_policy, default_version),
 * each reachable by version on the V2 routes and over gRPC, the unversioned routes on the default version; every
 * answer, metric and prediction-log record names the version that computed it. The versions are linear regressors
 * with different weights, so a value tells which version computed it.
 */

const FEATURES = 3;
const ROWS = randomRows(5, FEATURES, 41);

/** Version v of "scores": its own weights. */
const versionModel = (version: number): BuiltModel =>
  linearRegressor({ name: 'scores', featureCount: FEATURES, seed: 100 + version });

/** `scores/1…3`, with the model's own model.json when given. */
async function repository(config?: object): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'versions-'));
  for (const version of [1, 2, 3]) await writeModel(root, versionModel(version), version);
  if (config) writeFileSync(join(root, 'scores', 'model.json'), JSON.stringify(config));
  return root;
}

const valuesOf = (model: BuiltModel, rows: number[][]) =>
  model.reference(rows).map((p) => (p.task === 'regression' ? (p.value as number) : NaN));

function expectValues(got: readonly unknown[], version: number): void {
  const expected = valuesOf(versionModel(version), ROWS);
  expect(got).toHaveLength(expected.length);
  got.forEach((value, i) => expectClose(value as number, expected[i]));
}

const v2Body = (rows: number[][]) => ({
  inputs: [{ name: 'float_input', shape: [rows.length, FEATURES], datatype: 'FP32', data: rows.flat() }],
});

describe('versions side by side', () => {
  let app: NestExpressApplication;
  let client: OpenInferenceGrpcClient;
  let logDir: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'versions-log-'));
    const grpcPort = freePort();
    app = await startApp({
      MODEL_REPOSITORY: await repository({ version_policy: { all: true } }),
      PREDICTION_LOG_DIR: logDir,
      GRPC_PORT: String(grpcPort),
    });
    await app.startAllMicroservices();
    client = new OpenInferenceGrpcClient(`127.0.0.1:${grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it.each([1, 2, 3])(
    'answers /v2/models/scores/versions/%i/infer with that version’s values',
    async (version) => {
      const res = await http()
        .post(`/v2/models/scores/versions/${version}/infer`)
        .send(v2Body(ROWS))
        .expect(200);
      const body = bodyOf<InferenceResponse>(res);
      expect(body.model_version).toBe(String(version));
      expectValues(body.outputs[0].data, version);
    },
  );

  it('answers the unversioned routes with the highest version', async () => {
    const v2 = await http().post('/v2/models/scores/infer').send(v2Body(ROWS)).expect(200);
    expect(bodyOf<InferenceResponse>(v2).model_version).toBe('3');
    expectValues(bodyOf<InferenceResponse>(v2).outputs[0].data, 3);
    const kserve = await http().post('/v1/models/scores:predict').send({ instances: ROWS }).expect(200);
    expect(bodyOf<KServePredictResponse>(kserve).model_version).toBe('3');
    expectValues(
      bodyOf<KServePredictResponse>(kserve).predictions.map((p) => p.value),
      3,
    );
    const predict = await http().post('/predict').send({ features: ROWS[0] }).expect(200);
    expect(predict.body).toMatchObject({ model: 'scores', version: '3' });
    expectClose(bodyOf<PredictResponse>(predict).prediction as number, valuesOf(versionModel(3), ROWS)[0]);
  });

  it('answers gRPC by model_version, and the default without one', async () => {
    const call = (model_version: string) =>
      client.call<{ model_version: string; outputs: Array<{ contents: { fp32_contents: number[] } }> }>(
        'ModelInfer',
        {
          model_name: 'scores',
          model_version,
          inputs: [
            {
              name: 'float_input',
              datatype: 'FP32',
              shape: [ROWS.length, FEATURES],
              contents: { fp32_contents: ROWS.flat() },
            },
          ],
        },
      );
    for (const [asked, version] of [
      ['1', 1],
      ['2', 2],
      ['', 3],
    ] as const) {
      const result = await call(asked);
      if (!result.ok) throw new Error(`ModelInfer ${asked}: ${result.codeName} ${result.details}`);
      expect(result.response.model_version).toBe(String(version));
      expectValues(result.response.outputs[0].contents.fp32_contents, version);
    }
    const missing: CallResult<unknown> = await call('4');
    expect(missing).toMatchObject({
      ok: false,
      codeName: 'NOT_FOUND',
      details: 'Model "scores" has no version "4" here; the served versions are "1", "2", "3".',
    });
    const ready = await client.call<{ ready: boolean }>('ModelReady', { name: 'scores', version: '2' });
    expect(ready).toMatchObject({ ok: true, response: { ready: true } });
  });

  it('lists every version and the default in GET /v1/models/{name} and the V2 metadata', async () => {
    const described = bodyOf<ModelDescription>(await http().get('/v1/models/scores').expect(200));
    expect(described).toMatchObject({
      name: 'scores',
      version: '3',
      default_version: '3',
      versions: [
        { version: '1', ready: true, default: false },
        { version: '2', ready: true, default: false },
        { version: '3', ready: true, default: true },
      ],
    });
    // One entry per model, as its default version describes it.
    const listed = bodyOf<ModelList>(await http().get('/v1/models').expect(200)).models;
    expect(listed).toEqual([described]);
    const metadata: unknown = (await http().get('/v2/models/scores/versions/1').expect(200)).body;
    expect(metadata).toMatchObject({ name: 'scores', versions: ['1', '2', '3'] });
    await http().get('/v2/models/scores/versions/2/ready').expect(200, { name: 'scores', ready: true });
  });

  it('answers a version it does not serve with 404, naming those it does', async () => {
    const res = await http().post('/v2/models/scores/versions/4/infer').send(v2Body(ROWS)).expect(404);
    expect(res.body).toEqual({
      error: 'Model "scores" has no version "4" here; the served versions are "1", "2", "3".',
    });
  });

  it('runs and reads the drift check of any version over HTTP, the default without ?version', async () => {
    const v1 = await http().post('/v1/models/scores/drift?version=1').expect(200);
    expect(v1.body).toMatchObject({ model: 'scores', version: '1' });
    expect(
      bodyOf<DriftReport>(await http().get('/v1/models/scores/drift?version=1').expect(200)).version,
    ).toBe('1');
    // Version 2 has had no check yet: its own folder is empty, whatever the others hold.
    const none = await http().get('/v1/models/scores/drift?version=2').expect(404);
    expect(bodyOf<ProblemDocument>(none).detail).toContain('version 2 of model "scores"');
    expect(bodyOf<DriftReport>(await http().post('/v1/models/scores/drift').expect(200)).version).toBe('3');
    expect(bodyOf<DriftReport>(await http().get('/v1/models/scores/drift').expect(200)).version).toBe('3');
    expect(
      bodyOf<DriftReport>(await http().get('/v1/models/scores/drift?version=3').expect(200)).version,
    ).toBe('3');
    await http().get('/v1/models/scores/drift?version=9').expect(404);
    const bad = await http().post('/v1/models/scores/drift?version=latest').expect(422);
    expect(JSON.stringify(bad.body)).toContain('version must be a version number');
  });

  it('counts and logs each answer under the version that computed it', async () => {
    const before = await metricValues();
    for (const version of [1, 2, 2]) {
      await http().post(`/v2/models/scores/versions/${version}/infer`).send(v2Body(ROWS)).expect(200);
    }
    const after = await metricValues();
    expect((after.get('1') ?? 0) - (before.get('1') ?? 0)).toBe(ROWS.length);
    expect((after.get('2') ?? 0) - (before.get('2') ?? 0)).toBe(2 * ROWS.length);

    const records = (await loggedRecords(logDir, app)).filter((record) => record.model === 'scores');
    for (const version of ['1', '2', '3']) {
      const own = records.filter((record) => record.version === version);
      expect(own.length).toBeGreaterThan(0);
      // The value logged is the one that version computes for the row logged.
      for (const record of own) {
        const [expected] = valuesOf(versionModel(Number(version)), [Array.from(record.features)]);
        expectClose(Number(record.prediction), expected);
      }
    }
  });

  async function metricValues(): Promise<Map<string, number>> {
    const exposition = (await http().get('/metrics').expect(200)).text;
    const values = new Map<string, number>();
    for (const line of exposition.split('\n')) {
      const match = /^model_predictions_total\{model="scores",version="(\d+)",label=""\} (\d+)$/.exec(line);
      if (match) values.set(match[1], Number(match[2]));
    }
    return values;
  }
});

describe('which versions a model serves, and which is the default', () => {
  const served = async (config: object | undefined) => {
    const app = await startApp({ MODEL_REPOSITORY: await repository(config) });
    try {
      const http = () => request(app.getHttpServer());
      const described = bodyOf<ModelDescription>(await http().get('/v1/models/scores').expect(200));
      const unversioned = bodyOf<InferenceResponse>(
        await http().post('/v2/models/scores/infer').send(v2Body(ROWS)).expect(200),
      );
      expectValues(unversioned.outputs[0].data, Number(unversioned.model_version));
      const reachable: string[] = [];
      for (const version of ['1', '2', '3']) {
        const res = await http().post(`/v2/models/scores/versions/${version}/infer`).send(v2Body(ROWS));
        expect([200, 404]).toContain(res.status);
        if (res.status === 200) reachable.push(version);
      }
      return {
        versions: described.versions.map((v) => v.version),
        default: described.default_version,
        unversioned: unversioned.model_version,
        reachable,
      };
    } finally {
      await app.close();
    }
  };

  it.each([
    ['no model.json: latest 1, as Triton', undefined, ['3'], '3'],
    ['latest 2', { version_policy: { latest: 2 } }, ['2', '3'], '3'],
    ['all', { version_policy: { all: true } }, ['1', '2', '3'], '3'],
    ['specific [1, 3]', { version_policy: { specific: [1, 3] } }, ['1', '3'], '3'],
    ['all, default_version 1', { version_policy: { all: true }, default_version: 1 }, ['1', '2', '3'], '1'],
    [
      'specific [1, 2], default_version "2"',
      { version_policy: { specific: [1, 2] }, default_version: '2' },
      ['1', '2'],
      '2',
    ],
  ])('%s', async (_, config, versions, defaultVersion) => {
    expect(await served(config)).toEqual({
      versions,
      default: defaultVersion,
      unversioned: defaultVersion,
      reachable: versions,
    });
  });

  it('stops the start when default_version names a version the policy does not serve', async () => {
    const app = await startApp(
      { MODEL_REPOSITORY: await repository({ version_policy: { latest: 1 }, default_version: 1 }) },
      { load: false },
    );
    try {
      await expect(app.get(ModelRegistry).loadAll()).rejects.toThrow(
        'model scores: its default_version 1 is not among the versions its version_policy (latest 1) serves: 3',
      );
    } finally {
      await app.close();
    }
  });
});
