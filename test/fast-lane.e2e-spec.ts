import { OverloadedError, PredictionService } from '@app/inference';
import { type LoggedPrediction, parseRecords, PredictionLog } from '@app/monitoring';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelsController } from '../apps/inference-api/src/models/models.controller';
import { PredictController } from '../apps/inference-api/src/predict/predict.controller';
import { OpenInferenceController } from '../apps/inference-api/src/v2/open-inference.controller';
import { startApp } from './support/app';
import { ContractCase, contractCorpus, CORPUS_KEY } from './support/contract-corpus';
import { openInferenceCorpus } from './support/open-inference-corpus';

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** Headers a client acts on; the rest (Date, Connection, Keep-Alive) say nothing about the answer. */
const COMPARED_HEADERS = [
  'content-type',
  'x-request-id',
  'retry-after',
  'www-authenticate',
  'etag',
  'inference-header-content-length',
];

function send(port: number, c: ContractCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: c.method, path: c.path, headers: c.headers });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        // Binary tensor data compares byte for byte.
        let body: unknown =
          res.headers['content-type'] === 'application/octet-stream' ? bytes.toString('base64') : text;
        try {
          if (typeof body === 'string' && body === text) body = JSON.parse(text);
        } catch {
          // not JSON: compared as text
        }
        if (typeof body === 'object' && body !== null && 'latency_ms' in body) {
          // The one member that differs between two answers to the same request.
          body = { ...body, latency_ms: typeof body.latency_ms };
        }
        const headers = Object.fromEntries(
          COMPARED_HEADERS.map((h) => [h, res.headers[h] as string | undefined]),
        );
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

/** A spy on a route handler that keeps the handler's decorator metadata, which Nest reads to register the route. */
function spyOnHandler<T extends object, K extends keyof T & string>(prototype: T, name: K) {
  const original = prototype[name] as object;
  const spy = jest.spyOn(prototype, name as never);
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), prototype[name] as object);
  }
  return spy;
}

async function listen(app: NestExpressApplication): Promise<number> {
  await app.listen(0, '127.0.0.1');
  return (app.getHttpServer().address() as AddressInfo).port;
}

describe('fast lane conformance: the same answers with the lane on and off', () => {
  const corpus = [...contractCorpus(), ...openInferenceCorpus()];
  const workDir = mkdtempSync(join(tmpdir(), 'fast-lane-'));
  let lane: NestExpressApplication;
  let pipeline: NestExpressApplication;
  let lanePort: number;
  let pipelinePort: number;
  // Installed before the apps exist: Nest binds the handler when it registers the route.
  const predictHandler = spyOnHandler(PredictController.prototype, 'predict');
  const kserveHandler = spyOnHandler(ModelsController.prototype, 'predict');
  const inferHandler = spyOnHandler(OpenInferenceController.prototype, 'infer');
  const inferVersionHandler = spyOnHandler(OpenInferenceController.prototype, 'inferVersion');
  const handlers = [predictHandler, kserveHandler, inferHandler, inferVersionHandler];
  const handled = () => handlers.reduce((calls, handler) => calls + handler.mock.calls.length, 0);

  const env = (on: boolean) => ({
    MODEL_REPOSITORY: './models',
    API_KEYS: CORPUS_KEY,
    FAST_LANE_ENABLED: String(on),
    PREDICTION_LOG_DIR: join(workDir, on ? 'lane' : 'pipeline'),
    PREDICTION_LOG_FLUSH_MS: '60000',
    DRIFT_SCHEDULE_ENABLED: 'false',
    DRIFT_REPORT_DIR: join(workDir, 'reports'),
  });

  beforeAll(async () => {
    lane = await startApp(env(true));
    pipeline = await startApp(env(false));
    lanePort = await listen(lane);
    pipelinePort = await listen(pipeline);
  });
  afterAll(async () => {
    await lane.close();
    await pipeline.close();
    for (const handler of handlers) handler.mockRestore();
  });

  it(`answers each of the ${corpus.length} contract cases identically, and predicts without Nest when it can`, async () => {
    const answeredByLane: ContractCase[] = [];
    const handedOver: ContractCase[] = [];
    for (const c of corpus) {
      const before = handled();
      const viaLane = await send(lanePort, c);
      const laneUsedController = handled() > before;
      const viaPipeline = await send(pipelinePort, c);
      expect({ case: c.name, ...viaLane }).toEqual({ case: c.name, ...viaPipeline });
      // Predictions are not cacheable: no answer, from either path, hashes its body for an ETag.
      expect(viaPipeline.headers.etag).toBeUndefined();
      if (viaLane.status === 200 && !c.edge) {
        // A good request never reaches the controllers with the lane on: the lane answered it. (Edge cases, such
        // as a query string or an odd media type, are left to Express by design.)
        expect({ case: c.name, laneUsedController }).toEqual({ case: c.name, laneUsedController: false });
        answeredByLane.push(c);
      } else if (laneUsedController) {
        handedOver.push(c);
      }
    }
    // The corpus exercises both sides: answers from the lane and hand-overs that reached a controller.
    const onV2 = (cases: ContractCase[]) => cases.filter((c) => c.path.startsWith('/v2/'));
    expect(answeredByLane.length - onV2(answeredByLane).length).toBeGreaterThanOrEqual(10);
    expect(handedOver.length - onV2(handedOver).length).toBeGreaterThanOrEqual(20);
    // And on the Open Inference Protocol's routes: every good request, JSON and binary, on both routes, answered by
    // the lane (6 JSON and 3 binary bodies, one without a Content-Type as tritonclient sends it, × 2 routes, with a
    // key); refusals worded by the controller.
    expect(onV2(answeredByLane).map((c) => c.name)).toHaveLength(18);
    expect(onV2(answeredByLane).filter((c) => c.headers['inference-header-content-length'])).toHaveLength(6);
    expect(onV2(handedOver).length).toBeGreaterThanOrEqual(20);
  });

  it('logs every prediction it answered, as the pipeline does', async () => {
    // The lane logs rows as the client wrote them: the same numbers, in the client's notation.
    const written = '[0.50, -1E-3, 2.0, 3, 4, 5, 6, 7, 8, 9.000]';
    const post = (port: number) =>
      fetch(`http://127.0.0.1:${port}/v1/models/seed_gbc:predict`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${CORPUS_KEY}`,
          'x-request-id': 'written-as-is',
        },
        body: `{"instances": [${written}, ${written}]}`,
      });
    const postOne = (port: number) =>
      fetch(`http://127.0.0.1:${port}/predict`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${CORPUS_KEY}`,
          'x-request-id': 'one-written-as-is',
        },
        body: `{"features": ${written}}`,
      });
    for (const port of [lanePort, pipelinePort]) {
      expect((await post(port)).status).toBe(200);
      expect((await postOne(port)).status).toBe(200);
    }
    await lane.get(PredictionLog).flush();
    const laneText = readdirSync(join(workDir, 'lane'))
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => readFileSync(join(workDir, 'lane', name), 'utf8'))
      .join('');
    const request = laneText.split('\n').find((line) => line.includes('"request_id":"written-as-is"'));
    expect(request).toContain(`"features":[${written}, ${written}],"predictions":`);
    const one = laneText.split('\n').find((line) => line.includes('"request_id":"one-written-as-is"'));
    expect(one).toContain(`"features":[${written}],"predictions":`);
    await pipeline.get(PredictionLog).flush();
    const rows = (dir: string) =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.jsonl'))
        .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
        .flatMap(parseRecords);
    const strip = ({ request_id, features, prediction }: LoggedPrediction) => ({
      request_id,
      features,
      prediction,
    });
    const laneRows = rows(join(workDir, 'lane')).map(strip);
    expect(laneRows.length).toBeGreaterThan(50);
    expect(laneRows).toEqual(rows(join(workDir, 'pipeline')).map(strip));
  });

  it.each([
    ['an overloaded model', () => new OverloadedError('seed_gbc', 4096, 4096)],
    ['an unexpected runtime failure', () => new Error('session exploded at /srv/secret/path')],
  ])('answers %s after the prediction was queued with the filter’s problem', async (_, failure) => {
    const run = jest
      .spyOn(PredictionService.prototype, 'run')
      .mockImplementation(() => Promise.reject(failure()));
    try {
      for (const c of corpus.filter(
        (k) => k.name.endsWith('a good row with bearer key') || k.name.endsWith('32 rows with X-API-Key'),
      )) {
        const viaLane = await send(lanePort, c);
        const viaPipeline = await send(pipelinePort, c);
        expect(viaLane).toEqual(viaPipeline);
        expect(viaLane.status).toBeGreaterThanOrEqual(500);
        expect(JSON.stringify(viaLane.body)).not.toContain('secret');
      }
      expect(run).toHaveBeenCalledTimes(4);
    } finally {
      run.mockRestore();
    }
  });
});
