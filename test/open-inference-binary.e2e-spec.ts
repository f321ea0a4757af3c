import { expect } from '@jest/globals';
import type { ModelManifest } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { ServerMetadataResponse } from '../apps/inference-api/src/v2/open-inference.dto';
import { FIXTURES, startApp } from './support/app';
import { expectClose } from './support/golden';
import { bodyOf, type OpenApiDocument } from './support/http';
import { OpenInferenceResponseSchema, OpenInferenceSchemas } from './support/open-inference-schemas';
import { randomRows, writeModel } from './support/onnx-model-builder';
import { UNSEEN_MODELS } from './support/unseen-models';

/*
 * Triton's binary tensor data extension on the V2 infer routes, end to end: the body is the JSON request followed by
 * raw tensor bytes (Inference-Header-Content-Length gives the JSON's length), and outputs asked for as binary come
 * back the same way. Tensors are written and read here with Buffer's own little-endian accessors, as numpy's
 * tobytes()/frombuffer() do, not with the server's codec, so the two are held to each other.
 */

const KEY = 'open-inference-binary-key-0123';
const HEADER = 'Inference-Header-Content-Length';
const schemas = new OpenInferenceSchemas();

function expectValid(schema: OpenInferenceResponseSchema, body: unknown): void {
  expect(schemas.problems(schema, body)).toEqual([]);
}

/** What came back: status, headers and the raw body. */
interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Row-major float32 bytes of rows, as numpy's `np.array(rows, dtype=np.float32).tobytes()` writes them. */
function float32Bytes(rows: readonly number[][]): Buffer {
  const values = rows.flat();
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

function float64Bytes(rows: readonly number[][]): Buffer {
  const values = rows.flat();
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => bytes.writeDoubleLE(value, i * 8));
  return bytes;
}

/** Values of one output's raw bytes, as tritonclient's as_numpy reads them. */
function readTensor(datatype: string, bytes: Buffer): Array<number | string> {
  const values: Array<number | string> = [];
  switch (datatype) {
    case 'FP32':
      for (let offset = 0; offset < bytes.length; offset += 4) values.push(bytes.readFloatLE(offset));
      break;
    case 'INT64':
      for (let offset = 0; offset < bytes.length; offset += 8)
        values.push(Number(bytes.readBigInt64LE(offset)));
      break;
    case 'BYTES':
      for (let offset = 0; offset < bytes.length;) {
        const length = bytes.readUInt32LE(offset);
        values.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
        offset += 4 + length;
      }
      break;
    default:
      throw new Error(`no reader for ${datatype}`);
  }
  return values;
}

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: { binary_data_size?: number };
  data?: Array<number | string>;
}

interface InferenceAnswer {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: JsonOutput[];
}

/**
 * A binary response read as tritonclient's InferResult reads it: the JSON header of Inference-Header-Content-Length
 * bytes, then each output with `binary_data_size` takes that many bytes, in output order. Returns the header as
 * sent and the response with every output's data in place (the JSON form the protocol's schema describes).
 */
function readBinaryResponse(res: RawResponse): { header: InferenceAnswer; filled: InferenceAnswer } {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/octet-stream');
  const headerLength = Number(res.headers[HEADER.toLowerCase()]);
  expect(Number.isInteger(headerLength)).toBe(true);
  expect(Number(res.headers['content-length'])).toBe(res.body.length);
  const header = JSON.parse(res.body.subarray(0, headerLength).toString('utf8')) as InferenceAnswer;
  let offset = headerLength;
  const outputs = header.outputs.map((output) => {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) return output;
    expect(output).not.toHaveProperty('data');
    const data = readTensor(output.datatype, res.body.subarray(offset, offset + size));
    offset += size;
    const { name, datatype, shape } = output;
    return { name, datatype, shape, data };
  });
  // Nothing left over, nothing missing.
  expect(offset).toBe(res.body.length);
  return { header, filled: { ...header, outputs } };
}

function jsonOf(res: RawResponse): Record<string, unknown> {
  return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
}

function outputNamed(body: InferenceAnswer, name: string): JsonOutput {
  const output = body.outputs.find((o) => o.name === name);
  if (output === undefined) throw new Error(`no output "${name}" in ${JSON.stringify(body.outputs)}`);
  return output;
}

/** Outputs equal: same names, datatypes, shapes; labels exactly, numbers to 1e-6. */
function expectSameOutputs(actual: InferenceAnswer, expected: InferenceAnswer): void {
  expect(actual.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(
    expected.outputs.map((o) => [o.name, o.datatype, o.shape]),
  );
  for (const output of expected.outputs) {
    const served = outputNamed(actual, output.name).data ?? [];
    const wanted = output.data ?? [];
    expect(served).toHaveLength(wanted.length);
    wanted.forEach((value, i) => {
      if (typeof value === 'number' && output.datatype === 'FP32')
        expectClose(served[i] as number, value, 1e-6);
      else expect(served[i]).toBe(value);
    });
  }
}

async function writeRepository(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'open-inference-binary-'));
  await writeModel(root, {
    name: 'seed_gbc',
    bytes: readFileSync('models/seed_gbc/1/model.onnx'),
    manifest: JSON.parse(readFileSync('models/seed_gbc/1/model.json', 'utf8')) as ModelManifest,
  });
  await writeModel(root, { name: 'seed_torch_mlp', bytes: readFileSync(`${FIXTURES}/seed_torch_mlp.onnx`) });
  const iris = UNSEEN_MODELS.find((model) => model.name === 'iris_strings');
  if (iris === undefined) throw new Error('the unseen models have no iris_strings');
  await writeModel(root, iris);
  return root;
}

describe("Open Inference Protocol (V2): Triton's binary tensor data extension", () => {
  let app: NestExpressApplication;
  let port: number;
  const server = () => app.getHttpServer();

  beforeAll(async () => {
    app = await startApp({
      MODEL_REPOSITORY: await writeRepository(),
      DEFAULT_MODEL: 'seed_gbc',
      API_KEYS: KEY,
      BODY_LIMIT: '16kb',
    });
    await new Promise<void>((resolve) => server().listen(0, '127.0.0.1', resolve));
    port = (server().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  /** A POST of exactly these bytes and headers (supertest would add a Content-Type). */
  const post = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: { 'X-API-Key': KEY, ...headers, 'Content-Length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  /** The JSON request, then the tensors' bytes; its length in Inference-Header-Content-Length. */
  const postBinary = (
    model: string,
    header: object,
    tensors: Buffer[],
    headers: Record<string, string> = {},
    path = `/v2/models/${model}/infer`,
  ) => {
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    return post(path, Buffer.concat([json, ...tensors]), {
      'Content-Type': 'application/octet-stream',
      [HEADER]: String(json.length),
      ...headers,
    });
  };

  /** The same request on the JSON route: data in the JSON. */
  const inferJson = async (model: string, body: object): Promise<InferenceAnswer> => {
    const res = await request(server())
      .post(`/v2/models/${model}/infer`)
      .set('X-API-Key', KEY)
      .send(body)
      .expect(200);
    expectValid('inference_response', res.body);
    return res.body as InferenceAnswer;
  };

  const binaryInput = (rows: readonly number[][], datatype = 'FP32', size = rows.flat().length * 4) => ({
    name: 'float_input',
    datatype,
    shape: [rows.length, rows[0].length],
    parameters: { binary_data_size: size },
  });
  const jsonInput = (rows: readonly number[][]) => ({
    name: 'float_input',
    datatype: 'FP32',
    shape: [rows.length, rows[0].length],
    data: rows.flat(),
  });

  /** A V2 error: the protocol's `{"error"}` as JSON, never problem+json. */
  const expectError = (res: RawResponse, status: number, message: string | RegExp) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = jsonOf(res);
    expectValid('inference_error_response', body);
    expect(Object.keys(body)).toEqual(['error']);
    if (typeof message === 'string') expect(body.error).toBe(message);
    else expect(body.error).toMatch(message);
  };

  it('lists binary_tensor_data among its extensions', async () => {
    const res = await request(server()).get('/v2').set('X-API-Key', KEY).expect(200);
    expectValid('metadata_server_response', res.body);
    expect(bodyOf<ServerMetadataResponse>(res).extensions).toContain('binary_tensor_data');
  });

  it('round-trips a 32-row batch, binary in and binary out, as the JSON route answers it', async () => {
    const rows = randomRows(32, 10, 101);
    const res = await postBinary(
      'seed_gbc',
      { id: 'batch-32', inputs: [binaryInput(rows)], parameters: { binary_data_output: true } },
      [float32Bytes(rows)],
    );
    const { header, filled } = readBinaryResponse(res);
    expect(header).toEqual({
      model_name: 'seed_gbc',
      model_version: '1',
      id: 'batch-32',
      outputs: [
        { name: 'output_label', datatype: 'INT64', shape: [32], parameters: { binary_data_size: 32 * 8 } },
        {
          name: 'output_probability',
          datatype: 'FP32',
          shape: [32, 2],
          parameters: { binary_data_size: 32 * 2 * 4 },
        },
      ],
    });
    expectValid('inference_response', filled);
    const json = await inferJson('seed_gbc', { id: 'batch-32', inputs: [jsonInput(rows)] });
    expectSameOutputs(filled, json);
    // Not vacuous: both classes occur, and the probabilities are not all alike.
    expect(new Set(outputNamed(filled, 'output_label').data)).toEqual(new Set([0, 1]));
  });

  it('answers the same on the versioned route', async () => {
    const rows = randomRows(4, 10, 5);
    const res = await postBinary(
      'seed_gbc',
      { inputs: [binaryInput(rows)], parameters: { binary_data_output: true } },
      [float32Bytes(rows)],
      {},
      '/v2/models/seed_gbc/versions/1/infer',
    );
    expectSameOutputs(
      readBinaryResponse(res).filled,
      await inferJson('seed_gbc', { inputs: [jsonInput(rows)] }),
    );
  });

  it('answers binary input with JSON outputs when none is asked for as binary', async () => {
    const rows = randomRows(32, 10, 202);
    const res = await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [float32Bytes(rows)]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers[HEADER.toLowerCase()]).toBeUndefined();
    const body = jsonOf(res) as unknown as InferenceAnswer;
    expectValid('inference_response', body);
    expect(body).toEqual(await inferJson('seed_gbc', { inputs: [jsonInput(rows)] }));
  });

  it('answers JSON input with the outputs asked for as binary, the others as JSON', async () => {
    const rows = randomRows(32, 10, 303);
    const body = {
      inputs: [jsonInput(rows)],
      outputs: [{ name: 'output_label' }, { name: 'output_probability', parameters: { binary_data: true } }],
    };
    const res = await request(server())
      .post('/v2/models/seed_gbc/infer')
      .set('X-API-Key', KEY)
      .send(body)
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    const { header, filled } = readBinaryResponse({
      status: res.status,
      headers: res.headers,
      body: bodyOf<Buffer>(res),
    });
    expect(header.outputs[0]).toEqual({
      name: 'output_label',
      datatype: 'INT64',
      shape: [32],
      data: expect.any(Array),
    });
    expect(header.outputs[1].parameters).toEqual({ binary_data_size: 256 });
    expectValid('inference_response', filled);
    expectSameOutputs(filled, await inferJson('seed_gbc', { inputs: [jsonInput(rows)] }));
  });

  it("lets an output's binary_data: false win over binary_data_output", async () => {
    const rows = randomRows(3, 10, 9);
    const res = await postBinary(
      'seed_gbc',
      {
        inputs: [binaryInput(rows)],
        parameters: { binary_data_output: true },
        outputs: [
          { name: 'output_probability', parameters: { binary_data: false } },
          { name: 'output_label' },
        ],
      },
      [float32Bytes(rows)],
    );
    const { header } = readBinaryResponse(res);
    expect(header.outputs.map((o) => [o.name, o.data !== undefined, o.parameters?.binary_data_size])).toEqual(
      [
        ['output_probability', true, undefined],
        ['output_label', false, 24],
      ],
    );
  });

  it('sends string labels as BYTES elements, and derived probabilities as FP32', async () => {
    const irisRows = randomRows(32, 4, 404);
    const iris = readBinaryResponse(
      await postBinary(
        'iris_strings',
        { inputs: [binaryInput(irisRows)], parameters: { binary_data_output: true } },
        [float32Bytes(irisRows)],
      ),
    );
    expect(outputNamed(iris.header, 'output_label').datatype).toBe('BYTES');
    expectValid('inference_response', iris.filled);
    expectSameOutputs(iris.filled, await inferJson('iris_strings', { inputs: [jsonInput(irisRows)] }));
    expect(new Set(outputNamed(iris.filled, 'output_label').data).size).toBeGreaterThan(1);

    const torchRows = randomRows(32, 10, 505);
    const torch = readBinaryResponse(
      await postBinary(
        'seed_torch_mlp',
        { inputs: [binaryInput(torchRows)], parameters: { binary_data_output: true } },
        [float32Bytes(torchRows)],
      ),
    );
    expect(torch.header.outputs.map((o) => [o.name, o.parameters?.binary_data_size])).toEqual([
      ['output', 32 * 2 * 4],
      ['probabilities', 32 * 2 * 4],
    ]);
    expectSameOutputs(torch.filled, await inferJson('seed_torch_mlp', { inputs: [jsonInput(torchRows)] }));
  });

  it('serves a request built byte for byte as tritonclient.http builds it', async () => {
    // tritonclient/http/_utils.py _get_inference_request: rapidjson.dumps of {"inputs": [...], "parameters":
    // {"binary_data_output": true}} (no outputs named), then each input's tobytes(); InferenceServerClient.infer
    // sends Inference-Header-Content-Length and no Content-Type.
    const rows = randomRows(32, 10, 606);
    const json =
      '{"inputs":[{"name":"float_input","shape":[32,10],"datatype":"FP32","parameters":{"binary_data_size":1280}}],' +
      '"parameters":{"binary_data_output":true}}';
    const res = await post(
      '/v2/models/seed_gbc/infer',
      Buffer.concat([Buffer.from(json), float32Bytes(rows)]),
      {
        [HEADER]: String(json.length),
        'User-Agent': 'python/gevent-http-client-2.3.1',
      },
    );
    const { filled } = readBinaryResponse(res);
    expect(filled.model_name).toBe('seed_gbc');
    expectSameOutputs(filled, await inferJson('seed_gbc', { inputs: [jsonInput(rows)] }));

    // With InferRequestedOutput(name, binary_data=True) the outputs are named and binary_data_output is not sent.
    const named =
      '{"id":"7","inputs":[{"name":"float_input","shape":[32,10],"datatype":"FP32","parameters":{"binary_data_size":1280}}],' +
      '"outputs":[{"name":"output_probability","parameters":{"binary_data":true}}]}';
    const one = readBinaryResponse(
      await post('/v2/models/seed_gbc/infer', Buffer.concat([Buffer.from(named), float32Bytes(rows)]), {
        [HEADER]: String(named.length),
      }),
    );
    expect(one.header.id).toBe('7');
    expect(one.header.outputs.map((o) => o.name)).toEqual(['output_probability']);
  });

  it('logs and counts binary rows as it does JSON rows', async () => {
    const metric = async () => {
      const text = (await request(server()).get('/metrics').expect(200)).text;
      return text
        .split('\n')
        .filter((line) => line.startsWith('model_predictions_total{') && line.includes('model="seed_gbc"'))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    const before = await metric();
    const rows = randomRows(7, 10, 707);
    expect((await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [float32Bytes(rows)])).status).toBe(
      200,
    );
    expect((await metric()) - before).toBe(7);
  });

  describe('errors, each a 400 naming the problem', () => {
    const rows = randomRows(32, 10, 808);
    const bytes = float32Bytes(rows);
    const json = (header: object) => Buffer.from(JSON.stringify(header));

    it('a header length past the end of the body', async () => {
      const header = json({ inputs: [binaryInput(rows)] });
      const res = await post('/v2/models/seed_gbc/infer', Buffer.concat([header, bytes]), {
        [HEADER]: String(header.length + bytes.length + 1),
      });
      expectError(
        res,
        400,
        `Inference-Header-Content-Length is ${header.length + bytes.length + 1} but the body has only ${header.length + bytes.length} bytes; it must give the length of the JSON header at the start of the body.`,
      );
    });

    it('a header length that is not a number of bytes, or 0', async () => {
      const body = Buffer.concat([json({ inputs: [binaryInput(rows)] }), bytes]);
      expectError(
        await post('/v2/models/seed_gbc/infer', body, { [HEADER]: '12.5' }),
        400,
        'Inference-Header-Content-Length must be the length of the JSON inference header in bytes, a whole number; got "12.5".',
      );
      expectError(
        await post('/v2/models/seed_gbc/infer', bytes, { [HEADER]: '0' }),
        400,
        /^Inference-Header-Content-Length is 0 \(a raw binary request without a JSON header\), which this server does not take/,
      );
    });

    it('a header length that cuts the JSON (characters counted instead of bytes)', async () => {
      const header = json({ id: 'façade', inputs: [binaryInput(rows)] });
      const res = await post('/v2/models/seed_gbc/infer', Buffer.concat([header, bytes]), {
        [HEADER]: String(header.length - 1),
      });
      expectError(
        res,
        400,
        new RegExp(
          `^The body is not valid JSON: .*\\(in the JSON inference header, the first ${header.length - 1} bytes of the body as Inference-Header-Content-Length says\\)$`,
        ),
      );
    });

    it('sizes that do not add up to the bytes sent', async () => {
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [bytes.subarray(4)]),
        400,
        'the inputs declare 1280 bytes of binary data (parameters.binary_data_size) but 1276 bytes follow the JSON header',
      );
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [bytes, Buffer.alloc(3)]),
        400,
        'the inputs declare 1280 bytes of binary data (parameters.binary_data_size) but 1283 bytes follow the JSON header',
      );
    });

    it('a binary input whose size does not match its shape × datatype', async () => {
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows, 'FP32', 1276)] }, [bytes.subarray(4)]),
        400,
        'input "float_input" has parameters.binary_data_size 1276; shape [32, 10] of FP32 takes 1280 bytes (320 elements of 4)',
      );
    });

    it('binary data of another datatype than the model takes', async () => {
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows, 'FP64', 2560)] }, [float64Bytes(rows)]),
        400,
        'input "float_input" has datatype FP64; the model takes FP32',
      );
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows, 'FLOAT32', 1280)] }, [bytes]),
        400,
        /^input "float_input" has datatype "FLOAT32", which the protocol does not have; it has BOOL, /,
      );
    });

    it('non-finite numbers in the binary data, as in JSON data', async () => {
      const poisoned = Buffer.from(bytes);
      poisoned.writeFloatLE(NaN, (3 * 10 + 7) * 4);
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [poisoned]),
        400,
        /float_input\[3\]\[7\] is NaN; only finite numbers are accepted/,
      );
    });

    it('a binary size without binary data, data and a size together, neither', async () => {
      const res = await request(server())
        .post('/v2/models/seed_gbc/infer')
        .set('X-API-Key', KEY)
        .send({ inputs: [binaryInput(rows)] });
      expectError(
        { status: res.status, headers: res.headers, body: Buffer.from(res.text) },
        400,
        /^input "float_input" has parameters.binary_data_size but the request carries no binary data; send the JSON header's length in Inference-Header-Content-Length/,
      );
      expectError(
        await postBinary('seed_gbc', { inputs: [{ ...binaryInput(rows), data: rows.flat() }] }, [bytes]),
        400,
        'input "float_input" has both data and parameters.binary_data_size; send its values one way',
      );
      const bare = { name: 'float_input', datatype: 'FP32', shape: [32, 10] };
      expectError(
        await postBinary('seed_gbc', { inputs: [bare] }, []),
        400,
        'input "float_input" has no data; give data, or parameters.binary_data_size and its bytes after the JSON header',
      );
    });

    it('flags that are not booleans', async () => {
      expectError(
        await postBinary(
          'seed_gbc',
          { inputs: [binaryInput(rows)], parameters: { binary_data_output: 'yes' } },
          [bytes],
        ),
        400,
        'parameters.binary_data_output is "yes"; it must be true or false',
      );
    });

    it('415 for another media type, 413 over BODY_LIMIT or MAX_BATCH_SIZE', async () => {
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(rows)] }, [bytes], {
          'Content-Type': 'text/csv',
        }),
        415,
        /^A body with Inference-Header-Content-Length is a JSON header followed by binary tensor data, sent as Content-Type: application\/octet-stream/,
      );
      // Binary data without its header: the body is taken for JSON, and the answer says what is missing.
      const headerless = Buffer.concat([json({ inputs: [binaryInput(rows)] }), bytes]);
      expectError(
        await post('/v2/models/seed_gbc/infer', headerless, { 'Content-Type': 'application/octet-stream' }),
        415,
        'The body must be JSON sent as Content-Type: application/json; got "application/octet-stream". Binary tensor data (Triton binary tensor data extension) needs Inference-Header-Content-Length, the length of the JSON header before it.',
      );
      // 16kb: 420 rows of 10 float32 are 16,800 bytes.
      const many = randomRows(420, 10, 1);
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(many)] }, [float32Bytes(many)]),
        413,
        'The body is larger than the limit of 16kb (BODY_LIMIT).',
      );
      const batch = randomRows(33, 10, 2);
      expectError(
        await postBinary('seed_gbc', { inputs: [binaryInput(batch)] }, [float32Bytes(batch)]),
        413,
        /33 .*at most 32 .*MAX_BATCH_SIZE/,
      );
    });

    it('401 with a wrong key, binary body or not', async () => {
      const header = json({ inputs: [binaryInput(rows)] });
      const res = await post('/v2/models/seed_gbc/infer', Buffer.concat([header, bytes]), {
        'X-API-Key': 'not-the-key-0123456789',
        [HEADER]: String(header.length),
      });
      expectError(res, 401, 'The API key is not valid.');
    });
  });

  it('documents the binary form in Swagger', async () => {
    const doc = bodyOf<OpenApiDocument>(await request(server()).get('/docs-json').expect(200));
    const infer = doc.paths['/v2/models/{name}/infer'].post;
    expect(Object.keys(infer.requestBody.content)).toEqual(['application/json', 'application/octet-stream']);
    expect(infer.requestBody.description).toContain('Inference-Header-Content-Length');
    expect(infer.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: HEADER, required: false }),
    );
    const ok = infer.responses['200'];
    expect(Object.keys(ok.content)).toEqual(['application/json', 'application/octet-stream']);
    expect(ok.headers).toHaveProperty(HEADER);
    expect(ok.description).toContain('binary_data_output');
    expect(doc.components.schemas.RequestOutput.properties.parameters.description).toContain('binary_data');
  });
});
