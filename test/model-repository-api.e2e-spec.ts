import { expect } from '@jest/globals';
import { ModelRegistry } from '@app/inference';
import type { ProblemDocument } from '@app/observability';
import type { OpenInferenceError } from '@app/observability/problems/open-inference-error';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { KServePredictResponse } from '../apps/inference-api/src/models/kserve.dto';
import type { ServerMetadataResponse } from '../apps/inference-api/src/v2/open-inference.dto';
import type { RepositoryIndexEntryResponse } from '../apps/inference-api/src/v2/repository.dto';
import { startApp } from './support/app';
import { bodyOf } from './support/http';
import { type BuiltModel, linearRegressor, randomRows, writeModel } from './support/onnx-model-builder';
import { validationFor } from './support/perturbed-models';

/*
 * The Open Inference Protocol's model repository extension (POST /v2/repository/index, …/models/{name}/load and
 * …/unload): guarded by ADMIN_API_KEYS alone, over the repository on disk, every change run alone. Polling is off
 * here, so nothing changes unless the API asks.
 */

const PREDICT_KEY = 'predict-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const FEATURES = 3;
const ROWS = randomRows(2, FEATURES, 5);

const version = (seed: number): BuiltModel =>
  linearRegressor({ name: 'prices', featureCount: FEATURES, seed });

/** prices/1 and an unrelated model beside it. */
async function repository(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'repository-api-'));
  await writeModel(root, version(1), 1);
  await writeModel(root, linearRegressor({ name: 'other', featureCount: 2 }), 1);
  return root;
}

/** A version folder written aside and renamed into place, with a validation.json of `checkedAgainst`'s outputs. */
async function addVersion(root: string, v: number, model: BuiltModel, checkedAgainst = model): Promise<void> {
  const aside = join(root, 'prices', `.new-${v}`);
  await mkdir(aside, { recursive: true });
  await writeFile(join(aside, 'model.onnx'), model.bytes);
  await writeFile(join(aside, 'validation.json'), JSON.stringify(validationFor(checkedAgainst, ROWS)));
  await rename(aside, join(root, 'prices', String(v)));
}

describe('the model repository API', () => {
  let app: NestExpressApplication;
  let root: string;
  const http = () => request(app.getHttpServer());
  const admin = (path: string, body: object = {}) =>
    http().post(`/v2/repository${path}`).set('X-API-Key', ADMIN_KEY).send(body);
  const predictVersion = async () =>
    bodyOf<KServePredictResponse>(
      await http()
        .post('/v1/models/prices:predict')
        .set('X-API-Key', PREDICT_KEY)
        .send({ instances: ROWS })
        .expect(200),
    ).model_version;
  /** The repository index, as POST /v2/repository/index answers it. */
  const indexOf = (res: request.Response) => bodyOf<RepositoryIndexEntryResponse[]>(res);

  beforeEach(async () => {
    root = await repository();
    // Everything on the main thread: the specs count sessions there, and a busy machine can time a model slow
    // enough at load to place it on the worker threads.
    app = await startApp({
      MODEL_REPOSITORY: root,
      API_KEYS: PREDICT_KEY,
      ADMIN_API_KEYS: ADMIN_KEY,
      INFERENCE_WORKERS: '0',
    });
  });
  afterEach(() => app.close());

  it('takes admin keys only: 401 without a key or with a wrong one, 403 for a prediction key', async () => {
    for (const path of ['/index', '/models/prices/load', '/models/prices/unload']) {
      const none = await http().post(`/v2/repository${path}`).send({}).expect(401);
      expect(bodyOf<OpenInferenceError>(none).error).toMatch(/^An admin key is required/);
      await http().post(`/v2/repository${path}`).set('X-API-Key', `${ADMIN_KEY}x`).send({}).expect(401);
      const predictor = await http()
        .post(`/v2/repository${path}`)
        .set('Authorization', `Bearer ${PREDICT_KEY}`)
        .send({})
        .expect(403);
      expect(predictor.body).toEqual({
        error:
          'This key may predict but not change what is served: the repository API takes one of ADMIN_API_KEYS.',
      });
    }
    // Nothing was unloaded by the refused calls; and an admin key does not predict.
    expect(await predictVersion()).toBe('1');
    await http()
      .post('/v1/models/prices:predict')
      .set('X-API-Key', ADMIN_KEY)
      .send({ instances: ROWS })
      .expect(401);
    await admin('/index').expect(200);
  });

  it('lists the extension in GET /v2', async () => {
    const res = await http().get('/v2').set('X-API-Key', PREDICT_KEY).expect(200);
    expect(bodyOf<ServerMetadataResponse>(res).extensions).toEqual([
      'binary_tensor_data',
      'model_repository',
    ]);
  });

  it('indexes every version on disk with its state and why it is not served', async () => {
    await addVersion(root, 2, version(2));
    const index = indexOf(await admin('/index').expect(200));
    expect(index).toEqual([
      { name: 'other', version: '1', state: 'READY', reason: '' },
      { name: 'prices', version: '1', state: 'READY', reason: '' },
      {
        name: 'prices',
        version: '2',
        state: 'UNAVAILABLE',
        reason: 'not loaded yet: found since the last scan',
      },
    ]);
    const ready = indexOf(await admin('/index', { ready: true }).expect(200));
    expect(ready.map((e) => `${e.name}:${e.version}`)).toEqual(['other:1', 'prices:1']);
    const bad = await admin('/index', { ready: 'yes' }).expect(400);
    expect(bad.body).toEqual({ error: 'ready must be a boolean' });
  });

  it('loads a new version, unloads it back to the previous, and unloads and loads the whole model', async () => {
    await addVersion(root, 2, version(2));
    expect(await predictVersion()).toBe('1');
    await admin('/models/prices/load').expect(200);
    expect(await predictVersion()).toBe('2');

    // Rollback through the API: the newest version out, the policy (latest 1) picks the previous.
    await admin('/models/prices/unload', { parameters: { version: '2' } }).expect(200);
    expect(await predictVersion()).toBe('1');
    const index = indexOf(await admin('/index').expect(200));
    expect(index).toContainEqual({
      name: 'prices',
      version: '2',
      state: 'UNAVAILABLE',
      reason: 'unloaded through the repository API',
    });

    await admin('/models/prices/unload').expect(200);
    const gone = await http()
      .post('/v1/models/prices:predict')
      .set('X-API-Key', PREDICT_KEY)
      .send({ instances: ROWS })
      .expect(404);
    expect(bodyOf<ProblemDocument>(gone).detail).toBe(
      'No model named "prices" is served here. Served models: other.',
    );
    // The rest is untouched, and readiness too.
    await http().get('/ready').expect(200);

    // A load undoes both unloads: the policy serves the newest again.
    await admin('/models/prices/load').expect(200);
    expect(await predictVersion()).toBe('2');
    expect(app.get(ModelRegistry).runtime).toMatchObject({ instances: 2, mainThreadSessions: 2 });
  });

  it('refuses what it cannot do, saying why, and goes on serving what it served', async () => {
    await admin('/models/nope/load').expect(404, {
      error: 'No model named "nope" is served here. Served models: other, prices.',
    });
    await admin('/models/nope/unload').expect(404);
    await admin('/models/prices/unload', { parameters: { version: '7' } }).expect(404, {
      error: 'Model "prices" has no version "7" here; the repository holds version "1".',
    });
    const override = await admin('/models/prices/load', {
      parameters: { config: '{}', 'file:1/model.onnx': 'AAAA' },
    }).expect(400);
    expect(bodyOf<OpenInferenceError>(override).error).toBe(
      'parameters "config", "file:1/model.onnx" are not taken here: models are served from the repository on disk, not from a request; the parameters are "version"',
    );
    await admin('/models/prices/load', { parameters: { version: 'two' } }).expect(400, {
      error: 'parameters.version must be a version number (a version folder\'s name); got "two"',
    });

    // An export whose validation.json it does not match: refused, version 1 serves on.
    await addVersion(root, 2, version(2), version(1));
    const refused = await admin('/models/prices/load').expect(400);
    expect(bodyOf<OpenInferenceError>(refused).error).toMatch(
      /^Model "prices" was not loaded: model "prices" version 2 refused: its outputs differ from .*prices\/2\/validation\.json: .*; it serves version 1\.$/,
    );
    expect(await predictVersion()).toBe('1');
    const index = indexOf(await admin('/index').expect(200));
    expect(index.find((e) => e.name === 'prices' && e.version === '2')).toMatchObject({
      state: 'UNAVAILABLE',
      reason: expect.stringMatching(/^model "prices" version 2 refused: its outputs differ/),
    });
  });

  it('runs concurrent loads one after the other: the later ones find the work done', async () => {
    await addVersion(root, 2, version(2));
    const registry = app.get(ModelRegistry);
    const before = Number(registry.get('prices').instance.split('#')[1]);
    const statuses = await Promise.all(
      [1, 2, 3].map(async () => (await admin('/models/prices/load')).status),
    );
    expect(statuses).toEqual([200, 200, 200]);
    // Version 2 was loaded once: one new instance, the next number. Loads run side by side would each have
    // found it missing and loaded it.
    expect(registry.get('prices').instance).toBe(`prices@2#${before + 1}`);
    expect(registry.runtime).toMatchObject({ instances: 2, mainThreadSessions: 2 });
    expect(await predictVersion()).toBe('2');
  });
});

describe('the model repository API without ADMIN_API_KEYS', () => {
  it('is off: 403 for every key, even with authentication disabled', async () => {
    const app = await startApp({ MODEL_REPOSITORY: await repository(), AUTH_DISABLED: 'true' });
    try {
      const res = await request(app.getHttpServer()).post('/v2/repository/index').send({}).expect(403);
      expect(res.body).toEqual({
        error: 'The repository API is off: set ADMIN_API_KEYS to keys of its own to load and unload models.',
      });
    } finally {
      await app.close();
    }
  });
});
