/*
 * Every input case the prediction routes' specs send, good and bad, on both routes, with and without keys: the
 * corpus the fast-lane conformance spec sends through the service with the lane on and with it off.
 */

export const CORPUS_KEY = 'corpus-key-0123456789abcdef';
const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const NAMED = Object.fromEntries(ROW.map((v, i) => [`f${i}`, v]));
const KSERVE = '/v1/models/seed_gbc:predict';

export interface ContractCase {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** A request near the lane's routes that the lane leaves to Express whatever its answer. */
  edge?: true;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const AUTHS: Array<[string, Record<string, string>]> = [
  ['bearer key', { authorization: `Bearer ${CORPUS_KEY}` }],
  ['X-API-Key', { 'x-api-key': CORPUS_KEY }],
  ['no key', {}],
  ['a wrong key', { 'x-api-key': 'wrong-key-0123456789abcdef' }],
  ['a key prefix', { authorization: `Bearer ${CORPUS_KEY.slice(0, -1)}` }],
  ['Basic auth', { authorization: `Basic ${CORPUS_KEY}` }],
];

/** Bodies for POST /predict, as sent on the wire. */
const PREDICT_BODIES: Array<[string, string | Buffer]> = [
  ['a good row', JSON.stringify({ features: ROW })],
  ['integers', JSON.stringify({ features: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })],
  ['negative and tiny numbers', JSON.stringify({ features: ROW.map((v) => -v * 1e-30) })],
  ['a missing field', '{}'],
  ['a string instead of a list', JSON.stringify({ features: 'abc' })],
  ['an unknown field', JSON.stringify({ features: ROW, extra: 1 })],
  ['an empty list', JSON.stringify({ features: [] })],
  ['nine features', JSON.stringify({ features: ROW.slice(0, 9) })],
  ['eleven features', JSON.stringify({ features: [...ROW, 1] })],
  ['a nested list', JSON.stringify({ features: [ROW] })],
  ['features as an object', JSON.stringify({ features: NAMED })],
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key): [string, string] => [
    `a ${key} key`,
    `{"${key}":{"x":1},"features":${JSON.stringify(ROW)}}`,
  ]),
  ...['"0.3"', 'null', 'true', '1e999', 'NaN', 'Infinity', '-Infinity'].map((token): [string, string] => [
    `${token} inside features`,
    `{"features":[0.1,0.2,${token},0.4,0.5,0.6,0.7,0.8,0.9,1.0]}`,
  ]),
  ['malformed JSON', '{"features": [1, 2,'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ['a JSON array', JSON.stringify([ROW])],
  ['JSON null', 'null'],
  ['a JSON string', '"features"'],
  ['a JSON number', '42'],
  ['a body over BODY_LIMIT', JSON.stringify({ features: new Array(200_000).fill(0.123456789) })],
  ['the rows of a KServe request', JSON.stringify({ instances: [ROW] })],
  ['1,900 nested arrays', `{"features":${'['.repeat(1900)}${']'.repeat(1900)}}`],
  ['a bare nested array', `${'['.repeat(1900)}${']'.repeat(1900)}`],
  ['5,000 nested objects', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
];

/** Bodies for POST /v1/models/seed_gbc:predict. */
const KSERVE_BODIES: Array<[string, string]> = [
  ['one row', JSON.stringify({ instances: [ROW] })],
  ['32 rows', JSON.stringify({ instances: new Array(32).fill(ROW) })],
  ['rows keyed by feature name', JSON.stringify({ instances: [NAMED, ROW] })],
  [
    'keys in reverse order',
    JSON.stringify({ instances: [Object.fromEntries(Object.entries(NAMED).reverse())] }),
  ],
  ['33 rows', JSON.stringify({ instances: new Array(33).fill(ROW) })],
  ['no instances', JSON.stringify({ instances: [] })],
  ['instances as a string', JSON.stringify({ instances: 'x' })],
  ['a missing field', '{}'],
  ['an extra top-level field', JSON.stringify({ instances: [ROW], parameters: {} })],
  [
    'bad rows and fields',
    JSON.stringify({ instances: [ROW, ROW.slice(1), { ...NAMED, f3: 'x', bogus: 1 }] }),
  ],
  ['a missing feature', JSON.stringify({ instances: [{ ...NAMED, f9: undefined }] })],
  ['NaN in the second row', `{"instances":[${JSON.stringify(ROW)},[NaN,0,0,0,0,0,0,0,0,0]]}`],
  // The lane skips the body scan for rows of numbers: what the scan refuses must still be refused, in its words.
  ['an overflowing number in a row', `{"instances":[${JSON.stringify(ROW)},[1e999,0,0,0,0,0,0,0,0,0]]}`],
  [
    'a value nested past JSON_MAX_DEPTH in a row',
    `{"instances":[[${'['.repeat(8)}1${']'.repeat(8)},0,0,0,0,0,0,0,0,0]]}`,
  ],
  ['a prototype key inside a row', `{"instances":[[{"__proto__":1},0,0,0,0,0,0,0,0,0]]}`],
  ['a row that is a number', JSON.stringify({ instances: [1] })],
  ...['__proto__', 'constructor', 'toString'].map((key): [string, string] => [
    `a row with a ${key} key`,
    `{"instances":[${JSON.stringify(NAMED).slice(0, -1)},"${key}":1}]}`,
  ]),
  ['malformed JSON', '{"instances": [[1'],
  ['1,900 nested arrays', `{"instances":${'['.repeat(1900)}${']'.repeat(1900)}}`],
  ['nested objects in a row', `{"instances":[${'{"f0":'.repeat(2000)}1${'}'.repeat(2000)}]}`],
];

function cases(path: string, bodies: Array<[string, string | Buffer]>): ContractCase[] {
  const all: ContractCase[] = [];
  for (const [bodyName, body] of bodies) {
    for (const [authName, auth] of AUTHS) {
      all.push({
        name: `${path} ${bodyName} with ${authName}`,
        method: 'POST',
        path,
        headers: { ...JSON_TYPE, ...auth },
        body,
      });
    }
  }
  return all;
}

const KEY = { authorization: `Bearer ${CORPUS_KEY}` };
const GOOD = JSON.stringify({ features: ROW });

/** Requests near the lane's routes that it must leave to Express: other paths, types, methods and framings. */
const EDGES: ContractCase[] = [
  {
    name: 'an unknown model',
    method: 'POST',
    path: '/v1/models/nope:predict',
    headers: { ...JSON_TYPE, ...KEY },
    body: JSON.stringify({ instances: [ROW] }),
  },
  {
    name: 'an encoded model name',
    method: 'POST',
    path: '/v1/models/seed%5Fgbc:predict',
    headers: { ...JSON_TYPE, ...KEY },
    body: JSON.stringify({ instances: [ROW] }),
  },
  {
    name: 'a query string',
    method: 'POST',
    path: '/predict?verbose=1',
    headers: { ...JSON_TYPE, ...KEY },
    body: GOOD,
  },
  {
    name: 'a trailing slash',
    method: 'POST',
    path: '/predict/',
    headers: { ...JSON_TYPE, ...KEY },
    body: GOOD,
  },
  { name: 'upper case', method: 'POST', path: '/PREDICT', headers: { ...JSON_TYPE, ...KEY }, body: GOOD },
  { name: 'GET /predict', method: 'GET', path: '/predict', headers: KEY },
  { name: 'PUT /predict', method: 'PUT', path: '/predict', headers: { ...JSON_TYPE, ...KEY }, body: GOOD },
  { name: 'no body', method: 'POST', path: '/predict', headers: { ...JSON_TYPE, ...KEY } },
  {
    name: 'an empty body',
    method: 'POST',
    path: '/predict',
    headers: { ...JSON_TYPE, ...KEY, 'content-length': '0' },
    body: '',
  },
  { name: 'no Content-Type', method: 'POST', path: '/predict', headers: KEY, body: GOOD },
  {
    name: 'text/plain',
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'text/plain', ...KEY },
    body: GOOD,
  },
  {
    name: 'a +json media type',
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'application/merge-patch+json', ...KEY },
    body: GOOD,
  },
  {
    name: 'charset=utf-8',
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'application/json; charset=UTF-8', ...KEY },
    body: GOOD,
  },
  {
    name: 'charset=latin1',
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'application/json; charset=latin1', ...KEY },
    body: GOOD,
  },
  {
    name: 'gzip encoding',
    method: 'POST',
    path: '/predict',
    headers: { ...JSON_TYPE, 'content-encoding': 'gzip', ...KEY },
    body: GOOD,
  },
  {
    name: 'chunked',
    method: 'POST',
    path: '/predict',
    headers: { ...JSON_TYPE, 'transfer-encoding': 'chunked', ...KEY },
    body: GOOD,
  },
  {
    name: 'a sane request id',
    method: 'POST',
    path: '/predict',
    headers: { ...JSON_TYPE, ...KEY, 'x-request-id': 'upstream.id:42_x' },
    body: GOOD,
  },
];

/** The whole corpus. Cases without an X-Request-Id of their own get a fixed one, so bodies compare exactly. */
export function contractCorpus(): ContractCase[] {
  const edges = EDGES.map((c): ContractCase => ({ ...c, edge: true }));
  return [...cases('/predict', PREDICT_BODIES), ...cases(KSERVE, KSERVE_BODIES), ...edges].map((c, i) => ({
    ...c,
    headers: { 'x-request-id': `conformance-${i}`, ...c.headers },
  }));
}
