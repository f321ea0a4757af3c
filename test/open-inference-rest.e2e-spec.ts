import { expect } from '@jest/globals';
import { ModelRegistry, type ModelManifest } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenInferenceError } from '@app/observability/problems/open-inference-error';
import request from 'supertest';
import type { KServePredictResponse, ModelDescription } from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import type {
  InferenceResponse,
  ModelMetadataResponse,
} from '../apps/inference-api/src/v2/open-inference.dto';
import { FIXTURES, startApp } from './support/app';
import { expectClose, readGolden } from './support/golden';
import { bodyOf, type OpenApiDocument } from './support/http';
import { OpenInferenceResponseSchema, OpenInferenceSchemas } from './support/open-inference-schemas';
import { randomRows, torchMlp, writeModel } from './support/onnx-model-builder';
import { UNSEEN_MODELS } from './support/unseen-models';
import { loggedRecords } from './support/logged-records';

const KEY = 'open-inference-key-0123456789';
const AUTH = { 'X-API-Key': KEY };
const schemas = new OpenInferenceSchemas();

/** Every V2 answer is held to the protocol's own OpenAPI document, successes and errors alike. */
function expectValid(schema: OpenInferenceResponseSchema, body: unknown): void {
  expect(schemas.problems(schema, body)).toEqual([]);
}

/** A V2 error: the protocol's JSON form with a message, never problem+json. */
function expectError(
  res: request.Response,
  schema: OpenInferenceResponseSchema,
  message: string | RegExp,
): void {
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const body = bodyOf<OpenInferenceError>(res);
  expectValid(schema, body);
  expect(Object.keys(body)).toEqual(['error']);
  if (typeof message === 'string') expect(body.error).toBe(message);
  else expect(body.error).toMatch(message);
}

/** Which V2 output carries what the KServe V1 route answers, per model kind. */
interface ServedModelCase {
  name: string;
  featureCount: number;
  /** Metadata outputs: name, datatype, shape. */
  outputs: Array<[string, string, number[]]>;
  /** The predicted label per row. */
  label?: string;
  /** [rows, classes] probabilities in the order of labels. */
  probabilities?: string;
  /** [rows, 1] probability of the second class (a graph ending in Sigmoid). */
  positive?: string;
  /** Regression values per row. */
  value?: string;
}

const SKLEARN = (name: string, featureCount: number, classes: number, labels = 'INT64'): ServedModelCase => ({
  name,
  featureCount,
  outputs: [
    ['output_label', labels, [-1]],
    ['output_probability', 'FP32', [-1, classes]],
  ],
  label: 'output_label',
  probabilities: 'output_probability',
});

/** A graph ending in logits ([rows, classes], or one logit of the second class): the server derives probabilities. */
const LOGITS = (name: string, featureCount: number, classes: number, logits = classes): ServedModelCase => ({
  name,
  featureCount,
  outputs: [
    ['output', 'FP32', [-1, logits]],
    ['probabilities', 'FP32', [-1, classes]],
  ],
  probabilities: 'probabilities',
});

const CASES: ServedModelCase[] = [
  SKLEARN('seed_gbc', 10, 2),
  SKLEARN('seed_gbc_zipmap', 10, 2),
  LOGITS('seed_torch_mlp', 10, 2),
  SKLEARN('iris_strings', 4, 3, 'BYTES'),
  SKLEARN('digits_nozipmap', 6, 4),
  { name: 'house_prices', featureCount: 5, outputs: [['variable', 'FP32', [-1, 1]]], value: 'variable' },
  LOGITS('mlp_fixed_batch', 6, 3),
  { name: 'mlp_softmax', featureCount: 7, outputs: [['output', 'FP32', [-1, 4]]], probabilities: 'output' },
  { name: 'mlp_sigmoid', featureCount: 5, outputs: [['output', 'FP32', [-1, 1]]], positive: 'output' },
  { name: 'mlp_two_targets', featureCount: 4, outputs: [['output', 'FP32', [-1, 2]]], value: 'output' },
  LOGITS('mlp_positive_logit', 5, 2, 1),
];

/** The repository: the shipped model, the two fixture exports and models the service has never seen. */
async function writeRepository(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'open-inference-'));
  await writeModel(root, {
    name: 'seed_gbc',
    bytes: readFileSync('models/seed_gbc/1/model.onnx'),
    manifest: JSON.parse(readFileSync('models/seed_gbc/1/model.json', 'utf8')) as ModelManifest,
  });
  for (const fixture of ['seed_gbc_zipmap', 'seed_torch_mlp']) {
    await writeModel(root, { name: fixture, bytes: readFileSync(`${FIXTURES}/${fixture}.onnx`) });
  }
  for (const model of [
    ...UNSEEN_MODELS,
    // A binary net exported without its Sigmoid, declared a classifier: one logit per row.
    torchMlp({
      name: 'mlp_positive_logit',
      outputs: 1,
      featureCount: 5,
      manifest: { task: 'classification' },
      seed: 19,
    }),
  ]) {
    await writeModel(root, model);
  }
  return root;
}

const tensor = (name: string, rows: readonly unknown[][], datatype = 'FP32') => ({
  name,
  datatype,
  shape: [rows.length, rows[0].length],
  data: rows.flat(),
});

type Output = { name: string; datatype: string; shape: number[]; data: unknown[] };

function outputNamed(body: { outputs: Output[] }, name: string): Output {
  const output = body.outputs.find((o) => o.name === name);
  if (output === undefined) throw new Error(`no output "${name}" in ${JSON.stringify(body.outputs)}`);
  return output;
}

/** The rows of a [rows, columns] output. */
function rowsOf(output: Output): unknown[][] {
  const columns = output.shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: output.shape[0] }, (_, r) => output.data.slice(r * columns, (r + 1) * columns));
}

describe('Open Inference Protocol (V2) over REST', () => {
  let app: NestExpressApplication;
  let logDir: string;
  const server = () => app.getHttpServer();
  const get = (path: string) => request(server()).get(path).set(AUTH);
  const infer = (name: string, body: unknown) =>
    request(server())
      .post(`/v2/models/${name}/infer`)
      .set(AUTH)
      .send(body as object);

  /** A POST with no Content-Type at all (supertest always sets one). */
  const postUntyped = async (path: string, body: string, headers: Record<string, string> = {}) => {
    if (!server().listening) await new Promise<void>((resolve) => server().listen(0, '127.0.0.1', resolve));
    const { port } = server().address() as AddressInfo;
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: { ...AUTH, ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'open-inference-log-'));
    app = await startApp({
      MODEL_REPOSITORY: await writeRepository(),
      DEFAULT_MODEL: 'seed_gbc',
      API_KEYS: KEY,
      BODY_LIMIT: '64kb',
      PREDICTION_LOG_DIR: logDir,
    });
  });
  afterAll(() => app.close());

  describe('server', () => {
    it("describes itself: name, version, Triton's binary tensor data and the model repository extensions", async () => {
      const res = await get('/v2').expect(200);
      expectValid('metadata_server_response', res.body);
      expect(res.body).toEqual({
        name: 'ml-inference',
        version: expect.any(String),
        extensions: ['binary_tensor_data', 'model_repository'],
      });
      expect((await get('/v2/').expect(200)).body).toEqual(res.body);
    });

    it('answers the probes without a key, like /health and /ready', async () => {
      expect((await request(server()).get('/v2/health/live').expect(200)).body).toEqual({ live: true });
      expect((await request(server()).get('/v2/health/ready').expect(200)).body).toEqual({ ready: true });
    });
  });

  describe.each(CASES.map((c) => [c.name, c] as const))('%s', (name, model) => {
    it('describes its input and outputs, -1 for the batch', async () => {
      const res = await get(`/v2/models/${name}`).expect(200);
      expectValid('metadata_model_response', res.body);
      expect(res.body).toMatchObject({
        name,
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ datatype: 'FP32', shape: [-1, model.featureCount] }],
        outputs: model.outputs.map(([output, datatype, shape]) => ({ name: output, datatype, shape })),
      });
      // Each output says what it holds.
      for (const [output] of model.outputs)
        expect(bodyOf<ModelMetadataResponse>(res).properties[`output.${output}`]).toEqual(expect.any(String));
      const versioned = await get(`/v2/models/${name}/versions/1`).expect(200);
      expectValid('metadata_model_response', versioned.body);
      expect(versioned.body).toEqual(res.body);
    });

    it('is ready', async () => {
      expect((await get(`/v2/models/${name}/ready`).expect(200)).body).toEqual({ name, ready: true });
      expect((await get(`/v2/models/${name}/versions/1/ready`).expect(200)).body).toEqual({
        name,
        ready: true,
      });
    });

    it('answers the same rows as KServe V1 does, to 1e-6', async () => {
      const rows = randomRows(13, model.featureCount, model.featureCount * 7 + 1);
      const inputName = bodyOf<ModelMetadataResponse>(await get(`/v2/models/${name}`).expect(200)).inputs[0]
        .name;
      const v2 = await infer(name, { id: `parity-${name}`, inputs: [tensor(inputName, rows)] }).expect(200);
      expectValid('inference_response', v2.body);
      expect(v2.body).toMatchObject({ model_name: name, model_version: '1', id: `parity-${name}` });
      const v2Body = bodyOf<InferenceResponse>(v2);
      expect(v2Body.outputs.map((o) => [o.name, o.datatype, [-1, ...o.shape.slice(1)]])).toEqual(
        model.outputs,
      );
      for (const output of v2Body.outputs) expect(output.shape[0]).toBe(rows.length);

      const v1 = await request(server())
        .post(`/v1/models/${name}:predict`)
        .set(AUTH)
        .send({ instances: rows })
        .expect(200);
      // Columns follow the labels as the KServe route lists them, whatever order their keys enumerate in.
      const labels = (bodyOf<ModelDescription>(await get(`/v1/models/${name}`).expect(200)).labels ?? []).map(
        String,
      );
      const expected = bodyOf<KServePredictResponse>(v1).predictions;
      expect(expected).toHaveLength(rows.length);
      expected.forEach((prediction, i) => {
        if (model.label) expect(rowsOf(outputNamed(v2Body, model.label))[i]).toEqual([prediction.label]);
        const probabilities = prediction.probabilities as Record<string, number>;
        if (model.probabilities) {
          const served = rowsOf(outputNamed(v2Body, model.probabilities))[i] as number[];
          expect(served).toHaveLength(labels.length);
          labels.forEach((label, column) => expectClose(served[column], probabilities[label], 1e-6));
        }
        if (model.positive) {
          const [p] = rowsOf(outputNamed(v2Body, model.positive))[i] as number[];
          expectClose(p, probabilities[labels[1]], 1e-6);
        }
        if (model.value) {
          const served = rowsOf(outputNamed(v2Body, model.value))[i] as number[];
          const value = prediction.value as number | number[];
          expect(served).toHaveLength(Array.isArray(value) ? value.length : 1);
          (Array.isArray(value) ? value : [value]).forEach((v, k) => expectClose(served[k], v, 1e-6));
        }
      });
    });
  });
  describe("the exporters' own outputs", () => {
    it("serves the scikit-learn fixture's labels and probabilities as the exporter computed them", async () => {
      const golden = readGolden('seed_gbc_zipmap');
      for (let start = 0; start < golden.inputs.length; start += 32) {
        const rows = golden.inputs.slice(start, start + 32);
        const res = await infer('seed_gbc_zipmap', { inputs: [tensor('float_input', rows)] }).expect(200);
        const body = bodyOf<InferenceResponse>(res);
        expectValid('inference_response', body);
        expect(outputNamed(body, 'output_label').data).toEqual(golden.labels.slice(start, start + 32));
        rowsOf(outputNamed(body, 'output_probability')).forEach((row, i) =>
          (row as number[]).forEach((p, k) => expectClose(p, golden.probabilities[start + i][k])),
        );
      }
    });

    it("serves the PyTorch fixture's logits as the model's output and their softmax as probabilities", async () => {
      const golden = readGolden('seed_torch_mlp');
      const rows = golden.inputs.slice(0, 32);
      const res = await infer('seed_torch_mlp', { inputs: [tensor('float_input', rows)] }).expect(200);
      const body = bodyOf<InferenceResponse>(res);
      expectValid('inference_response', body);
      rowsOf(outputNamed(body, 'output')).forEach((row, i) =>
        (row as number[]).forEach((z, k) => expectClose(z, (golden.logits as number[][])[i][k])),
      );
      rowsOf(outputNamed(body, 'probabilities')).forEach((row, i) =>
        (row as number[]).forEach((p, k) => expectClose(p, golden.probabilities[i][k])),
      );
    });
  });

  describe('inference', () => {
    const rows = randomRows(3, 10, 41);

    it('answers as POST /predict does for each row of the default model, to 1e-6', async () => {
      const res = await infer('seed_gbc', { inputs: [tensor('float_input', rows)] }).expect(200);
      const body = bodyOf<InferenceResponse>(res);
      const labels = outputNamed(body, 'output_label').data;
      const probabilities = rowsOf(outputNamed(body, 'output_probability')) as number[][];
      for (const [i, row] of rows.entries()) {
        const seed = bodyOf<PredictResponse>(
          await request(server()).post('/predict').set(AUTH).send({ features: row }).expect(200),
        );
        expect(labels[i]).toBe(seed.prediction);
        probabilities[i].forEach((p, k) => expectClose(p, seed.probabilities?.[String(k)], 1e-6));
      }
    });

    it('takes data nested as the shape as it takes it flat', async () => {
      const flat = await infer('seed_gbc', { inputs: [tensor('float_input', rows)] }).expect(200);
      const nested = await infer('seed_gbc', {
        inputs: [{ name: 'float_input', datatype: 'FP32', shape: [3, 10], data: rows }],
      }).expect(200);
      expectValid('inference_response', nested.body);
      expect(nested.body).toEqual(flat.body);
    });

    it('returns the outputs asked for, in that order, echoes the id and accepts parameters', async () => {
      const res = await infer('seed_torch_mlp', {
        id: 'req-7',
        parameters: { priority: 1, binary_data_output: false },
        inputs: [{ ...tensor('float_input', rows), parameters: {} }],
        outputs: [{ name: 'probabilities' }, { name: 'output', parameters: { binary_data: false } }],
      }).expect(200);
      expectValid('inference_response', res.body);
      expect(bodyOf<InferenceResponse>(res).id).toBe('req-7');
      expect(bodyOf<InferenceResponse>(res).outputs.map((o) => o.name)).toEqual(['probabilities', 'output']);
      const only = await infer('seed_gbc', {
        inputs: [tensor('float_input', rows)],
        outputs: [{ name: 'output_label' }],
      }).expect(200);
      expectValid('inference_response', only.body);
      expect(bodyOf<InferenceResponse>(only).outputs.map((o) => o.name)).toEqual(['output_label']);
      // No id asked, none given back.
      expect(only.body).not.toHaveProperty('id');
    });

    it("reads a body sent without a Content-Type as JSON, as Triton's Python client sends it", async () => {
      const body = JSON.stringify({ inputs: [tensor('float_input', rows)] });
      const untyped = await postUntyped('/v2/models/seed_gbc/infer', body);
      expect(untyped.status).toBe(200);
      expectValid('inference_response', untyped.body);
      const typed = await infer('seed_gbc', { inputs: [tensor('float_input', rows)] }).expect(200);
      expect(untyped.body).toEqual(typed.body);
      // Triton's binary tensor data is not JSON past the header's length: read as such (test/open-inference-binary),
      // so bytes no input declares are refused.
      const binary = await postUntyped('/v2/models/seed_gbc/infer', `${body}\u0000\u0001`, {
        'Inference-Header-Content-Length': String(Buffer.byteLength(body)),
      });
      expect(binary.status).toBe(400);
      expectValid('inference_error_response', binary.body);
      expect(binary.body.error).toBe(
        'the inputs declare 0 bytes of binary data (parameters.binary_data_size) but 2 bytes follow the JSON header',
      );
      // Elsewhere a body still has to say it is JSON.
      expect(
        (await postUntyped('/v1/models/seed_gbc:predict', JSON.stringify({ instances: rows }))).status,
      ).toBe(415);
    });

    it('runs through the prediction service: prediction log, metrics, batching', async () => {
      const metric = async (series: string, match: string) => {
        const text = (await request(server()).get('/metrics').expect(200)).text;
        return text
          .split('\n')
          .filter((line) => line.startsWith(series) && line.includes(match))
          .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      };
      const predictionsBefore = await metric('model_predictions_total{', 'model="digits_nozipmap"');
      const batchedBefore = await metric('model_batch_rows_sum{', 'model="digits_nozipmap"');
      const inferBefore = await metric('http_requests_total{', 'route="/v2/models/:name/infer",status="200"');
      const logged = randomRows(5, 6, 77);
      await request(server())
        .post('/v2/models/digits_nozipmap/infer')
        .set(AUTH)
        .set('X-Request-Id', 'v2-logged')
        .send({ inputs: [tensor('float_input', logged)] })
        .expect(200);

      expect((await metric('model_predictions_total{', 'model="digits_nozipmap"')) - predictionsBefore).toBe(
        5,
      );
      expect((await metric('model_batch_rows_sum{', 'model="digits_nozipmap"')) - batchedBefore).toBe(5);
      expect(await metric('http_requests_total{', 'route="/v2/models/:name/infer",status="200"')).toBe(
        inferBefore + 1,
      );

      const records = (await loggedRecords(logDir, app)).filter(
        (record) => record.request_id === 'v2-logged',
      );
      expect(records.map((record) => [record.model, record.features])).toEqual(
        logged.map((row) => ['digits_nozipmap', row]),
      );
    });
  });

  describe('errors, in the protocol\'s {"error"} form', () => {
    const row = randomRows(1, 10, 5)[0];
    const input = (overrides: Record<string, unknown> = {}) => ({
      name: 'float_input',
      datatype: 'FP32',
      shape: [1, 10],
      data: row,
      ...overrides,
    });

    it.each([
      [
        'an input the model does not have',
        { inputs: [input({ name: 'input0' })] },
        'the model has no input "input0"; the model takes one input, "float_input" FP32 [-1, 10]',
      ],
      [
        'no inputs',
        { inputs: [] },
        'the request has no inputs; the model takes one input, "float_input" FP32 [-1, 10]',
      ],
      [
        'another datatype',
        { inputs: [input({ datatype: 'FP64' })] },
        'input "float_input" has datatype FP64; the model takes FP32',
      ],
      [
        'a shape with too few features',
        { inputs: [input({ shape: [1, 9], data: row.slice(0, 9) })] },
        'input "float_input" has shape [1, 9]; the model takes [-1, 10]: rows of 10 features',
      ],
      [
        'a shape the data does not fill',
        { inputs: [input({ shape: [2, 10] })] },
        'input "float_input" has 10 values in data; shape [2, 10] holds 20',
      ],
      [
        'a string among the numbers',
        { inputs: [input({ data: [...row.slice(0, 3), '0.4', ...row.slice(4)] })] },
        'float_input[0][3] must be a number, got the string "0.4"',
      ],
      [
        'an output the model does not have',
        { inputs: [input()], outputs: [{ name: 'probabilities' }] },
        'the model has no output "probabilities"; it has "output_label", "output_probability"',
      ],
      [
        'inputs that are not a list',
        { inputs: 'float_input' },
        /^2 problems with the input: inputs must be an array of input tensors;/,
      ],
      [
        'a negative dimension',
        { inputs: [input({ shape: [1, -10] })] },
        'inputs[0].shape must be an array of non-negative integers',
      ],
      ['an id that is not a string', { id: 42, inputs: [input()] }, 'id must be a string'],
      ['an unknown member', { inputs: [input()], input: [] }, 'property input should not exist'],
    ])('400 for %s, naming what was expected', async (_, body, message) => {
      const res = await infer('seed_gbc', body).expect(400);
      expectError(res, 'inference_error_response', message);
    });

    it('400 for non-finite numbers, as on the other routes', async () => {
      for (const bad of ['NaN', 'Infinity', '-Infinity', '1e999']) {
        const res = await request(server())
          .post('/v2/models/seed_gbc/infer')
          .set(AUTH)
          .set('Content-Type', 'application/json')
          .send(
            `{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,10],"data":[${bad},${row.slice(1).join(',')}]}]}`,
          )
          .expect(400);
        expectError(res, 'inference_error_response', /inputs\[0\]\.data\[0\].*finite/);
      }
    });

    it('400 for malformed JSON, 415 for a body that is not JSON', async () => {
      const malformed = await request(server())
        .post('/v2/models/seed_gbc/infer')
        .set(AUTH)
        .set('Content-Type', 'application/json')
        .send('{"inputs": [')
        .expect(400);
      expectError(malformed, 'inference_error_response', /^The body is not valid JSON/);
      const binary = await request(server())
        .post('/v2/models/seed_gbc/infer')
        .set(AUTH)
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from('{}'))
        .expect(415);
      expectError(binary, 'inference_error_response', /^The body must be JSON/);
    });

    it('401 without a key or with a wrong one, on every route but the probes', async () => {
      const calls: Array<[() => request.Test, OpenInferenceResponseSchema]> = [
        [() => request(server()).get('/v2'), 'metadata_server_error_response'],
        [() => request(server()).get('/v2/models/seed_gbc'), 'metadata_model_error_response'],
        [() => request(server()).get('/v2/models/seed_gbc/versions/1'), 'metadata_model_error_response'],
        [() => request(server()).get('/v2/models/seed_gbc/ready'), 'metadata_model_error_response'],
        [
          () =>
            request(server())
              .post('/v2/models/seed_gbc/infer')
              .send({ inputs: [input()] }),
          'inference_error_response',
        ],
        [
          () =>
            request(server())
              .post('/v2/models/seed_gbc/versions/1/infer')
              .send({ inputs: [input()] }),
          'inference_error_response',
        ],
      ];
      for (const [call, schema] of calls) {
        const missing = await call().expect(401);
        expect(missing.headers['www-authenticate']).toBe('Bearer');
        expectError(missing, schema, /^An API key is required/);
        const wrong = await call().set('Authorization', 'Bearer not-the-key-0123456789').expect(401);
        expectError(wrong, schema, 'The API key is not valid.');
      }
    });

    it('404 for an unknown model or version', async () => {
      expectError(
        await get('/v2/models/nope').expect(404),
        'metadata_model_error_response',
        /^No model named "nope" is served here\. Served models: .*seed_gbc/,
      );
      expectError(
        await infer('nope', { inputs: [input()] }).expect(404),
        'inference_error_response',
        /^No model named "nope"/,
      );
      const version = 'Model "seed_gbc" has no version "2" here; the served version is "1".';
      expectError(
        await get('/v2/models/seed_gbc/versions/2').expect(404),
        'metadata_model_error_response',
        version,
      );
      expectError(
        await get('/v2/models/seed_gbc/versions/2/ready').expect(404),
        'metadata_model_error_response',
        version,
      );
      expectError(
        await request(server())
          .post('/v2/models/seed_gbc/versions/2/infer')
          .set(AUTH)
          .send({ inputs: [input()] })
          .expect(404),
        'inference_error_response',
        version,
      );
      expectError(
        await get('/v2/repository/index').expect(404),
        'inference_error_response',
        'Cannot GET /v2/repository/index',
      );
    });

    it('413 for a body over BODY_LIMIT and for more rows than MAX_BATCH_SIZE', async () => {
      const many = randomRows(700, 10, 3);
      const large = await infer('seed_gbc', { inputs: [tensor('float_input', many)] }).expect(413);
      expectError(
        large,
        'inference_error_response',
        'The body is larger than the limit of 64kb (BODY_LIMIT).',
      );
      const rows = await infer('seed_gbc', { inputs: [tensor('float_input', many.slice(0, 33))] }).expect(
        413,
      );
      expectError(rows, 'inference_error_response', /33 .*at most 32 .*MAX_BATCH_SIZE/);
    });
  });

  it('documents the V2 routes in Swagger, and its example works against the shipped model', async () => {
    const doc = bodyOf<OpenApiDocument>(await request(server()).get('/docs-json').expect(200));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/{name}',
        '/v2/models/{name}/versions/{version}',
        '/v2/models/{name}/ready',
        '/v2/models/{name}/versions/{version}/ready',
        '/v2/models/{name}/infer',
        '/v2/models/{name}/versions/{version}/infer',
      ]),
    );
    expect(doc.paths['/v2/health/ready'].get.security).toBeUndefined();
    const parameters = (path: string) =>
      (doc.paths[path].post.parameters as Array<{ name: string; in: string }>).map(
        (p) => `${p.in}:${p.name}`,
      );
    // The header of Triton's binary tensor data extension (test/open-inference-binary.e2e-spec.ts).
    expect(parameters('/v2/models/{name}/infer')).toEqual([
      'path:name',
      'header:Inference-Header-Content-Length',
    ]);
    expect(parameters('/v2/models/{name}/versions/{version}/infer')).toEqual([
      'path:name',
      'path:version',
      'header:Inference-Header-Content-Length',
    ]);
    expect(doc.paths['/v2/models/{name}/infer'].post.security).toEqual(
      expect.arrayContaining([{ bearer: [] }, { 'api-key': [] }]),
    );
    expect(doc.paths['/v2/models/{name}/infer'].post.responses['400'].content).toHaveProperty(
      'application/json',
    );
    const example = Object.fromEntries(
      Object.entries(doc.components.schemas.InferenceRequest.properties).map(([key, value]) => [
        key,
        (value as { example: unknown }).example,
      ]),
    );
    const res = await infer('seed_gbc', example).expect(200);
    expectValid('inference_response', res.body);
  });
});

describe('Open Inference Protocol (V2) readiness', () => {
  it('is 503 until the models load and again once shutdown begins; live throughout', async () => {
    const app = await startApp({ MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx` }, { load: false });
    try {
      const server = app.getHttpServer();
      const row = randomRows(1, 10, 9)[0];
      const inferRequest = { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 10], data: row }] };
      expect((await request(server).get('/v2/health/live').expect(200)).body).toEqual({ live: true });
      const server503 = await request(server).get('/v2/health/ready').expect(503);
      expectError(
        server503,
        'metadata_server_error_response',
        'The server is not ready: the models have not begun loading.',
      );
      const loading = 'Model "seed_gbc_zipmap" is still loading; retry shortly.';
      const model503 = await request(server).get('/v2/models/seed_gbc_zipmap/ready').expect(503);
      expect(model503.headers['retry-after']).toBe('1');
      expectError(model503, 'metadata_model_error_response', loading);
      expectError(
        await request(server).get('/v2/models/seed_gbc_zipmap').expect(503),
        'metadata_model_error_response',
        loading,
      );
      expectError(
        await request(server).post('/v2/models/seed_gbc_zipmap/infer').send(inferRequest).expect(503),
        'inference_error_response',
        loading,
      );

      await app.get(ModelRegistry).loadAll();
      expect((await request(server).get('/v2/health/ready').expect(200)).body).toEqual({ ready: true });
      expect((await request(server).get('/v2/models/seed_gbc_zipmap/ready').expect(200)).body).toEqual({
        name: 'seed_gbc_zipmap',
        ready: true,
      });
      expectValid(
        'inference_response',
        (await request(server).post('/v2/models/seed_gbc_zipmap/infer').send(inferRequest).expect(200)).body,
      );

      app.get(ModelRegistry).beginShutdown();
      expectError(
        await request(server).get('/v2/health/ready').expect(503),
        'metadata_server_error_response',
        'The server is not ready: it is shutting down.',
      );
      await request(server).get('/v2/health/live').expect(200);
    } finally {
      await app.close();
    }
  });

  it("is 503 with Retry-After when the model's queue is full", async () => {
    const app = await startApp({ MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx`, MAX_QUEUE_ROWS: '1' });
    try {
      const rows = randomRows(2, 10, 13);
      const res = await request(app.getHttpServer())
        .post('/v2/models/seed_gbc_zipmap/infer')
        .send({ inputs: [tensor('float_input', rows)] })
        .expect(503);
      expect(res.headers['retry-after']).toBe('1');
      expectError(res, 'inference_error_response', /MAX_QUEUE_ROWS/);
    } finally {
      await app.close();
    }
  });
});
