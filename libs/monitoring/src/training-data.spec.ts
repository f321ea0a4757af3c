import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellValue, readTrainingData, splitCsvLine } from './training-data';

describe('training data', () => {
  it('splits plain and quoted CSV records alike', () => {
    expect(splitCsvLine('1,2.5,,x')).toEqual(['1', '2.5', '', 'x']);
    expect(splitCsvLine('"1,5",2,"say ""hi"""')).toEqual(['1,5', '2', 'say "hi"']);
    expect(splitCsvLine('')).toEqual(['']);
  });

  it('reads numbers, missing-value words and nothing else', () => {
    expect([' 1.5 ', '-2e3', '0x10', '0'].map(cellValue)).toEqual([1.5, -2000, 16, 0]);
    expect(['', '  ', 'NA', 'nan', 'NULL', 'None', 'n/a', null, undefined, NaN].map(cellValue)).toEqual(
      new Array(10).fill(null),
    );
    expect(['abc', 'Infinity', '1,5', {}].map(cellValue)).toEqual(new Array(4).fill(undefined));
  });

  it('streams rows in the model feature order, the same every time the file is read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'training-')), 'train.csv');
    writeFileSync(path, 'b,label,a\r\n1,0,2\r\n"3",1,NA\n\n5,0,6');
    const read = async () => {
      const rows = [];
      for await (const row of readTrainingData(path, { features: ['a', 'b'], featureCount: 2 }))
        rows.push(row);
      return rows;
    };
    const expected = [
      { line: 2, values: [2, 1] },
      { line: 3, values: [null, 3] },
      { line: 5, values: [6, 5] },
    ];
    expect(await read()).toEqual(expected);
    expect(await read()).toEqual(expected);
  });

  it('names the line and column of a cell that is not a number', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'training-')), 'train.csv');
    writeFileSync(path, 'a,b\n1,2\n3,abc\n');
    const rows = readTrainingData(path, { featureCount: 2 });
    await expect(
      (async () => {
        for await (const row of rows) void row;
      })(),
    ).rejects.toThrow(/train\.csv:3: column "b": "abc" is not a number/);
  });
});
