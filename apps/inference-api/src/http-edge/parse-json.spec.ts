import { DomainError } from '@app/observability';
import { parseJsonBody, passesBodyScan } from './parse-json';

/** JSON_MAX_DEPTH's default. */
const MAX_DEPTH = 8;

function rejectionOf(text: string, maxDepth = MAX_DEPTH): DomainError {
  try {
    parseJsonBody(text, maxDepth);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parseJsonBody', () => {
  it('parses valid JSON, keeping strings that spell non-finite words', () => {
    expect(
      parseJsonBody('{"features":[1,2.5,-3e2],"note":"NaN \\" Infinity -Infinity 1e999"}', MAX_DEPTH),
    ).toEqual({
      features: [1, 2.5, -300],
      note: 'NaN " Infinity -Infinity 1e999',
    });
  });

  it('names each bare NaN, Infinity and -Infinity with its path, in document order', () => {
    const error = rejectionOf(
      '{"features": [1, NaN, Infinity], "instances": [[0, 1, -Infinity]], "x": {"y z": NaN}}',
    );
    expect(error.status).toBe(422);
    expect(error.code).toBe('non-finite-number');
    expect(error.title).toBe('Non-finite number');
    expect(error.errors).toEqual([
      { field: 'features[1]', message: 'features[1] is NaN; only finite numbers are accepted' },
      { field: 'features[2]', message: 'features[2] is Infinity; only finite numbers are accepted' },
      { field: 'instances[0][2]', message: 'instances[0][2] is -Infinity; only finite numbers are accepted' },
      { field: 'x["y z"]', message: 'x["y z"] is NaN; only finite numbers are accepted' },
    ]);
    expect(error.detail).toBe(
      '4 problems with the input: features[1] is NaN; only finite numbers are accepted; ' +
        'features[2] is Infinity; only finite numbers are accepted; ' +
        'instances[0][2] is -Infinity; only finite numbers are accepted; ' +
        'x["y z"] is NaN; only finite numbers are accepted',
    );
  });

  it('reports one problem as the detail itself', () => {
    expect(rejectionOf('{"features":[0,1,NaN]}').detail).toBe(
      'features[2] is NaN; only finite numbers are accepted',
    );
  });

  it('catches numbers that JSON.parse would turn into Infinity, quoting them as written', () => {
    const error = rejectionOf('{"features":[1e999, -2E+400, 3]}');
    expect(error.errors).toEqual([
      {
        field: 'features[0]',
        message: 'features[0] is 1e999, which overflows to Infinity; only finite numbers are accepted',
      },
      {
        field: 'features[1]',
        message: 'features[1] is -2E+400, which overflows to -Infinity; only finite numbers are accepted',
      },
    ]);
  });

  it('names the body itself when it is a bare NaN', () => {
    expect(rejectionOf('NaN').errors).toEqual([
      { field: '(body)', message: '(body) is NaN; only finite numbers are accepted' },
    ]);
  });

  it('cannot be fooled by a string that looks like a marker', () => {
    const value = parseJsonBody('{"a":"__non_finite_00000000-0000-0000-0000-000000000000_0"}', MAX_DEPTH);
    expect(value).toEqual({ a: '__non_finite_00000000-0000-0000-0000-000000000000_0' });
  });

  it('reports malformed JSON with the parser position, even when it also has NaN', () => {
    const plain = rejectionOf('{"features": [1, 2,]}');
    expect(plain.status).toBe(400);
    expect(plain.code).toBe('malformed-json');
    expect(plain.detail).toBe(
      'The body is not valid JSON: Unexpected token \']\', ..."s": [1, 2,]}" is not valid JSON at position 19 (line 1, column 20)',
    );
    expect(rejectionOf('{\n  "a": 1\n  "b": 2\n}').detail).toBe(
      "The body is not valid JSON: Expected ',' or '}' after property value in JSON at position 13",
    );

    const both = rejectionOf('{"features": [NaN, 2,]}');
    expect(both.code).toBe('malformed-json');
    // The position is in the text the client sent, not in the rewritten one.
    expect(both.detail).toBe(
      'The body is not valid JSON: Unexpected token \'N\', ..."atures": [NaN, 2,]}" is not valid JSON at position 14 (line 1, column 15)',
    );
  });

  it('leaves words that merely start like NaN to the parser', () => {
    expect(rejectionOf('[NaNa]').code).toBe('malformed-json');
    expect(rejectionOf('[Infinityx]').code).toBe('malformed-json');
  });

  it('survives nesting deeper than the call stack', () => {
    const depth = 200_000;
    const text = `${'['.repeat(depth)}NaN${']'.repeat(depth)}`;
    const error = rejectionOf(text);
    expect(error.code).toBe('non-finite-number');
    // Compared by length: a failure message with a 600 kB path helps nobody.
    expect(error.errors?.[0].field === '[0]'.repeat(depth)).toBe(true);
  });

  describe('nesting', () => {
    it('accepts bodies as deep as JSON_MAX_DEPTH', () => {
      expect(parseJsonBody('{"instances":[[1,2],{"f0":3}]}', 3)).toEqual({ instances: [[1, 2], { f0: 3 }] });
    });

    it.each([
      ['arrays in a field', '{"features":[[[1]]]}', 'features[0][0]'],
      ['objects', '{"a":{"b":{"c":{}}}}', 'a.b.c'],
      ['a bare array', '[[[[]]]]', '[0][0][0]'],
      ['the second of two rows', '{"instances":[[1],[[2]]]}', 'instances[1][0]'],
    ])('rejects %s one level deeper with a 422 naming where and the limit', (_, text, field) => {
      const error = rejectionOf(text, 3);
      expect(error.status).toBe(422);
      expect(error.code).toBe('nesting-too-deep');
      expect(error.detail).toBe(
        `The body nests arrays and objects deeper than 3 levels (JSON_MAX_DEPTH), at ${field}.`,
      );
      expect(error.errors).toEqual([
        { field, message: `${field} is nested deeper than 3 levels (JSON_MAX_DEPTH)` },
      ]);
    });

    it('rejects the 1,900-level body that overflowed the stack, quoting only the start of its path', () => {
      const error = rejectionOf(`{"features":${'['.repeat(1900)}${']'.repeat(1900)}}`);
      expect(error.code).toBe('nesting-too-deep');
      expect(error.errors?.[0].field).toBe(`features${'[0]'.repeat(7)}`);
      const deep = rejectionOf(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
      expect(deep.errors?.[0].field).toBe('a.a.a.a.a.a.a.a');
      const long = rejectionOf(`${'['.repeat(100)}${']'.repeat(100)}`, 50);
      expect(long.errors?.[0].field).toBe(`${'[0]'.repeat(50).slice(0, 80)}…`);
    });
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'refuses a key named %s anywhere, naming it, instead of letting later code drop it',
    (key) => {
      const error = rejectionOf(`{"features":[1,2],"${key}":1,"instances":[{"a":1,"${key}":{}}]}`);
      expect(error.status).toBe(422);
      expect(error.code).toBe('validation-failed');
      const inRow = `instances[0]${key === '__proto__' ? '.__proto__' : `.${key}`}`;
      expect(error.errors).toEqual([
        {
          field: key,
          message: `${key} is not accepted: "${key}" names a property every JavaScript object has`,
        },
        {
          field: inRow,
          message: `${inRow} is not accepted: "${key}" names a property every JavaScript object has`,
        },
      ]);
    },
  );

  it('keeps strings and ordinary keys that merely contain those words', () => {
    expect(parseJsonBody('{"my_constructor":"toString","features":["__proto__"]}', MAX_DEPTH)).toEqual({
      my_constructor: 'toString',
      features: ['__proto__'],
    });
  });
});

describe('passesBodyScan', () => {
  // The fast lane parses with JSON.parse alone and asks this instead: it must agree with parseJsonBody's refusals.
  it.each([
    ['{"instances":[[0.1,2,-3e-5]]}', true],
    [`{"a":${'['.repeat(7)}${']'.repeat(7)}}`, true],
    [`{"a":${'['.repeat(8)}${']'.repeat(8)}}`, false],
    ['{"instances":[[1e999]]}', false],
    ['{"instances":[[-1e999]]}', false],
    ['{"instances":[{"constructor":1}]}', false],
    ['{"__proto__":{"x":1}}', false],
    ['{"x":[{"toString":"y"}]}', false],
    ['{"my_constructor":"toString"}', true],
  ])('%s: %s, as parseJsonBody decides', (text, passes) => {
    expect(passesBodyScan(JSON.parse(text), MAX_DEPTH)).toBe(passes);
    const accepted = (() => {
      try {
        parseJsonBody(text, MAX_DEPTH);
        return true;
      } catch (error) {
        if (error instanceof DomainError) return false;
        throw error;
      }
    })();
    expect(accepted).toBe(passes);
  });
});
