/*
 * The Open Inference Protocol (V2) infer routes' cases for the fast-lane conformance spec: JSON and binary tensor
 * data (Triton's extension), good and bad, with and without keys, on the versioned and unversioned routes.
 */
import { CORPUS_KEY, type ContractCase } from './contract-corpus';

const ROWS = [
  [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
  [-1.2, 0.4, 2.1, 0.0, -0.3, 1.1, 0.7, -0.5, 0.9, 0.2],
  [1.5, -0.25, 0.75, 3, -2, 0.125, 1e-3, -4.5, 2.5, 0.0625],
];
const INPUT = { name: 'float_input', datatype: 'FP32' };
const INFER = '/v2/models/seed_gbc/infer';
const VERSIONED = '/v2/models/seed_gbc/versions/1/infer';

/** Little-endian float32, as numpy's tobytes() writes them. */
function float32Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

/** A body in the binary form: the JSON header, then the tensor bytes; the header's length goes in a header. */
function binaryBody(header: object, tensor: Buffer): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, tensor]), headerLength: json.length };
}

const JSON_TYPE = { 'content-type': 'application/json' };
const BINARY_TYPE = { 'content-type': 'application/octet-stream' };

const AUTHS: Array<[string, Record<string, string>]> = [
  ['bearer key', { authorization: `Bearer ${CORPUS_KEY}` }],
  ['no key', {}],
  ['a wrong key', { 'x-api-key': 'wrong-key-0123456789abcdef' }],
];

const jsonRequest = (input: object, rest: object = {}) => JSON.stringify({ inputs: [input], ...rest });

/** JSON bodies: [name, body]. */
const JSON_BODIES: Array<[string, string]> = [
  ['one row', jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0] })],
  ['three rows, flat', jsonRequest({ ...INPUT, shape: [3, 10], data: ROWS.flat() })],
  ['three rows, nested', jsonRequest({ ...INPUT, shape: [3, 10], data: ROWS })],
  [
    'an id and one output asked for',
    jsonRequest(
      { ...INPUT, shape: [1, 10], data: ROWS[0] },
      { id: 'r-1', outputs: [{ name: 'output_label' }] },
    ),
  ],
  [
    'one output as binary',
    jsonRequest(
      { ...INPUT, shape: [3, 10], data: ROWS.flat() },
      {
        outputs: [
          { name: 'output_probability', parameters: { binary_data: true } },
          { name: 'output_label' },
        ],
      },
    ),
  ],
  [
    'every output as binary',
    jsonRequest(
      { ...INPUT, shape: [3, 10], data: ROWS.flat() },
      { parameters: { binary_data_output: true } },
    ),
  ],
  ['a wrong input name', jsonRequest({ ...INPUT, name: 'x', shape: [1, 10], data: ROWS[0] })],
  ['a wrong datatype', jsonRequest({ ...INPUT, datatype: 'INT64', shape: [1, 10], data: ROWS[0] })],
  ['a shape that does not fit the data', jsonRequest({ ...INPUT, shape: [2, 10], data: ROWS[0] })],
  ['eleven features', jsonRequest({ ...INPUT, shape: [1, 11], data: [...ROWS[0], 1] })],
  [
    'NaN in the data',
    `{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,10],"data":[NaN,0,0,0,0,0,0,0,0,0]}]}`,
  ],
  [
    'an unknown output',
    jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0] }, { outputs: [{ name: 'nope' }] }),
  ],
  [
    'binary_data_output that is not a boolean',
    jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0] }, { parameters: { binary_data_output: 'yes' } }),
  ],
  ['no inputs', JSON.stringify({ outputs: [] })],
  ['an unknown top-level field', jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0] }, { extra: 1 })],
  ['an unknown input field', jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0], extra: 1 })],
  ['a negative dimension', jsonRequest({ ...INPUT, shape: [-1, 10], data: ROWS[0] })],
  ['an input that is a number', JSON.stringify({ inputs: [7] })],
  ['malformed JSON', '{"inputs": [{"name": "float_input",'],
];

const tensor = float32Bytes(ROWS.flat());
const binaryInput = { ...INPUT, shape: [3, 10], parameters: { binary_data_size: tensor.length } };

/** Binary bodies: [name, body, the Inference-Header-Content-Length sent, Content-Type headers]. */
const BINARY_BODIES: Array<[string, Buffer, string, Record<string, string>]> = [
  ...(
    [
      ['binary in, binary out', { inputs: [binaryInput], parameters: { binary_data_output: true } }, tensor],
      ['binary in, JSON out', { inputs: [binaryInput] }, tensor],
      ['too few tensor bytes', { inputs: [binaryInput] }, tensor.subarray(4)],
      ['too many tensor bytes', { inputs: [binaryInput] }, Buffer.concat([tensor, Buffer.alloc(4)])],
      ['a binary size that does not fit the shape', { inputs: [{ ...binaryInput, shape: [2, 10] }] }, tensor],
      ['a NaN in the tensor bytes', { inputs: [binaryInput] }, float32Bytes([NaN, ...ROWS.flat().slice(1)])],
    ] as Array<[string, object, Buffer]>
  ).map(([name, header, bytes]): [string, Buffer, string, Record<string, string>] => {
    const { body, headerLength } = binaryBody(header, bytes);
    return [name, body, String(headerLength), BINARY_TYPE];
  }),
  (() => {
    const { body, headerLength } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['a header length past the body', body, String(headerLength + tensor.length + 1), BINARY_TYPE];
  })(),
  (() => {
    const { body } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['a header length of 0', body, '0', BINARY_TYPE];
  })(),
  (() => {
    const { body } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['a header length that is not a number', body, '12abc', BINARY_TYPE];
  })(),
  (() => {
    const { body, headerLength } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['a header length one short', body, String(headerLength - 1), BINARY_TYPE];
  })(),
  (() => {
    const { body, headerLength } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['binary form without a Content-Type', body, String(headerLength), {}];
  })(),
  (() => {
    const { body, headerLength } = binaryBody({ inputs: [binaryInput] }, tensor);
    return ['binary form as text/plain', body, String(headerLength), { 'content-type': 'text/plain' }];
  })(),
];

function forEachAuth(
  base: Omit<ContractCase, 'name' | 'headers'> & { headers: Record<string, string> },
  name: string,
) {
  return AUTHS.map(([authName, auth]): ContractCase => ({
    ...base,
    name: `${base.path} ${name} with ${authName}`,
    headers: { ...base.headers, ...auth },
  }));
}

/** Every V2 case; as contractCorpus, each gets a fixed X-Request-Id so answers compare exactly. */
export function openInferenceCorpus(): ContractCase[] {
  const all: ContractCase[] = [];
  for (const path of [INFER, VERSIONED]) {
    for (const [name, body] of JSON_BODIES) {
      all.push(...forEachAuth({ method: 'POST', path, headers: JSON_TYPE, body }, name));
    }
    for (const [name, body, headerLength, type] of BINARY_BODIES) {
      all.push(
        ...forEachAuth(
          {
            method: 'POST',
            path,
            headers: { ...type, 'inference-header-content-length': headerLength },
            body,
          },
          name,
        ),
      );
    }
  }
  const body = jsonRequest({ ...INPUT, shape: [1, 10], data: ROWS[0] });
  const key = { ...JSON_TYPE, authorization: `Bearer ${CORPUS_KEY}` };
  all.push(
    { name: 'an unknown model', method: 'POST', path: '/v2/models/nope/infer', headers: key, body },
    {
      name: 'an unknown version',
      method: 'POST',
      path: '/v2/models/seed_gbc/versions/9/infer',
      headers: key,
      body,
    },
    {
      name: 'binary tensor bytes without the header length',
      method: 'POST',
      path: INFER,
      headers: { ...BINARY_TYPE, authorization: `Bearer ${CORPUS_KEY}` },
      body: tensor,
    },
  );
  return all.map((c, i) => ({ ...c, headers: { 'x-request-id': `v2-conformance-${i}`, ...c.headers } }));
}
