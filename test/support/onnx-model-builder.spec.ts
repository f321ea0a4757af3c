import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linearRegressor, randomRows, torchMlp, writeModel } from './onnx-model-builder';

describe('onnx-model-builder', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'model-repository-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lays a model out as <root>/<name>/<version>/model.onnx with its model.json', async () => {
    const model = torchMlp({ outputs: 2, manifest: { task: 'regression' } });
    const directory = await writeModel(root, model, 3);

    expect(directory).toBe(join(root, 'mlp-regressor-2', '3'));
    expect(Buffer.from(await readFile(join(directory, 'model.onnx'))).equals(Buffer.from(model.bytes))).toBe(
      true,
    );
    expect(JSON.parse(await readFile(join(directory, 'model.json'), 'utf8'))).toEqual({ task: 'regression' });
  });

  it('writes no model.json for a model without a manifest', async () => {
    const directory = await writeModel(root, linearRegressor());
    await expect(readFile(join(directory, 'model.json'))).rejects.toThrow('ENOENT');
  });

  it('builds the same bytes and rows on every run, so references stay valid', () => {
    expect(Buffer.from(torchMlp({ seed: 1 }).bytes).equals(Buffer.from(torchMlp({ seed: 1 }).bytes))).toBe(
      true,
    );
    expect(Buffer.from(torchMlp({ seed: 1 }).bytes).equals(Buffer.from(torchMlp({ seed: 2 }).bytes))).toBe(
      false,
    );
    expect(randomRows(3, 4)).toEqual(randomRows(3, 4));
  });
});
