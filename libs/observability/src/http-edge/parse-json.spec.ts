import { DomainError } from '../problems/domain-error';
import { parseJsonBody } from './parse-json';

function rejectionOf(text: string): DomainError {
  try {
    parseJsonBody(text);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parseJsonBody', () => {
  it('parses valid JSON, keeping strings that spell non-finite words', () => {
    expect(parseJsonBody('{"features":[1,2.5,-3e2],"note":"NaN \\" Infinity -Infinity 1e999"}')).toEqual({
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
    const value = parseJsonBody('{"a":"__non_finite_00000000-0000-0000-0000-000000000000_0"}');
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
});
