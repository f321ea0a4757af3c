import { PredictionService } from '@app/inference';
import request from 'supertest';
import type { ProblemDocument } from '@app/observability';
import { bodyOf, type HttpApp } from '../../../../test/support/http';
import { createObservabilityApp } from '../../../../test/support/observability-app';
import { PredictController } from './predict.controller';

/** Stands in for the prediction service: a body the controller's rules refuse must never reach it. */
const unreached = {
  predict: () => {
    throw new Error('a body that fails validation reached the prediction service');
  },
};

const VALIDATION = 'https://ml-inference.dev/problems/validation-failed';
const NOT_EMPTY = { field: 'features', message: 'features must not be empty' };
const AN_ARRAY = { field: 'features', message: 'features must be an array of numbers' };

/**
 * The answers of POST /predict to bodies its DTO and the body parser refuse, word for word, with the app's
 * production set of global guard, pipe and filter (httpEdgeGlobals). What the model then checks (feature count,
 * element types) is the prediction service's, in test/predict.e2e-spec.ts.
 */
describe('PredictController: what a bad body gets, exactly', () => {
  let app: HttpApp;
  const post = (body: string, type = 'application/json') =>
    request(app.getHttpServer()).post('/predict').set('content-type', type).send(body);

  beforeAll(async () => {
    ({ app } = await createObservabilityApp([PredictController], {}, [
      { provide: PredictionService, useValue: unreached },
    ]));
  });
  afterAll(() => app.close());

  it.each([
    ['no features', {}, [NOT_EMPTY, AN_ARRAY]],
    ['features that are not an array', { features: '1,2,3' }, [NOT_EMPTY, AN_ARRAY]],
    ['empty features', { features: [] }, [NOT_EMPTY]],
    [
      'a field the contract does not have',
      { features: [1], extra: true },
      [{ field: 'extra', message: 'property extra should not exist' }],
    ],
  ])('answers %s with a 422 naming each problem', async (_, body, errors) => {
    const res = await post(JSON.stringify(body)).expect(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: VALIDATION,
      title: 'Invalid input',
      status: 422,
      detail:
        errors.length === 1
          ? errors[0].message
          : `${errors.length} problems with the input: ${errors.map((e) => e.message).join('; ')}`,
      errors,
      instance: '/predict',
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers a NaN token, as Python writes it, with a 422 naming where it is', async () => {
    const res = await post('{"features": [1, NaN, 3]}').expect(422);
    expect(bodyOf<ProblemDocument>(res).errors).toEqual([
      { field: 'features[1]', message: 'features[1] is NaN; only finite numbers are accepted' },
    ]);
  });

  it('answers malformed JSON with a 400 giving the position', async () => {
    const res = await post('{"features": [1, 2,').expect(400);
    expect(res.body).toMatchObject({ status: 400, instance: '/predict' });
    expect(bodyOf<ProblemDocument>(res).detail).toMatch(/position|line \d+ column \d+/);
  });

  it('answers a body that is not JSON with a 415 naming the media type', async () => {
    const res = await post('features=1,2', 'application/x-www-form-urlencoded').expect(415);
    expect(bodyOf<ProblemDocument>(res).detail).toContain('application/x-www-form-urlencoded');
  });
});
