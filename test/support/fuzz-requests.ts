/*
 * Seeded prediction requests for the fuzz spec: random bytes, truncated and mutated JSON of valid requests, wrong
 * types, extreme numbers, deep nesting, long strings, invalid UTF-8, duplicate and prototype keys, bodies and
 * batches at and over the limits, and odd model names in the KServe URL. Case `i` depends only on the seed and `i`,
 * so a failing case can be regenerated, and sent, alone. Long because it is a catalogue: one small generator per
 * kind of bad input, side by side so a new kind goes next to its neighbours.
 */
import { seededRandom } from './onnx-model-builder';

/** What the requests aim at: the served model as GET /v1/models/{name} describes it, and the service's limits. */
export interface FuzzTarget {
  model: string;
  features: readonly string[];
  bodyLimitBytes: number;
  maxBatchSize: number;
  jsonMaxDepth: number;
}

export interface FuzzCase {
  index: number;
  /** The generator that made it. */
  kind: string;
  path: string;
  body: Buffer;
  /** Sent with `Transfer-Encoding: chunked` instead of a `Content-Length`. */
  chunked: boolean;
  /** The status the README's contract fixes for this input, where it does. */
  status?: number;
  /** The problem `type`'s last segment the contract fixes (`nesting-too-deep`), where it does. */
  problem?: string;
}

type Random = () => number;
type Request = Omit<FuzzCase, 'index' | 'kind' | 'chunked'> & { chunked?: boolean };

/** Names an object inherits; the README promises a 422 for each, like any other unknown key. */
const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
];

/** Number literals JSON accepts that are finite doubles: every one is a 200 in an otherwise valid request. */
const FINITE_LITERALS = [
  '-0',
  '0e0',
  '-0.0',
  '5e-324',
  '-5e-324',
  '2.2250738585072014e-308',
  '4.9e-325',
  '1e-400',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '3.4028236e38',
  '9007199254740993',
  `1${'0'.repeat(308)}`,
  '1'.repeat(300),
  `0.${'0'.repeat(400)}1`,
  `0.${'9'.repeat(500)}`,
  '1E+2',
  '123456789.123456789e-10',
];

/** Literals that overflow to ±Infinity, and what Python's json.dumps writes for non-finite floats: 422. */
const NON_FINITE_LITERALS = [
  '1e999',
  '-1e999',
  '1e309',
  '1.7976931348623159e308',
  '1'.repeat(400),
  `-1${'0'.repeat(309)}`,
  'NaN',
  'Infinity',
  '-Infinity',
];

/** Number-like text that is not JSON: 400. */
const INVALID_LITERALS = [
  '01',
  '+1',
  '.5',
  '1.',
  '0x10',
  '1e',
  '1e+',
  '--1',
  'infinity',
  'nan',
  '1_000',
  '- 1',
];

/** Byte sequences that are not UTF-8 wherever they stand in ASCII text. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** Fragments inserted by the mutator: JSON syntax, and things that look like it. */
const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'null',
  'true',
  '-',
  'e',
  '1e999',
  'NaN',
  '"__proto__":',
  '{"a":',
  '[[[[',
  '\\u0000',
  '\\ud800',
  '\u0000',
  'é',
  '😀',
];

/** Percent-escapes that do not decode (decodeURIComponent throws): 400. */
const BAD_ESCAPES = ['%', '%zz', '%FF', '%E0%A4%A', '%C0%AF', '%ED%A0%80', 'a%2'];

/** Model names Node's HTTP client will put in a URL as they are (it accepts \x21–\xff). */
const ODD_NAMES = [
  '.',
  '..',
  '...',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  'a%2Fb',
  '%00',
  '%20',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
  '-',
  '_',
  '0',
];

/** Model names whose request line is past Node's 16 KB header limit: 431. */
const HEADER_LIMIT = 16 * 1024;

/** One case's random stream, and the pieces of requests it makes for the target. */
class Generator {
  constructor(
    readonly random: Random,
    readonly target: FuzzTarget,
  ) {}

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  get kservePath(): string {
    return `/v1/models/${this.target.model}:predict`;
  }

  /** A finite number as a client would write it. */
  number(): string {
    const value = (this.random() * 4 - 2) * 10 ** this.int(-3, 3);
    switch (this.int(0, 4)) {
      case 0:
        return String(Math.round(value));
      case 1:
        return value.toExponential(this.int(0, 6));
      case 2:
        return String(Math.fround(value));
      default:
        return value.toFixed(this.int(0, 8));
    }
  }

  /** Number literals for one row, in feature order. */
  items(): string[] {
    return this.target.features.map(() => this.number());
  }

  arrayRow(items = this.items()): string {
    return `[${items.join(',')}]`;
  }

  /** A row keyed by feature name, the keys in a random order. */
  namedRow(items = this.items()): string {
    const entries = this.target.features.map((name, i) => `"${name}":${items[i]}`);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    return `{${entries.join(',')}}`;
  }

  row(items = this.items()): string {
    return this.chance(0.5) ? this.arrayRow(items) : this.namedRow(items);
  }

  rows(count: number): string {
    return `[${Array.from({ length: count }, () => this.row()).join(',')}]`;
  }

  /** A valid request for either route, compact (no whitespace at either end). */
  valid(): { path: string; text: string } {
    if (this.chance(0.5)) return { path: '/predict', text: `{"features":${this.arrayRow()}}` };
    const count = this.int(1, Math.min(4, this.target.maxBatchSize));
    return { path: this.kservePath, text: `{"instances":${this.rows(count)}}` };
  }

  /**
   * `text` (JSON whose strings hold no `,:[]{}`) laid out with whitespace between the tokens, as pretty printers and
   * Python's json.dumps (`", "`, `": "`) write it.
   */
  spaced(text: string): string {
    const space = () => this.pick(['', ' ', ' ', '\n  ', '\t', '\r\n']);
    return `${space()}${text.replace(/[,:[\]{}]/g, (token) => `${space()}${token}${space()}`)}${space()}`;
  }

  /**
   * A valid request for either route with `count` of one row's values replaced by `literal()`; on the KServe route
   * the row may be an array or keyed by feature name, among valid ones.
   */
  withValues(literal: () => string, count: number): { path: string; text: string } {
    const items = this.items();
    // Distinct places, so every literal made is in the body.
    const places = items.map((_, i) => i);
    for (let n = 0; n < Math.min(count, items.length); n++) {
      const at = this.int(n, places.length - 1);
      [places[n], places[at]] = [places[at], places[n]];
      items[places[n]] = literal();
    }
    if (this.chance(0.5)) return { path: '/predict', text: `{"features":${this.arrayRow(items)}}` };
    const rows = Array.from({ length: this.int(0, 2) }, () => this.row());
    rows.splice(this.int(0, rows.length), 0, this.row(items));
    return { path: this.kservePath, text: `{"instances":[${rows.join(',')}]}` };
  }

  /** A JSON value of a type no field of the contracts takes. */
  wrongValue(): string {
    return this.pick([
      'null',
      'true',
      'false',
      '"0.5"',
      '""',
      '{}',
      '{"a":1}',
      '[]',
      '[1]',
      '"[1,2,3]"',
      `"${this.target.features[0]}"`,
    ]);
  }

  /** Characters for a long string, some of them escapes (several bytes each on the wire). */
  longString(maxBytes: number): string {
    const unit = this.pick(['a', 'é', '😀', '\\u0000', '\\ud800', '\\"', '\\\\', ' ', '\\n', 'NaN', '1e999']);
    const count = Math.max(1, Math.floor(maxBytes / Buffer.byteLength(unit)));
    return `"${unit.repeat(count)}"`;
  }
}

/** Whitespace JSON allows between tokens. */
function whitespace(length: number): string {
  return ' \n\t\r'.repeat(Math.ceil(length / 4)).slice(0, length);
}

/** Arrays around `1`, `levels` deep. */
function nestedArrays(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}

/** Objects `{"a": …}` around `1`, `levels` deep. */
function nestedObjects(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** Arrays and objects alternating, `levels` deep. */
function nestedMixed(levels: number): string {
  let text = '1';
  for (let level = 0; level < levels; level++) text = level % 2 === 0 ? `[${text}]` : `{"a":${text}}`;
  return text;
}

const GENERATORS: Array<[kind: string, weight: number, make: (g: Generator) => Request]> = [
  [
    'a valid request',
    8,
    (g) => {
      const { path, text } = g.valid();
      return { path, body: Buffer.from(g.chance(0.5) ? g.spaced(text) : text), status: 200 };
    },
  ],
  [
    'random bytes',
    7,
    (g) => {
      const length = g.pick([g.int(0, 16), g.int(0, 256), g.int(0, 4096)]);
      const body = Buffer.from(Array.from({ length }, () => g.int(0, 255)));
      return { path: g.chance(0.5) ? '/predict' : g.kservePath, body };
    },
  ],
  [
    'random JSON-like text',
    5,
    (g) => {
      const alphabet = '{}[]":,0123456789.eE+-truefalsnul \\';
      const text = Array.from({ length: g.int(1, 300) }, () => g.pick([...alphabet])).join('');
      return { path: g.chance(0.5) ? '/predict' : g.kservePath, body: Buffer.from(text) };
    },
  ],
  [
    'a truncated valid request',
    8,
    (g) => {
      // A strict prefix of a compact object lacks its closing brace: never JSON.
      const { path, text } = g.valid();
      return {
        path,
        body: Buffer.from(text.slice(0, g.int(1, text.length - 1))),
        status: 400,
        problem: 'malformed-json',
      };
    },
  ],
  [
    'a mutated valid request',
    10,
    (g) => {
      const { path, text } = g.valid();
      let bytes = Buffer.from(text);
      for (let n = g.int(1, 4); n > 0; n--) {
        const at = g.int(0, bytes.length);
        const end = Math.min(bytes.length, at + g.int(1, 8));
        switch (g.int(0, 4)) {
          case 0:
            if (at < bytes.length) bytes[at] = g.int(0, 255);
            break;
          case 1:
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(g.pick(TOKENS)), bytes.subarray(at)]);
            break;
          case 2:
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(end)]);
            break;
          case 3:
            bytes = Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
            break;
          default:
            if (at < bytes.length - 1) [bytes[at], bytes[at + 1]] = [bytes[at + 1], bytes[at]];
        }
      }
      return { path, body: bytes };
    },
  ],
  [
    'wrong types',
    9,
    (g) => {
      const choice = g.int(0, 5);
      if (choice === 0) {
        // The whole body: an array, a string, a number, null.
        const path = g.chance(0.5) ? '/predict' : g.kservePath;
        const body = g.pick(['[]', '[1,2]', `[${g.items().join(',')}]`, '"features"', '42', 'null', 'true']);
        return { path, body: Buffer.from(body), status: 422 };
      }
      if (choice === 1) {
        return { path: '/predict', body: Buffer.from(`{"features":${g.wrongValue()}}`), status: 422 };
      }
      if (choice === 2) {
        const instances = g.pick([g.wrongValue(), '5', `[${g.wrongValue()}]`, `[${g.row()},"row"]`]);
        return { path: g.kservePath, body: Buffer.from(`{"instances":${instances}}`), status: 422 };
      }
      const { path, text } = g.withValues(() => g.wrongValue(), g.int(1, 3));
      return { path, body: Buffer.from(text), status: 422 };
    },
  ],
  [
    'extreme numbers',
    10,
    (g) => {
      const used: string[] = [];
      const literal = () => {
        const group = g.pick([FINITE_LITERALS, FINITE_LITERALS, NON_FINITE_LITERALS, INVALID_LITERALS]);
        used.push(g.pick(group));
        return used[used.length - 1];
      };
      const { path, text } = g.withValues(literal, g.int(1, 3));
      const has = (group: readonly string[]) => used.some((l) => group.includes(l));
      if (has(INVALID_LITERALS))
        return { path, body: Buffer.from(text), status: 400, problem: 'malformed-json' };
      if (has(NON_FINITE_LITERALS)) {
        return { path, body: Buffer.from(text), status: 422, problem: 'non-finite-number' };
      }
      return { path, body: Buffer.from(text), status: 200 };
    },
  ],
  [
    'deep nesting',
    7,
    (g) => {
      const max = g.target.jsonMaxDepth;
      const depth = g.chance(0.6)
        ? g.int(max - 1, max + 2)
        : g.pick([g.int(max + 3, 3000), g.int(3000, 60000)]);
      // Every shape is a 422 at any depth; past JSON_MAX_DEPTH it is the nesting problem, whatever else is wrong.
      const [path, text] = g.pick<[string, () => string]>([
        ['/predict', () => `{"features":${nestedArrays(depth - 1)}}`],
        [g.kservePath, () => `{"instances":[${nestedArrays(depth - 2)}]}`],
        [g.kservePath, () => `{"instances":[${nestedMixed(depth - 2)}]}`],
        [g.chance(0.5) ? '/predict' : g.kservePath, () => nestedArrays(depth)],
        [g.chance(0.5) ? '/predict' : g.kservePath, () => nestedObjects(depth)],
      ]);
      const problem = depth > max ? 'nesting-too-deep' : 'validation-failed';
      return { path, body: Buffer.from(text()), status: 422, problem };
    },
  ],
  [
    'long strings',
    5,
    (g) => {
      // Leaves room for the rest of the request: this is about strings, not the body limit.
      const bytes = g.pick([1000, 10_000, g.int(1, g.target.bodyLimitBytes - 2000)]);
      const long = g.longString(bytes);
      const choice = g.int(0, 3);
      if (choice === 0) return { path: '/predict', body: Buffer.from(`{"features":${long}}`), status: 422 };
      if (choice === 1) {
        // As a key beside a valid request.
        const { path, text } = g.valid();
        return { path, body: Buffer.from(`{${long}:1,${text.slice(1)}`), status: 422 };
      }
      const { path, text } = g.withValues(() => long, 1);
      return { path, body: Buffer.from(text), status: 422 };
    },
  ],
  [
    'invalid UTF-8',
    6,
    (g) => {
      const { path, text } = g.valid();
      const at = g.int(0, text.length);
      const bytes = Buffer.from(g.pick(INVALID_UTF8));
      const body = Buffer.concat([Buffer.from(text.slice(0, at)), bytes, Buffer.from(text.slice(at))]);
      return { path, body, status: 400, problem: 'malformed-json' };
    },
  ],
  [
    'duplicate keys',
    4,
    (g) => {
      const field = () => g.pick([g.arrayRow(), g.wrongValue()]);
      const choice = g.int(0, 2);
      if (choice === 0) {
        return { path: '/predict', body: Buffer.from(`{"features":${field()},"features":${field()}}`) };
      }
      if (choice === 1) {
        const text = `{"instances":${g.rows(1)},"instances":${g.pick([g.rows(g.int(1, 3)), g.wrongValue()])}}`;
        return { path: g.kservePath, body: Buffer.from(text) };
      }
      const row = g.namedRow();
      const name = g.pick(g.target.features);
      const doubled = `{"${name}":${g.pick([g.number(), g.wrongValue()])},${row.slice(1)}`;
      return { path: g.kservePath, body: Buffer.from(`{"instances":[${doubled}]}`) };
    },
  ],
  [
    'prototype keys',
    6,
    (g) => {
      let key = g.pick(PROTOTYPE_KEYS);
      // JSON.parse unescapes keys: `"\u005f_proto__"` is the same key.
      if (g.chance(0.25)) key = `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}`;
      const value = g.pick([
        '1',
        'null',
        '{}',
        '[]',
        '"x"',
        '{"polluted":true}',
        `{"features":${g.arrayRow()}}`,
      ]);
      const choice = g.int(0, 3);
      if (choice === 0) {
        // In place of the request's own field.
        const path = g.chance(0.5) ? '/predict' : g.kservePath;
        return { path, body: Buffer.from(`{"${key}":${value}}`), status: 422 };
      }
      if (choice === 1) {
        const row = g.namedRow();
        return {
          path: g.kservePath,
          body: Buffer.from(`{"instances":[{"${key}":${value},${row.slice(1)}]}`),
          status: 422,
        };
      }
      // Beside a valid request's field, before or after it.
      const { path, text } = g.valid();
      const body = g.chance(0.5)
        ? `{"${key}":${value},${text.slice(1)}`
        : `${text.slice(0, -1)},"${key}":${value}}`;
      return { path, body: Buffer.from(body), status: 422 };
    },
  ],
  [
    'batch sizes',
    5,
    (g) => {
      const max = g.target.maxBatchSize;
      if (g.chance(0.6)) {
        const count = g.pick([
          0,
          1,
          max - 1,
          max,
          max + 1,
          max + 2,
          2 * max,
          g.int(0, 10 * max),
          g.int(0, 2000),
        ]);
        const status = count === 0 ? 422 : count <= max ? 200 : 413;
        return { path: g.kservePath, body: Buffer.from(`{"instances":${g.rows(count)}}`), status };
      }
      const expected = g.target.features.length;
      const count = g.pick([0, 1, expected - 1, expected, expected + 1, g.int(0, 5000)]);
      const items = Array.from({ length: count }, () => g.number());
      return {
        path: '/predict',
        body: Buffer.from(`{"features":[${items.join(',')}]}`),
        status: count === expected ? 200 : 422,
      };
    },
  ],
  [
    'body sizes',
    2,
    (g) => {
      const limit = g.target.bodyLimitBytes;
      const size = g.pick([
        limit - 1,
        limit,
        limit,
        limit + 1,
        limit + 1,
        limit + g.int(2, 4096),
        g.int(limit / 2, limit),
      ]);
      const chunked = g.chance(0.5);
      const over = size > limit;
      if (g.chance(0.7)) {
        // A valid request padded with whitespace to exactly `size` bytes.
        const { path, text } = g.valid();
        const padded = `${text.slice(0, -1)}${whitespace(size - text.length)}}`;
        return over
          ? { path, body: Buffer.from(padded), chunked, status: 413, problem: 'payload-too-large' }
          : { path, body: Buffer.from(padded), chunked, status: 200 };
      }
      // As many numbers as fit: far too many features.
      const count = Math.floor((size - '{"features":[]}'.length + 1) / '0.125,'.length);
      const text = `{"features":[${'0.125,'.repeat(count).slice(0, -1)}]}`;
      const body = Buffer.from(`${text}${whitespace(size - text.length)}`);
      return over
        ? { path: '/predict', body, chunked, status: 413, problem: 'payload-too-large' }
        : { path: '/predict', body, chunked, status: 422 };
    },
  ],
  [
    'odd model names',
    8,
    (g) => {
      const body = Buffer.from(`{"instances":${g.rows(1)}}`);
      const model = g.target.model;
      const at = (name: string, status?: number): Request => ({
        path: `/v1/models/${name}:predict`,
        body,
        ...(status === undefined ? {} : { status }),
      });
      switch (g.int(0, 6)) {
        case 0: {
          // The served name with some characters percent-encoded: the same model.
          const name = [...model]
            .map((c) => (g.chance(0.4) ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c))
            .join('');
          return at(name, 200);
        }
        case 1: {
          const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
          const name = Array.from({ length: g.int(1, 64) }, () => g.pick([...alphabet])).join('');
          return at(name, name === model ? 200 : 404);
        }
        case 2:
          return at(g.pick(ODD_NAMES), 404);
        case 3: {
          // Unicode, percent-encoded as a browser would.
          const text = Array.from({ length: g.int(1, 8) }, () =>
            String.fromCodePoint(
              g.pick([g.int(0xa0, 0x7ff), g.int(0x800, 0xd7ff), g.int(0x10000, 0x10ffff)]),
            ),
          ).join('');
          return at(encodeURIComponent(text), 404);
        }
        case 4: {
          // Raw bytes: UTF-8 text (or not) sent unencoded, as Node writes a latin1 path.
          const bytes = g.chance(0.7)
            ? Buffer.from(String.fromCodePoint(g.int(0xa0, 0x10ffff)).repeat(g.int(1, 4)))
            : Buffer.from(g.pick(INVALID_UTF8));
          return at(bytes.toString('latin1'));
        }
        case 5:
          return at(`${g.pick(['', model])}${g.pick(BAD_ESCAPES)}`, 400);
        default: {
          const length = g.pick([255, 1024, 8000, 16_500, 17_000, 30_000]);
          const name = g.chance(0.5) ? 'm'.repeat(length) : '%41'.repeat(Math.ceil(length / 3));
          return at(name, name.length > HEADER_LIMIT ? 431 : name.length < 12_000 ? 404 : undefined);
        }
      }
    },
  ],
];

/**
 * Cases every run sends, whatever the seed: the limits exactly at and just past BODY_LIMIT, MAX_BATCH_SIZE and
 * JSON_MAX_DEPTH, a very deep body and a very long model name.
 */
const LANDMARKS: Array<[kind: string, make: (g: Generator) => Request]> = [
  ...[false, true].flatMap((chunked): Array<[string, (g: Generator) => Request]> => [
    [
      `a valid request of exactly BODY_LIMIT bytes${chunked ? ', chunked' : ''}`,
      (g) => {
        const text = `{"features":${g.arrayRow()}}`;
        const padded = `${text.slice(0, -1)}${whitespace(g.target.bodyLimitBytes - text.length)}}`;
        return { path: '/predict', body: Buffer.from(padded), chunked, status: 200 };
      },
    ],
    [
      `a valid request one byte over BODY_LIMIT${chunked ? ', chunked' : ''}`,
      (g) => {
        const text = `{"features":${g.arrayRow()}}`;
        const padded = `${text.slice(0, -1)}${whitespace(g.target.bodyLimitBytes + 1 - text.length)}}`;
        return {
          path: '/predict',
          body: Buffer.from(padded),
          chunked,
          status: 413,
          problem: 'payload-too-large',
        };
      },
    ],
  ]),
  [
    'MAX_BATCH_SIZE rows',
    (g) => ({
      path: g.kservePath,
      body: Buffer.from(`{"instances":${g.rows(g.target.maxBatchSize)}}`),
      status: 200,
    }),
  ],
  [
    'MAX_BATCH_SIZE + 1 rows',
    (g) => ({
      path: g.kservePath,
      body: Buffer.from(`{"instances":${g.rows(g.target.maxBatchSize + 1)}}`),
      status: 413,
    }),
  ],
  [
    'nesting of exactly JSON_MAX_DEPTH',
    (g) => ({
      path: '/predict',
      body: Buffer.from(`{"features":${nestedArrays(g.target.jsonMaxDepth - 1)}}`),
      status: 422,
      problem: 'validation-failed',
    }),
  ],
  [
    'nesting one past JSON_MAX_DEPTH',
    (g) => ({
      path: g.kservePath,
      body: Buffer.from(`{"instances":[${nestedArrays(g.target.jsonMaxDepth - 1)}]}`),
      status: 422,
      problem: 'nesting-too-deep',
    }),
  ],
  [
    '100,000 nested arrays',
    () => ({
      path: '/predict',
      body: Buffer.from(nestedArrays(100_000)),
      status: 422,
      problem: 'nesting-too-deep',
    }),
  ],
  [
    'a 17,000-character model name',
    (g) => ({
      path: `/v1/models/${'m'.repeat(17_000)}:predict`,
      body: Buffer.from(`{"instances":${g.rows(1)}}`),
      status: 431,
    }),
  ],
  [
    'a __proto__ key beside the features',
    (g) => ({
      path: '/predict',
      body: Buffer.from(`{"__proto__":{"polluted":true},"features":${g.arrayRow()}}`),
      status: 422,
    }),
  ],
];

export const LANDMARK_COUNT = LANDMARKS.length;

const TOTAL_WEIGHT = GENERATORS.reduce((sum, [, weight]) => sum + weight, 0);

/** Case `index` of the run seeded `seed`: the same bytes on every machine, whatever the number of cases. */
export function fuzzCase(seed: number, index: number, target: FuzzTarget): FuzzCase {
  const random = seededRandom(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  const g = new Generator(random, target);
  if (index < LANDMARKS.length) {
    const [kind, make] = LANDMARKS[index];
    const request = make(g);
    return { index, kind, chunked: false, ...request };
  }
  let roll = random() * TOTAL_WEIGHT;
  const [kind, , make] = GENERATORS.find(([, weight]) => (roll -= weight) < 0) ?? GENERATORS[0];
  const chunked = g.chance(0.15);
  return { index, kind, chunked, ...make(g) };
}

/** A body as a failure message shows it: the text when it is printable UTF-8, else hex; long ones cut. */
export function showBody(body: Buffer, max = 600): string {
  const all = body.length > max ? ` … (${body.length} bytes in all)` : '';
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) {
    return `${JSON.stringify(text.slice(0, max))}${all}`;
  }
  return `hex ${body.subarray(0, max).toString('hex')}${all}`;
}
