import { verbatimRows } from './verbatim-rows';

/** What the lane checks before asking: the body parsed, and held `rows` arrays of numbers. */
function rowsOf(text: string, nested: boolean): number[][] {
  const body = JSON.parse(text) as Record<string, unknown>;
  const value = Object.values(body)[Object.keys(body).length - 1];
  return nested ? (value as number[][]) : [value as number[]];
}

describe('verbatimRows', () => {
  it.each([
    ['{"instances":[[1,2.50,-3e2],[4, 5 ,6]]}', true],
    ['{ "instances" : [ [ 0.9647993445396423 , -1E-7 ] ] }', true],
    ['{"features":[5.1,\t3.5,1.4,0.2]}', false],
    ['{"inst\\u0061nces":[[1],[2]]}', true],
  ])('finds the rows of %s as written, and they parse to the rows', (text, nested) => {
    const rows = rowsOf(text, nested);
    const { start, end } = verbatimRows(text, rows.length, nested)!;
    const written = text.slice(start, end);
    expect(JSON.parse(written)).toEqual(nested ? rows : rows[0]);
    expect(written.startsWith('[') && written.endsWith(']')).toBe(true);
  });

  it.each([
    [
      'a bracket inside a string of an earlier duplicate key',
      '{"instances":"[x]","instances":[[1],[2]]}',
      true,
    ],
    ['an earlier duplicate array', '{"instances":[[9]],"instances":[[1],[2]]}', true],
    ['an empty earlier duplicate', '{"features":[],"features":[1,2]}', false],
    ['a line break between numbers', '{"instances":[[1,\n2],[3,4]]}', true],
    ['a carriage return', '{"features":[1,\r2]}', false],
  ])('declines %s, leaving the log to format the parsed numbers', (_, text, nested) => {
    expect(verbatimRows(text, rowsOf(text, nested).length, nested)).toBeUndefined();
  });
});
