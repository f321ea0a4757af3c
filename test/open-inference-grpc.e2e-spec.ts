import { expect, jest } from '@jest/globals';
import { ModelRegistry, type ModelManifest } from '@app/inference';
import type { OpenInferenceError } from '@app/observability/problems/open-inference-error';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { KServePredictResponse, ModelDescription } from '../apps/inference-api/src/models/kserve.dto';
import type { PredictResponse } from '../apps/inference-api/src/predict/predict.dto';
import type {
  InferenceResponse,
  ModelMetadataResponse,
  ServerMetadataResponse,
} from '../apps/inference-api/src/v2/open-inference.dto';
import { GrpcApiKeyGuard } from '../apps/inference-api/src/grpc/grpc-api-key.guard';
import { GrpcEndpoint } from '../apps/inference-api/src/grpc/grpc-endpoint';
import { FIXTURES, startApp } from './support/app';
import { expectClose, readGolden } from './support/golden';
import { bodyOf } from './support/http';
import { type CallResult, OpenInferenceGrpcClient } from './support/grpc-client';
import { randomRows, writeModel } from './support/onnx-model-builder';
import { freePort, ServerProcess } from './support/server-process';
import { UNSEEN_MODELS } from './support/unseen-models';
import { loggedRecords } from './support/logged-records';

const KEY = 'grpc-spec-key-0123456789abcdef';
const AUTH = { 'x-api-key': KEY };
const HTTP_AUTH = { 'X-API-Key': KEY };

/*
 * The Open Inference Protocol over gRPC, driven by a client built from the vendored .proto (test/support/
 * grpc-client.ts), against the real app: its answers are held to the REST routes' (/predict, KServe V1, V2) for the
 * same rows, to the exporters' golden files, and its refusals to REST's messages.
 */

// ---------------------------------------------------------------------------------------------------------------
// Tensors as the client sends and reads them, written here independently of the server's codec.

type Tensor = { datatype: string; shape: number[]; data: Array<number | string> };

function rawFp32(rows: readonly number[][]): Buffer {
  const values = rows.flat();
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

/** Raw output bytes, little-endian, BYTES elements each after a 4-byte length. */
function rawValues(datatype: string, bytes: Buffer): Array<number | string> {
  switch (datatype) {
    case 'FP32':
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    case 'INT64':
      return Array.from({ length: bytes.length / 8 }, (_, i) => Number(bytes.readBigInt64LE(i * 8)));
    case 'BYTES': {
      const values: string[] = [];
      for (let offset = 0; offset < bytes.length;) {
        const length = bytes.readUInt32LE(offset);
        values.push(bytes.subarray(offset + 4, offset + 4 + length).toString('utf8'));
        offset += 4 + length;
      }
      return values;
    }
    default:
      throw new Error(`this spec reads no ${datatype} outputs`);
  }
}

interface OutputMessage {
  name: string;
  datatype: string;
  shape: number[];
  contents: Record<string, unknown[]> | null;
}
interface InferMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: OutputMessage[];
  raw_output_contents: Buffer[];
}

const TYPED_FIELD: Record<string, string> = {
  FP32: 'fp32_contents',
  INT64: 'int64_contents',
  BYTES: 'bytes_contents',
};

/** The outputs of a response by name, from raw or typed contents, whichever the response has. */
function outputsOf(response: InferMessage): Record<string, Tensor> {
  const raw = response.raw_output_contents.length > 0;
  return Object.fromEntries(
    response.outputs.map((output, i) => {
      let data: Array<number | string>;
      if (raw) {
        expect(output.contents).toBeNull();
        data = rawValues(output.datatype, response.raw_output_contents[i]);
      } else {
        const values = output.contents?.[TYPED_FIELD[output.datatype]] ?? [];
        data = values.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : (value as number)));
      }
      return [output.name, { datatype: output.datatype, shape: output.shape, data }];
    }),
  );
}

function rowsOf(tensor: Tensor): Array<Array<number | string>> {
  const columns = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: tensor.shape[0] }, (_, r) => tensor.data.slice(r * columns, (r + 1) * columns));
}

const typedInput = (rows: readonly number[][], overrides: Record<string, unknown> = {}) => ({
  name: 'float_input',
  datatype: 'FP32',
  shape: [rows.length, rows[0].length],
  contents: { fp32_contents: rows.flat() },
  ...overrides,
});

const rawInput = (rows: readonly number[][], overrides: Record<string, unknown> = {}) => ({
  name: 'float_input',
  datatype: 'FP32',
  shape: [rows.length, rows[0].length],
  ...overrides,
});

function ok<T>(result: CallResult<T>): T {
  if (!result.ok) throw new Error(`the call failed: ${result.codeName} ${result.details}`);
  return result.response;
}

function expectStatus<T>(result: CallResult<T>, code: status, details: string | RegExp): void {
  if (result.ok) throw new Error(`the call succeeded: ${JSON.stringify(result.response)}`);
  expect(status[result.code]).toBe(status[code]);
  if (typeof details === 'string') expect(result.details).toBe(details);
  else expect(result.details).toMatch(details);
}

// ---------------------------------------------------------------------------------------------------------------
// The models

/** Which output carries what the KServe V1 route answers, per model kind. */
interface ServedModelCase {
  name: string;
  featureCount: number;
  label?: string;
  /** [rows, classes] probabilities in the order of labels. */
  probabilities?: string;
  /** [rows, 1] probability of the second class (a graph ending in Sigmoid). */
  positive?: string;
  /** Regression values per row. */
  value?: string;
}

const CASES: ServedModelCase[] = [
  { name: 'seed_gbc', featureCount: 10, label: 'output_label', probabilities: 'output_probability' },
  { name: 'seed_torch_mlp', featureCount: 10, probabilities: 'probabilities' },
  { name: 'iris_strings', featureCount: 4, label: 'output_label', probabilities: 'output_probability' },
  { name: 'digits_nozipmap', featureCount: 6, label: 'output_label', probabilities: 'output_probability' },
  { name: 'house_prices', featureCount: 5, value: 'variable' },
  { name: 'mlp_fixed_batch', featureCount: 6, probabilities: 'probabilities' },
  { name: 'mlp_softmax', featureCount: 7, probabilities: 'output' },
  { name: 'mlp_sigmoid', featureCount: 5, positive: 'output' },
  { name: 'mlp_two_targets', featureCount: 4, value: 'output' },
];

/** The shipped model, the two fixture exports and models the service has never seen. */
async function writeRepository(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'open-inference-grpc-'));
  await writeModel(root, {
    name: 'seed_gbc',
    bytes: readFileSync('models/seed_gbc/1/model.onnx'),
    manifest: JSON.parse(readFileSync('models/seed_gbc/1/model.json', 'utf8')) as ModelManifest,
  });
  for (const fixture of ['seed_gbc_zipmap', 'seed_torch_mlp']) {
    await writeModel(root, { name: fixture, bytes: readFileSync(`${FIXTURES}/${fixture}.onnx`) });
  }
  for (const model of UNSEEN_MODELS) await writeModel(root, model);
  return root;
}

/** The app as main.ts runs it, with its gRPC server bound on a port of its own (ModelInfer in the fast lane). */
async function startGrpcApp(
  env: Record<string, string>,
  { load = true }: { load?: boolean } = {},
): Promise<{ app: NestExpressApplication; client: OpenInferenceGrpcClient }> {
  const port = freePort();
  const app = await startApp({ ...env, GRPC_PORT: String(port) }, { load });
  await app.startAllMicroservices();
  app.get(GrpcEndpoint).started();
  return { app, client: new OpenInferenceGrpcClient(`127.0.0.1:${port}`) };
}

// Every case twice: ModelInfer in the fast lane (ModelInferLane) and through Nest's whole pipeline.
describe.each(['on', 'off'])('Open Inference Protocol (V2) over gRPC, fast lane %s', (lane) => {
  let app: NestExpressApplication;
  let client: OpenInferenceGrpcClient;
  let logDir: string;
  const http = () => request(app.getHttpServer());
  const infer = (body: object, metadata: Record<string, string> = AUTH) =>
    client.call<InferMessage>('ModelInfer', body, metadata);

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'open-inference-grpc-log-'));
    ({ app, client } = await startGrpcApp({
      MODEL_REPOSITORY: await writeRepository(),
      DEFAULT_MODEL: 'seed_gbc',
      API_KEYS: KEY,
      BODY_LIMIT: '64kb',
      PREDICTION_LOG_DIR: logDir,
      FAST_LANE_ENABLED: String(lane === 'on'),
    }));
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  describe('server', () => {
    it('is live and ready without a key, as the REST probes are', async () => {
      expect(ok(await client.call('ServerLive', {}))).toEqual({ live: true });
      expect(ok(await client.call('ServerReady', {}))).toEqual({ ready: true });
    });

    it('describes itself as GET /v2 does', async () => {
      const metadata = ok(await client.call('ServerMetadata', {}, AUTH));
      expect(metadata).toEqual({ name: 'ml-inference', version: expect.any(String), extensions: [] });
      expect(metadata.version).toBe(
        bodyOf<ServerMetadataResponse>(await http().get('/v2').set(HTTP_AUTH).expect(200)).version,
      );
    });

    it('answers the standard health service: SERVING for the server and for the inference service', async () => {
      expect(ok(await client.check(''))).toEqual({ status: 'SERVING' });
      expect(ok(await client.check('inference.GRPCInferenceService'))).toEqual({ status: 'SERVING' });
      expectStatus(await client.check('no.such.Service'), status.NOT_FOUND, /no\.such\.Service/);
      const watch = client.watch('');
      await waitFor(() => watch.statuses.length > 0);
      expect(watch.statuses).toEqual(['SERVING']);
      watch.stop();
    });
  });

  describe.each(CASES.map((c) => [c.name, c] as const))('%s', (name, model) => {
    it('describes itself as GET /v2/models/{name} does', async () => {
      const grpc = ok(await client.call('ModelMetadata', { name }, AUTH));
      const rest = bodyOf<ModelMetadataResponse>(
        await http().get(`/v2/models/${name}`).set(HTTP_AUTH).expect(200),
      );
      expect(grpc).toEqual(rest);
      expect(ok(await client.call('ModelMetadata', { name, version: '1' }, AUTH))).toEqual(rest);
    });

    it('is ready, in its one version', async () => {
      expect(ok(await client.call('ModelReady', { name }, AUTH))).toEqual({ ready: true });
      expect(ok(await client.call('ModelReady', { name, version: '1' }, AUTH))).toEqual({ ready: true });
      expectStatus(
        await client.call('ModelReady', { name, version: '2' }, AUTH),
        status.NOT_FOUND,
        `Model "${name}" has no version "2" here; the served version is "1".`,
      );
    });

    it('answers typed and raw contents alike, as KServe V1 does for the same rows, to 1e-6', async () => {
      const rows = randomRows(13, model.featureCount, model.featureCount * 11 + 3);
      const metadata = ok(
        await client.call<{ inputs: Array<{ name: string }> }>('ModelMetadata', { name }, AUTH),
      );
      const inputName = { name: metadata.inputs[0].name };
      const typed = ok(
        await infer({ model_name: name, id: `typed-${name}`, inputs: [typedInput(rows, inputName)] }),
      );
      const raw = ok(
        await infer({
          model_name: name,
          model_version: '1',
          inputs: [rawInput(rows, inputName)],
          raw_input_contents: [rawFp32(rows)],
        }),
      );
      expect(typed).toMatchObject({ model_name: name, model_version: '1', id: `typed-${name}` });
      expect(typed.raw_output_contents).toEqual([]);
      expect(raw.raw_output_contents).toHaveLength(raw.outputs.length);
      const outputs = outputsOf(typed);
      // Raw answers raw, typed answers typed: the same tensors either way.
      expect(outputsOf(raw)).toEqual(outputs);
      for (const output of Object.values(outputs)) expect(output.shape[0]).toBe(rows.length);

      const v1 = bodyOf<KServePredictResponse>(
        await http().post(`/v1/models/${name}:predict`).set(HTTP_AUTH).send({ instances: rows }).expect(200),
      ).predictions;
      const labels = (
        bodyOf<ModelDescription>(await http().get(`/v1/models/${name}`).set(HTTP_AUTH).expect(200)).labels ??
        []
      ).map(String);
      expect(v1).toHaveLength(rows.length);
      v1.forEach((prediction, i) => {
        if (model.label) expect(rowsOf(outputs[model.label])[i]).toEqual([prediction.label]);
        const probabilities = prediction.probabilities as Record<string, number>;
        if (model.probabilities) {
          const served = rowsOf(outputs[model.probabilities])[i] as number[];
          expect(served).toHaveLength(labels.length);
          labels.forEach((label, column) => expectClose(served[column], probabilities[label], 1e-6));
        }
        if (model.positive) {
          const [p] = rowsOf(outputs[model.positive])[i] as number[];
          expectClose(p, probabilities[labels[1]], 1e-6);
        }
        if (model.value) {
          const served = rowsOf(outputs[model.value])[i] as number[];
          const value = prediction.value as number | number[];
          const values = Array.isArray(value) ? value : [value];
          expect(served).toHaveLength(values.length);
          values.forEach((v, k) => expectClose(served[k], v, 1e-6));
        }
      });
    });
  });

  describe('inference', () => {
    it(`takes ModelInfer ${lane === 'on' ? 'beneath' : 'through'} Nest's per-call pipeline`, async () => {
      const guard = jest.spyOn(GrpcApiKeyGuard.prototype, 'canActivate');
      try {
        ok(await infer({ model_name: 'seed_gbc', inputs: [typedInput(randomRows(1, 10, 5))] }));
        ok(await client.call('ModelReady', { name: 'seed_gbc' }, AUTH));
        // The lane checks the key itself; every other method goes through Nest's guard either way.
        expect(guard).toHaveBeenCalledTimes(lane === 'on' ? 1 : 2);
      } finally {
        guard.mockRestore();
      }
    });

    it('answers as POST /predict does for each row of the default model, to 1e-6', async () => {
      const rows = randomRows(4, 10, 41);
      const outputs = outputsOf(
        ok(
          await infer({
            model_name: 'seed_gbc',
            inputs: [rawInput(rows)],
            raw_input_contents: [rawFp32(rows)],
          }),
        ),
      );
      const probabilities = rowsOf(outputs.output_probability) as number[][];
      for (const [i, row] of rows.entries()) {
        const seed = bodyOf<PredictResponse>(
          await http().post('/predict').set(HTTP_AUTH).send({ features: row }).expect(200),
        );
        expect(outputs.output_label.data[i]).toBe(seed.prediction);
        probabilities[i].forEach((p, k) => expectClose(p, seed.probabilities?.[String(k)], 1e-6));
      }
    });

    it('answers the same tensors as POST /v2/models/{name}/infer', async () => {
      const rows = randomRows(5, 4, 8);
      const grpc = outputsOf(ok(await infer({ model_name: 'iris_strings', inputs: [typedInput(rows)] })));
      const rest = bodyOf<InferenceResponse>(
        await http()
          .post('/v2/models/iris_strings/infer')
          .set(HTTP_AUTH)
          .send({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [5, 4], data: rows.flat() }] })
          .expect(200),
      );
      expect(grpc).toEqual(Object.fromEntries(rest.outputs.map(({ name, ...tensor }) => [name, tensor])));
      // String labels travel as BYTES.
      expect(grpc.output_label.datatype).toBe('BYTES');
      expect(
        grpc.output_label.data.every((label) =>
          ['setosa', 'versicolor', 'virginica'].includes(String(label)),
        ),
      ).toBe(true);
    });

    it('returns the outputs asked for, in that order, and echoes the id', async () => {
      const rows = randomRows(2, 10, 3);
      const response = ok(
        await infer({
          model_name: 'seed_torch_mlp',
          id: 'req-9',
          parameters: { priority: { int64_param: 1 } },
          inputs: [typedInput(rows)],
          outputs: [{ name: 'probabilities' }, { name: 'output' }],
        }),
      );
      expect(response.id).toBe('req-9');
      expect(response.outputs.map((o) => o.name)).toEqual(['probabilities', 'output']);
    });

    it("serves the scikit-learn fixture's labels and probabilities as the exporter computed them", async () => {
      const golden = readGolden('seed_gbc_zipmap');
      for (let start = 0; start < golden.inputs.length; start += 32) {
        const rows = golden.inputs.slice(start, start + 32);
        const outputs = outputsOf(
          ok(
            await infer({
              model_name: 'seed_gbc_zipmap',
              inputs: [rawInput(rows)],
              raw_input_contents: [rawFp32(rows)],
            }),
          ),
        );
        expect(outputs.output_label.data).toEqual(golden.labels.slice(start, start + 32));
        rowsOf(outputs.output_probability).forEach((row, i) =>
          (row as number[]).forEach((p, k) => expectClose(p, golden.probabilities[start + i][k])),
        );
      }
    });

    it("serves the PyTorch fixture's logits and their softmax as the exporter computed them", async () => {
      const golden = readGolden('seed_torch_mlp');
      const rows = golden.inputs.slice(0, 32);
      const outputs = outputsOf(
        ok(
          await infer({
            model_name: 'seed_torch_mlp',
            inputs: [rawInput(rows)],
            raw_input_contents: [rawFp32(rows)],
          }),
        ),
      );
      rowsOf(outputs.output).forEach((row, i) =>
        (row as number[]).forEach((z, k) => expectClose(z, (golden.logits as number[][])[i][k])),
      );
      rowsOf(outputs.probabilities).forEach((row, i) =>
        (row as number[]).forEach((p, k) => expectClose(p, golden.probabilities[i][k])),
      );
    });

    it('runs through the prediction service: prediction log, metrics, request id', async () => {
      const metric = async (series: string, match: string) =>
        (await http().get('/metrics').expect(200)).text
          .split('\n')
          .filter((line) => line.startsWith(series) && line.includes(match))
          .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      const inferOk = 'method="inference.GRPCInferenceService/ModelInfer",code="OK"';
      const predictionsBefore = await metric('model_predictions_total{', 'model="digits_nozipmap"');
      const batchedBefore = await metric('model_batch_rows_sum{', 'model="digits_nozipmap"');
      const callsBefore = await metric('grpc_requests_total{', inferOk);
      const durationBefore = await metric('grpc_request_duration_seconds_count{', inferOk);
      const refusedBefore = await metric(
        'grpc_requests_total{',
        'method="inference.GRPCInferenceService/ModelInfer",code="INVALID_ARGUMENT"',
      );

      const logged = randomRows(5, 6, 77);
      const answer = await infer(
        { model_name: 'digits_nozipmap', inputs: [rawInput(logged)], raw_input_contents: [rawFp32(logged)] },
        { ...AUTH, 'x-request-id': 'grpc-logged' },
      );
      ok(answer);
      // The request id comes back, as X-Request-Id does over HTTP.
      expect(answer.ok && answer.metadata.get('x-request-id')).toEqual(['grpc-logged']);
      expectStatus(
        await infer({ model_name: 'digits_nozipmap', inputs: [] }),
        status.INVALID_ARGUMENT,
        /^the request has no inputs/,
      );

      expect((await metric('model_predictions_total{', 'model="digits_nozipmap"')) - predictionsBefore).toBe(
        5,
      );
      expect((await metric('model_batch_rows_sum{', 'model="digits_nozipmap"')) - batchedBefore).toBe(5);
      expect((await metric('grpc_requests_total{', inferOk)) - callsBefore).toBe(1);
      expect((await metric('grpc_request_duration_seconds_count{', inferOk)) - durationBefore).toBe(1);
      expect(
        (await metric(
          'grpc_requests_total{',
          'method="inference.GRPCInferenceService/ModelInfer",code="INVALID_ARGUMENT"',
        )) - refusedBefore,
      ).toBe(1);

      const records = (await loggedRecords(logDir, app)).filter(
        (record) => record.request_id === 'grpc-logged',
      );
      expect(records.map((record) => [record.model, record.features])).toEqual(
        logged.map((row) => ['digits_nozipmap', row]),
      );
    });
  });

  describe('refusals, with the messages REST gives', () => {
    const row = randomRows(1, 10, 5)[0];
    const restInput = (overrides: Record<string, unknown> = {}) => ({
      name: 'float_input',
      datatype: 'FP32',
      shape: [1, 10],
      data: row,
      ...overrides,
    });

    /** The same request over REST (V2 JSON) and over gRPC (typed contents): the same refusal, word for word. */
    it.each([
      ['an input the model does not have', { name: 'input0' }, undefined],
      ['another datatype', { datatype: 'FP64' }, undefined],
      ['a shape with too few features', { shape: [1, 9], data: row.slice(0, 9) }, undefined],
      ['a shape the data does not fill', { shape: [2, 10] }, undefined],
      ['a negative dimension', { shape: [1, -10] }, undefined],
      ['an output the model does not have', {}, [{ name: 'probabilities' }]],
    ])('INVALID_ARGUMENT for %s', async (_, overrides, outputs) => {
      const rest = bodyOf<OpenInferenceError>(
        await http()
          .post('/v2/models/seed_gbc/infer')
          .set(HTTP_AUTH)
          .send({ inputs: [restInput(overrides)], ...(outputs ? { outputs } : {}) })
          .expect(400),
      ).error;
      const { data, ...tensor } = restInput(overrides);
      const grpc = await infer({
        model_name: 'seed_gbc',
        inputs: [{ ...tensor, contents: { fp32_contents: data } }],
        ...(outputs ? { outputs } : {}),
      });
      expectStatus(grpc, status.INVALID_ARGUMENT, rest);
    });

    it('INVALID_ARGUMENT for no inputs and for more rows than MAX_BATCH_SIZE, as REST', async () => {
      const rows = randomRows(33, 10, 3);
      for (const [inputs, data] of [
        [[], []],
        [[rawInput(rows)], [rawFp32(rows)]],
      ] as const) {
        const rest = bodyOf<OpenInferenceError>(
          await http()
            .post('/v2/models/seed_gbc/infer')
            .set(HTTP_AUTH)
            .send({
              inputs: inputs.map((input) => ({ ...input, data: rows.flat() })),
            }),
        ).error;
        expectStatus(
          await infer({ model_name: 'seed_gbc', inputs, raw_input_contents: data }),
          status.INVALID_ARGUMENT,
          rest,
        );
      }
    });

    it('INVALID_ARGUMENT for what only gRPC can get wrong, naming the input', async () => {
      const bytes = rawFp32([row]);
      const cases: Array<[object, string | RegExp]> = [
        [
          { inputs: [typedInput([row], { contents: { fp64_contents: row } })] },
          'input "float_input" is FP32, whose values go in contents.fp32_contents; it has values in contents.fp64_contents',
        ],
        [
          { inputs: [rawInput([row])], raw_input_contents: [bytes, bytes] },
          'the request has 2 raw_input_contents for 1 input; send one for each input, in the order of inputs',
        ],
        [
          { inputs: [typedInput([row])], raw_input_contents: [bytes] },
          'input "float_input" has contents while the request has raw_input_contents; send its data in one of them',
        ],
        [
          { inputs: [rawInput([row])], raw_input_contents: [bytes.subarray(0, 39)] },
          /^input "float_input" has 39 bytes of raw data; a FP32 element takes 4/,
        ],
        [
          // Checked before the bytes are read: the datatype is what is wrong, whatever the bytes would mean.
          { inputs: [rawInput([row], { datatype: 'FP64' })], raw_input_contents: [bytes.subarray(0, 36)] },
          'input "float_input" has datatype FP64; the model takes FP32',
        ],
        [
          { inputs: [typedInput([[Number.NaN, ...row.slice(1)]])] },
          'float_input[0][0] is NaN; only finite numbers are accepted',
        ],
        [{ inputs: [rawInput([row])] }, 'input "float_input" has 0 values in data; shape [1, 10] holds 10'],
      ];
      for (const [body, message] of cases) {
        expectStatus(await infer({ model_name: 'seed_gbc', ...body }), status.INVALID_ARGUMENT, message);
      }
    });

    it('RESOURCE_EXHAUSTED for a message over BODY_LIMIT, counted as such', async () => {
      const count = async (code: string) =>
        (await http().get('/metrics').expect(200)).text
          .split('\n')
          .filter((line) =>
            line.startsWith(
              `grpc_requests_total{method="inference.GRPCInferenceService/ModelInfer",code="${code}"}`,
            ),
          )
          .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      const [exhausted, cancelled] = [await count('RESOURCE_EXHAUSTED'), await count('CANCELLED')];
      const rows = randomRows(2000, 10, 3);
      expectStatus(
        await infer({
          model_name: 'seed_gbc',
          inputs: [rawInput(rows)],
          raw_input_contents: [rawFp32(rows)],
        }),
        status.RESOURCE_EXHAUSTED,
        /larger than max/,
      );
      // grpc-js refuses it before any handler runs; the call is still counted, with its own status.
      expect((await count('RESOURCE_EXHAUSTED')) - exhausted).toBe(1);
      expect(await count('CANCELLED')).toBe(cancelled);
      ok(await client.call('ServerLive', {}));
    });

    it('NOT_FOUND for an unknown model or version, as REST', async () => {
      const unknown = bodyOf<OpenInferenceError>(
        await http().get('/v2/models/nope').set(HTTP_AUTH).expect(404),
      ).error;
      expect(unknown).toMatch(/^No model named "nope" is served here\. Served models: .*seed_gbc/);
      expectStatus(
        await infer({ model_name: 'nope', inputs: [typedInput([row])] }),
        status.NOT_FOUND,
        unknown,
      );
      expectStatus(await client.call('ModelMetadata', { name: 'nope' }, AUTH), status.NOT_FOUND, unknown);
      expectStatus(await client.call('ModelReady', { name: 'nope' }, AUTH), status.NOT_FOUND, unknown);
      expectStatus(
        await infer({ model_name: 'seed_gbc', model_version: '2', inputs: [typedInput([row])] }),
        status.NOT_FOUND,
        'Model "seed_gbc" has no version "2" here; the served version is "1".',
      );
    });

    it('UNAUTHENTICATED without a key or with a wrong one, on every method but the probes', async () => {
      const calls: Array<[string, object]> = [
        ['ServerMetadata', {}],
        ['ModelMetadata', { name: 'seed_gbc' }],
        ['ModelReady', { name: 'seed_gbc' }],
        ['ModelInfer', { model_name: 'seed_gbc', inputs: [typedInput([row])] }],
      ];
      for (const [method, body] of calls) {
        expectStatus(
          await client.call(method, body),
          status.UNAUTHENTICATED,
          'An API key is required: send the metadata "authorization: Bearer <key>" or "x-api-key: <key>".',
        );
        expectStatus(
          await client.call(method, body, { authorization: 'Bearer not-the-key-0123456789' }),
          status.UNAUTHENTICATED,
          'The API key is not valid.',
        );
        expectStatus(
          await client.call(method, body, { 'x-api-key': `${KEY}x` }),
          status.UNAUTHENTICATED,
          'The API key is not valid.',
        );
        ok(await client.call(method, body, { authorization: `Bearer ${KEY}` }));
      }
    });

    it('survives bytes that are no ModelInferRequest at all', async () => {
      const Raw = makeGenericClientConstructor(
        {
          ModelInfer: {
            path: '/inference.GRPCInferenceService/ModelInfer',
            requestStream: false,
            responseStream: false,
            requestSerialize: (value: Buffer) => value,
            requestDeserialize: (value: Buffer) => value,
            responseSerialize: (value: Buffer) => value,
            responseDeserialize: (value: Buffer) => value,
          },
        },
        'Raw',
      );
      const raw = new Raw(client.address, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set('x-api-key', KEY);
      for (const garbage of [
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
        Buffer.from('not protobuf at all'),
      ]) {
        const error = await new Promise<ServiceError | null>((resolve) =>
          (raw as unknown as { ModelInfer: RawUnary }).ModelInfer(garbage, metadata, (e) => resolve(e)),
        );
        expect(error?.code).not.toBe(status.OK);
        expect(error?.code).toBeDefined();
      }
      raw.close();
      expect(ok(await client.call('ServerLive', {}))).toEqual({ live: true });
      ok(await infer({ model_name: 'seed_gbc', inputs: [typedInput([row])] }));
    });
  });
});

describe('Open Inference Protocol (V2) over gRPC: readiness', () => {
  it('is not ready until the models load and again once shutdown begins; live throughout', async () => {
    const { app, client } = await startGrpcApp(
      { MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx` },
      { load: false },
    );
    try {
      const rows = randomRows(1, 10, 9);
      const watch = client.watch('');
      expect(ok(await client.call('ServerLive', {}))).toEqual({ live: true });
      expect(ok(await client.call('ServerReady', {}))).toEqual({ ready: false });
      expect(ok(await client.check(''))).toEqual({ status: 'NOT_SERVING' });
      for (const [method, body] of [
        ['ModelInfer', { model_name: 'seed_gbc_zipmap', inputs: [typedInput(rows)] }],
        ['ModelMetadata', { name: 'seed_gbc_zipmap' }],
        ['ModelReady', { name: 'seed_gbc_zipmap' }],
      ] as const) {
        expectStatus(
          await client.call(method, body),
          status.UNAVAILABLE,
          'Model "seed_gbc_zipmap" is still loading; retry shortly.',
        );
      }

      await app.get(ModelRegistry).loadAll();
      app.get(GrpcEndpoint).readinessChanged();
      expect(ok(await client.call('ServerReady', {}))).toEqual({ ready: true });
      expect(ok(await client.check(''))).toEqual({ status: 'SERVING' });
      expect(ok(await client.call('ModelReady', { name: 'seed_gbc_zipmap' }))).toEqual({ ready: true });
      ok(await client.call('ModelInfer', { model_name: 'seed_gbc_zipmap', inputs: [typedInput(rows)] }));

      app.get(ModelRegistry).beginShutdown();
      app.get(GrpcEndpoint).readinessChanged();
      expect(ok(await client.check('inference.GRPCInferenceService'))).toEqual({ status: 'NOT_SERVING' });
      expect(ok(await client.call('ServerReady', {}))).toEqual({ ready: false });
      expect(ok(await client.call('ServerLive', {}))).toEqual({ live: true });
      // The Watch stream heard every change as it happened.
      await waitFor(() => watch.statuses.length >= 3);
      expect(watch.statuses).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
      // Shutting the server down ends it rather than leaving it to hold the drain.
      await app.get(GrpcEndpoint).close();
      expect((await watch.ended).code).toBe(status.OK);
    } finally {
      client.close();
      await app.close();
    }
  });

  it("is UNAVAILABLE when the model's queue is full", async () => {
    const { app, client } = await startGrpcApp({
      MODEL_PATH: `${FIXTURES}/seed_gbc_zipmap.onnx`,
      MAX_QUEUE_ROWS: '1',
    });
    try {
      const rows = randomRows(2, 10, 13);
      expectStatus(
        await client.call('ModelInfer', { model_name: 'seed_gbc_zipmap', inputs: [typedInput(rows)] }),
        status.UNAVAILABLE,
        /MAX_QUEUE_ROWS/,
      );
    } finally {
      client.close();
      await app.close();
    }
  });
});

/** The built service (`npm run build` first), as main.ts runs it. */
describe('Open Inference Protocol (V2) over gRPC: the service process', () => {
  const started: ServerProcess[] = [];
  afterEach(() => started.splice(0).forEach((server) => server.kill()));

  function start(env: Record<string, string>) {
    const port = freePort();
    const grpcPort = freePort();
    const server = ServerProcess.start({
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      MODEL_REPOSITORY: './models',
      API_KEYS: KEY,
      LOG_LEVEL: 'info',
      ...env,
    });
    started.push(server);
    return { server, base: `http://127.0.0.1:${port}`, address: `127.0.0.1:${grpcPort}` };
  }

  it('serves gRPC from every HTTP worker on one shared port, logging one line per call, metrics summed', async () => {
    const { server, base, address } = start({ HTTP_WORKERS: '2' });
    await server.waitForLog((line) => line.context === 'HttpPrimary' && line.msg === 'ready');
    const rows = randomRows(3, 10, 21);
    const ids = Array.from({ length: 12 }, (_, i) => `grpc-cluster-${i}`);
    for (const id of ids) {
      // A client (and so a connection) per call: the primary hands each new connection to the next worker.
      const client = new OpenInferenceGrpcClient(address);
      ok(
        await client.call<InferMessage>(
          'ModelInfer',
          { model_name: 'seed_gbc', inputs: [rawInput(rows)], raw_input_contents: [rawFp32(rows)] },
          { authorization: `Bearer ${KEY}`, 'x-request-id': id },
        ),
      );
      client.close();
    }
    const lines = [];
    for (const id of ids) lines.push(await server.waitForLog((line) => line.reqId === id));
    expect(new Set(lines.map((line) => line.pid)).size).toBe(2);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: 'info',
        msg: 'call completed',
        grpc: { method: 'inference.GRPCInferenceService/ModelInfer', code: 'OK', status: 0 },
        model: 'seed_gbc',
        responseTime: expect.any(Number),
      });
    }
    // Keys never reach the log.
    expect(server.stdout.join('\n')).not.toContain(KEY);

    const exposition = await (await fetch(`${base}/metrics`)).text();
    const calls = exposition
      .split('\n')
      .find((line) =>
        line.startsWith('grpc_requests_total{method="inference.GRPCInferenceService/ModelInfer",code="OK"} '),
      );
    expect(calls?.split(' ')[1]).toBe(String(ids.length));
  });

  it('drains on SIGTERM: NOT_SERVING at once, answers through the delay, finishes the call in flight, exits 0', async () => {
    // A lone call waits BATCH_MAX_DELAY_MS for company: so it is still in flight when the server stops accepting.
    const { server, address } = start({
      HTTP_WORKERS: '1',
      SHUTDOWN_DELAY_MS: '400',
      BATCH_MAX_DELAY_MS: '1000',
    });
    await server.waitForLog((line) => line.msg === 'ready');
    const client = new OpenInferenceGrpcClient(address);
    try {
      const rows = randomRows(32, 10, 17);
      const watch = client.watch('');
      await waitFor(() => watch.statuses.includes('SERVING'));
      const inferRequest = {
        model_name: 'seed_gbc',
        inputs: [rawInput(rows)],
        raw_input_contents: [rawFp32(rows)],
      };
      const inFlight = client.call<InferMessage>('ModelInfer', inferRequest, {
        ...AUTH,
        'x-request-id': 'grpc-in-flight',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      server.kill('SIGTERM');
      await server.waitForLog((line) => line.msg === 'SIGTERM received: draining');
      expect(ok(await client.check(''))).toEqual({ status: 'NOT_SERVING' });
      await waitFor(() => watch.statuses.at(-1) === 'NOT_SERVING');
      // Through SHUTDOWN_DELAY_MS calls are still answered, as HTTP requests are.
      expect(ok(await client.call('ServerMetadata', {}, AUTH))).toMatchObject({ name: 'ml-inference' });
      const answeredInDelay = Date.now();

      const stoppedAccepting = await server.waitForLog(
        (line) => line.msg === 'no longer accepting connections',
      );
      const answer = await inFlight;
      const answeredAt = Date.now();
      expect(outputsOf(ok(answer)).output_label.shape).toEqual([32]);
      // It was still waiting for its batch when the server stopped accepting.
      expect(answeredAt).toBeGreaterThan(Date.parse(String(stoppedAccepting.time)));
      expect(answeredInDelay).toBeLessThanOrEqual(Date.parse(String(stoppedAccepting.time)));
      expect((await watch.ended).code).toBe(status.OK);

      expect(await server.exitCode()).toBe(0);
      const fresh = new OpenInferenceGrpcClient(address);
      expectStatus(await fresh.call('ServerLive', {}), status.UNAVAILABLE, /.*/);
      fresh.close();
      const line = server.logLines.find((l) => l.reqId === 'grpc-in-flight');
      expect(line).toMatchObject({ grpc: { code: 'OK' }, msg: 'call completed' });
    } finally {
      client.close();
    }
  });
});

type RawUnary = (
  request: Buffer,
  metadata: Metadata,
  callback: (error: ServiceError | null) => void,
) => unknown;

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
