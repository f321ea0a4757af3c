import { InvalidInstancesError } from './errors';
import { checkFloat32Values, rowPaths, toFeatureRows, toFeatureValues } from './feature-rows';
import { ModelSignature } from './model-signature';

const signature = (overrides: Partial<ModelSignature> = {}): ModelSignature => ({
  input: { name: 'x', type: 'float32', shape: ['N', 3] },
  featureCount: 3,
  outputs: [],
  head: { task: 'regression', valueOutput: 'y', targets: 1 },
  ...overrides,
});

function problems(instances: unknown[], sig = signature()): Array<{ field: string; message: string }> {
  return problemsOf(() =>
    toFeatureRows(
      instances,
      sig,
      instances.map((_, i) => `instances[${i}]`),
    ),
  );
}

function problemsOf(check: () => unknown): Array<{ field: string; message: string }> {
  try {
    check();
  } catch (error) {
    if (error instanceof InvalidInstancesError) return error.errors ?? [];
    throw error;
  }
  throw new Error('expected the instances to be rejected');
}

describe('toFeatureRows', () => {
  it('passes numeric rows through unchanged', () => {
    expect(toFeatureRows([[1, 2.5, -3]], signature(), ['features'])).toEqual([[1, 2.5, -3]]);
  });

  it('orders named features as the model does', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    expect(toFeatureRows([{ c: 3, a: 1, b: 2 }], named, ['instances[0]'])).toEqual([[1, 2, 3]]);
  });

  it('names each bad value without coercing it', () => {
    expect(
      problems([
        [1, '2', null],
        [true, Infinity, -Infinity],
        [NaN, 1, 2],
      ]),
    ).toEqual([
      { field: 'instances[0][1]', message: 'instances[0][1] must be a number, got the string "2"' },
      { field: 'instances[0][2]', message: 'instances[0][2] must be a number, got null' },
      { field: 'instances[1][0]', message: 'instances[1][0] must be a number, got boolean true' },
      { field: 'instances[1][1]', message: 'instances[1][1] is Infinity; only finite numbers are accepted' },
      { field: 'instances[1][2]', message: 'instances[1][2] is -Infinity; only finite numbers are accepted' },
      { field: 'instances[2][0]', message: 'instances[2][0] is NaN; only finite numbers are accepted' },
    ]);
  });

  it('names rows of the wrong length and rows that are not rows', () => {
    expect(problems([[1, 2], 'abc', [1, 2, 3]])).toEqual([
      { field: 'instances[0]', message: 'instances[0] has 2 values; the model expects 3 features' },
      { field: 'instances[1]', message: 'instances[1] must be an array of 3 numbers, got the string "abc"' },
    ]);
  });

  it('refuses one value too many, alone or before a valid row, rather than shift it into the next row', () => {
    expect(problems([[1, 2, 3, 4]])).toEqual([
      { field: 'instances[0]', message: 'instances[0] has 4 values; the model expects 3 features' },
    ]);
    expect(
      problems([
        [1, 2, 3, 4],
        [5, 6, 7],
      ]),
    ).toEqual([
      { field: 'instances[0]', message: 'instances[0] has 4 values; the model expects 3 features' },
    ]);
  });

  it('names missing and unknown features of named rows', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    expect(problems([{ a: 1, b: 2, d: 4 }], named)).toEqual([
      {
        field: 'instances[0].d',
        message: 'instances[0].d is not a feature of this model (features: a, b, c)',
      },
      { field: 'instances[0].c', message: 'instances[0].c is missing' },
    ]);
  });

  it('names an unknown feature of any length cut, so a long key cannot make a longer answer', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    const key = 'k'.repeat(100_000);
    const [unknown] = problems([{ a: 1, b: 2, c: 3, [key]: 4 }], named);
    expect(unknown.field).toBe(`instances[0].${'k'.repeat(200)}… (100000 characters)`);
    expect(unknown.message.startsWith(`${unknown.field} is not a feature`)).toBe(true);
  });

  it('refuses named rows when the model has no feature names', () => {
    expect(problems([{ a: 1 }])[0].message).toMatch(/features have no names/);
  });

  it('requires integers for integer inputs', () => {
    const ints = signature({ input: { name: 'x', type: 'int64', shape: ['N', 3] } });
    expect(problems([[1, 2.5, 3]], ints)).toEqual([
      { field: 'instances[0][1]', message: "instances[0][1] must be an integer: the model's input is int64" },
    ]);
  });

  it.each(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'])(
    'refuses a fraction for an %s input and feeds whole numbers as they are',
    (type) => {
      const ints = signature({ input: { name: 'x', type, shape: ['N', 3] } });
      expect(problems([[1, 2, 0.5]], ints)).toEqual([
        {
          field: 'instances[0][2]',
          message: `instances[0][2] must be an integer: the model's input is ${type}`,
        },
      ]);
      expect(toFeatureRows([[1, 2, 3]], ints, ['instances[0]'])).toEqual([[1, 2, 3]]);
    },
  );

  it.each(['float32', 'float64', 'float16'])('feeds fractions to a %s input', (type) => {
    const floats = signature({ input: { name: 'x', type, shape: ['N', 3] } });
    expect(toFeatureRows([[0.5, 1.25, -2.75]], floats, ['instances[0]'])).toEqual([[0.5, 1.25, -2.75]]);
  });

  it('quotes a string of up to 40 characters whole and cuts a longer one at 40', () => {
    const forty = 'a'.repeat(40);
    expect(problems([[forty, 1, 2]])[0].message).toBe(
      `instances[0][0] must be a number, got the string "${forty}"`,
    );
    expect(problems([[`${forty}bc`, 1, 2]])[0].message).toBe(
      `instances[0][0] must be a number, got the string "${forty}…"`,
    );
  });

  it('describes what came instead of a row or a number', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    expect(problems([7, false, null, undefined, [[1], {}, 2]], named)).toEqual([
      {
        field: 'instances[0]',
        message:
          'instances[0] must be an array of 3 numbers or an object keyed by feature name, got number 7',
      },
      {
        field: 'instances[1]',
        message:
          'instances[1] must be an array of 3 numbers or an object keyed by feature name, got boolean false',
      },
      {
        field: 'instances[2]',
        message: 'instances[2] must be an array of 3 numbers or an object keyed by feature name, got null',
      },
      {
        field: 'instances[3]',
        message:
          'instances[3] must be an array of 3 numbers or an object keyed by feature name, got a value of type undefined',
      },
      { field: 'instances[4][0]', message: 'instances[4][0] must be a number, got an array' },
      { field: 'instances[4][1]', message: 'instances[4][1] must be a number, got a value of type object' },
    ]);
  });

  it('names a bad value of a named row by its feature, and checks it as a positional value is checked', () => {
    const named = signature({
      input: { name: 'x', type: 'int32', shape: ['N', 3] },
      features: ['a', 'b', 'c'],
    });
    expect(problems([{ a: '1', b: NaN, c: 1.5 }], named)).toEqual([
      { field: 'instances[0].a', message: 'instances[0].a must be a number, got the string "1"' },
      { field: 'instances[0].b', message: 'instances[0].b is NaN; only finite numbers are accepted' },
      { field: 'instances[0].c', message: "instances[0].c must be an integer: the model's input is int32" },
    ]);
  });

  it('names the problems of a batch mixing named and positional rows, and feeds both shapes', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    const rows = [{ a: 1, b: 2 }, [1, 2], { a: 1, b: 2, c: 'x' }, [1, 2, 3]];
    expect(problems(rows, named).map((p) => p.field)).toEqual([
      'instances[0].c',
      'instances[1]',
      'instances[2].c',
    ]);
    expect(toFeatureRows([{ a: 1, b: 2, c: 3 }, [4, 5, 6]], named, ['instances[0]', 'instances[1]'])).toEqual(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
  });

  it('stops listing after 20 problems', () => {
    expect(problems(Array.from({ length: 30 }, () => [1]))).toHaveLength(20);
  });
});

describe('toFeatureValues', () => {
  it('lays the rows out flat and row-major, named rows in the model’s order, as doubles', () => {
    const named = signature({ features: ['a', 'b', 'c'] });
    const values = toFeatureValues([[0.1, 2, 3], { c: 6, b: 5, a: 4 }], named, [
      'instances[0]',
      'instances[1]',
    ]);
    expect(values).toBeInstanceOf(Float64Array);
    // 0.1 as sent, not as the float32 the model is fed.
    expect(Array.from(values)).toEqual([0.1, 2, 3, 4, 5, 6]);
  });
});

describe('checkFloat32Values', () => {
  const paths = ['float_input[0]', 'float_input[1]'];

  it('passes every finite float32, the extremes and negative zero included', () => {
    const values = Float32Array.from([0, -0, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1]);
    expect(() => checkFloat32Values(values, 3, paths)).not.toThrow();
  });

  it('names each NaN and infinity by its row and column, in the words JSON values get', () => {
    const values = Float32Array.from([1, NaN, 3, -Infinity, 5, Infinity]);
    expect(problemsOf(() => checkFloat32Values(values, 3, paths))).toEqual([
      { field: 'float_input[0][1]', message: 'float_input[0][1] is NaN; only finite numbers are accepted' },
      {
        field: 'float_input[1][0]',
        message: 'float_input[1][0] is -Infinity; only finite numbers are accepted',
      },
      {
        field: 'float_input[1][2]',
        message: 'float_input[1][2] is Infinity; only finite numbers are accepted',
      },
    ]);
    // The same values sent as JSON rows are refused with the same problems.
    expect(
      problemsOf(() =>
        toFeatureValues(
          [
            [1, NaN, 3],
            [-Infinity, 5, Infinity],
          ],
          signature(),
          paths,
        ),
      ),
    ).toEqual(problemsOf(() => checkFloat32Values(values, 3, paths)));
  });

  it('stops listing after 20 problems', () => {
    const values = new Float32Array(30).fill(NaN);
    expect(
      problemsOf(() =>
        checkFloat32Values(
          values,
          3,
          Array.from({ length: 10 }, (_, i) => `x[${i}]`),
        ),
      ),
    ).toHaveLength(20);
  });
});

describe('rowPaths', () => {
  it('names each row after its prefix, as many as asked for, however many that is', () => {
    expect(rowPaths('instances', 3)).toEqual(['instances[0]', 'instances[1]', 'instances[2]']);
    expect(rowPaths('float_input', 0)).toEqual([]);
    const many = rowPaths('x', 300);
    expect(many).toHaveLength(300);
    expect(many[299]).toBe('x[299]');
  });

  it('hands out names a caller may not spoil for the next one', () => {
    const first = rowPaths('y', 2);
    first[0] = 'spoiled';
    first.push('extra');
    expect(rowPaths('y', 3)).toEqual(['y[0]', 'y[1]', 'y[2]']);
  });
});
