import { ModelRegistry, PredictionService } from '@app/inference';
import request from 'supertest';
import type { HttpApp } from '../../../../test/support/http';
import { createObservabilityApp } from '../../../../test/support/observability-app';
import { ModelsController } from './models.controller';

/** Stand in for the registry and the prediction service: a body the route's rules refuse must reach neither. */
const unreached = () => {
  throw new Error('a body that fails validation went past the controller’s rules');
};

const NOT_EMPTY = { field: 'instances', message: 'instances must not be empty' };
const ROWS = { field: 'instances', message: 'instances must be an array of rows' };

/**
 * The answers of POST /v1/models/{name}:predict (KServe V1) to bodies its DTO refuses, word for word, with the
 * production set of global guard, pipe and filter. Rows against the model are test/predict.e2e-spec.ts's.
 */
describe('ModelsController (KServe V1): what a bad body gets, exactly', () => {
  let app: HttpApp;

  beforeAll(async () => {
    ({ app } = await createObservabilityApp([ModelsController], {}, [
      { provide: PredictionService, useValue: { predict: unreached } },
      { provide: ModelRegistry, useValue: { get: unreached, list: unreached, versions: unreached } },
    ]));
  });
  afterAll(() => app.close());

  it.each([
    ['no instances', {}, [NOT_EMPTY, ROWS]],
    ['instances that are not an array', { instances: { f0: 1 } }, [NOT_EMPTY, ROWS]],
    ['no rows', { instances: [] }, [NOT_EMPTY]],
    [
      'a field the protocol does not have here',
      { instances: [[1]], parameters: {} },
      [{ field: 'parameters', message: 'property parameters should not exist' }],
    ],
  ])('answers %s with a 422 naming each problem', async (_, body, errors) => {
    const res = await request(app.getHttpServer())
      .post('/v1/models/seed_gbc:predict')
      .set('content-type', 'application/json')
      .send(JSON.stringify(body))
      .expect(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 422,
      title: 'Invalid input',
      instance: '/v1/models/seed_gbc:predict',
      errors,
    });
  });
});
