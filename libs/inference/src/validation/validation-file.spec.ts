import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidValidationFileError,
  parseValidationFile,
  readValidationFile,
  validationPathOf,
} from './validation-file';

const PATH = '/models/iris/3/validation.json';

function problemOf(text: string): string {
  try {
    parseValidationFile(text, PATH);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValidationFileError);
    expect((error as Error).message.startsWith(`${PATH} is not a usable validation file: `)).toBe(true);
    return (error as InvalidValidationFileError).problem;
  }
  throw new Error(`expected ${text} to be refused`);
}

const rows = [
  [0.5, 1.5],
  [2.5, -3],
];

describe('parseValidationFile', () => {
  it('reads every field of a well-formed file', () => {
    const file = parseValidationFile(
      JSON.stringify({
        source: 'scikit-learn 1.5.2',
        inputs: rows,
        labels: ['setosa', 2],
        probabilities: [
          [0.9, 0.1],
          [0.2, 0.8],
        ],
        outputs: {
          logits: [
            [1, -1],
            [0, 2],
          ],
          score: [0.1, 0.2],
        },
        atol: 1e-4,
        rtol: 0,
      }),
      PATH,
    );
    expect(file).toEqual({
      source: 'scikit-learn 1.5.2',
      inputs: rows,
      labels: ['setosa', 2],
      probabilities: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      outputs: {
        logits: [
          [1, -1],
          [0, 2],
        ],
        score: [0.1, 0.2],
      },
      atol: 1e-4,
      rtol: 0,
    });
    expect(
      parseValidationFile(
        JSON.stringify({
          inputs: rows,
          values: [
            [1, 2],
            [3, 4],
          ],
        }),
        PATH,
      ).values,
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it.each([
    ['{"inputs": [[1]], "labels": [0],}', /^not valid JSON: /],
    ['[[1, 2]]', /^not a JSON object$/],
    [
      '{"inputs": [[1, 2]], "probabilites": [[0.5, 0.5]]}',
      /^unknown field "probabilites"; the fields are inputs, labels/,
    ],
    ['{"labels": [0]}', /^"inputs" must be an array, not undefined$/],
    ['{"inputs": [], "labels": []}', /^"inputs" holds no rows$/],
    [
      '{"inputs": [[1, 2], [3, "4"]], "labels": [0, 1]}',
      /^inputs\[1\]\[1\] must be a finite number, not "4"$/,
    ],
    [
      '{"inputs": [[1, 2], [3, null]], "labels": [0, 1]}',
      /^inputs\[1\]\[1\] must be a finite number, not null$/,
    ],
    [
      '{"inputs": [[1, 2], [3, 1e999]], "labels": [0, 1]}',
      /^inputs\[1\]\[1\] must be a finite number, not Infinity$/,
    ],
    ['{"inputs": [[1, 2], [3]], "labels": [0, 1]}', /^inputs\[1\] has 1 values; inputs\[0\] has 2$/],
    [
      '{"inputs": [[1, 2], 3], "labels": [0, 1]}',
      /^inputs\[1\] must be a non-empty array of numbers, not 3$/,
    ],
    ['{"inputs": [[1, 2], [3, 4]], "labels": [0]}', /^"labels" has 1 entries; "inputs" has 2 rows$/],
    ['{"inputs": [[1, 2]], "labels": [true]}', /^labels\[0\] must be a string or a number, not true$/],
    [
      '{"inputs": [[1, 2]], "probabilities": [0.5]}',
      /^probabilities\[0\] must be a non-empty array of numbers, not 0.5$/,
    ],
    ['{"inputs": [[1, 2], [3, 4]], "values": [1, [2]]}', /^"values" mixes numbers and arrays/],
    [
      '{"inputs": [[1, 2]], "values": [{}]}',
      /^values\[0\] must be a finite number or an array of them, not an object$/,
    ],
    ['{"inputs": [[1, 2]], "outputs": [[1]]}', /^"outputs" must be an object/],
    [
      '{"inputs": [[1, 2]], "outputs": {"logits": [[1], [2]]}}',
      /^"outputs.logits" has 2 entries; "inputs" has 1 rows$/,
    ],
    ['{"inputs": [[1, 2]]}', /^nothing to compare: give labels, probabilities, values or outputs$/],
    ['{"inputs": [[1, 2]], "outputs": {}}', /^nothing to compare/],
    ['{"inputs": [[1, 2]], "labels": [0], "atol": -1e-5}', /^"atol" must be a number ≥ 0, not -0.00001$/],
    ['{"inputs": [[1, 2]], "labels": [0], "rtol": "1e-5"}', /^"rtol" must be a number ≥ 0, not "1e-5"$/],
    ['{"inputs": [[1, 2]], "labels": [0], "source": 3}', /^"source" must be a string$/],
  ])('refuses %s, naming what is wrong', (text, problem) => {
    expect(problemOf(text)).toMatch(problem);
  });

  it('says why when Python wrote NaN or Infinity', () => {
    expect(problemOf('{"inputs": [[1, NaN]], "labels": [0]}')).toMatch(
      /^not valid JSON: .*it holds NaN or Infinity, which JSON has no spelling for/,
    );
    expect(problemOf('{"inputs": [[1, 2]], "values": [-Infinity]}')).toMatch(/NaN or Infinity/);
  });
});

describe('validationPathOf', () => {
  it('is validation.json beside a repository model.onnx, <stem>.validation.json beside any other file', () => {
    expect(validationPathOf('/models/iris/3/model.onnx')).toBe('/models/iris/3/validation.json');
    expect(validationPathOf('/exports/iris.onnx')).toBe('/exports/iris.validation.json');
  });
});

describe('readValidationFile', () => {
  it('reads a file and names one that cannot be read', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'validation-'));
    const path = join(folder, 'validation.json');
    writeFileSync(path, JSON.stringify({ inputs: rows, values: [1, 2] }));
    await expect(readValidationFile(path)).resolves.toEqual({ inputs: rows, values: [1, 2] });
    await expect(readValidationFile(join(folder, 'missing.json'))).rejects.toThrow(
      `${join(folder, 'missing.json')} is not a usable validation file: cannot be read (ENOENT)`,
    );
  });
});
