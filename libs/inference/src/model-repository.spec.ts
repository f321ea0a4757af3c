import { AppConfig } from '@app/config';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRepository } from './model-repository';

function repositoryWith(env: Record<string, string | undefined>): ModelRepository {
  const config = { get: (key: string) => env[key] } as unknown as AppConfig;
  return new ModelRepository(config);
}

function layout(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'models-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('ModelRepository', () => {
  it('serves the highest numeric version of each name, sorted by name', async () => {
    const root = layout({
      'b/1/model.onnx': 'x',
      'b/10/model.onnx': 'x',
      'b/9/model.onnx': 'x',
      'b/11/notes.txt': 'no model here',
      'a/2/model.onnx': 'x',
      'a/2/model.json': '{"features":["x","y"]}',
      'a/latest/model.onnx': 'not numeric',
    });
    const sources = await repositoryWith({ MODEL_REPOSITORY: root }).discover();
    expect(sources.map((s) => [s.name, s.version, s.manifest])).toEqual([
      ['a', '2', { features: ['x', 'y'] }],
      ['b', '10', undefined],
    ]);
    expect(sources[1].path).toBe(join(root, 'b/10/model.onnx'));
  });

  it('serves MODEL_PATH alone under its stem, version 1, with a sibling <stem>.json', async () => {
    const root = layout({ 'iris.onnx': 'x', 'iris.json': '{"labels":["setosa","versicolor","virginica"]}' });
    const [source] = await repositoryWith({ MODEL_PATH: join(root, 'iris.onnx') }).discover();
    expect(source).toMatchObject({
      name: 'iris',
      version: '1',
      manifest: { labels: ['setosa', 'versicolor', 'virginica'] },
    });
    const [named] = await repositoryWith({
      MODEL_PATH: join(root, 'iris.onnx'),
      MODEL_NAME: 'flowers',
    }).discover();
    expect(named.name).toBe('flowers');
  });

  it.each([
    ['{"features": "f0"}', /"features" must be an array of strings/],
    ['{"task": "ranking"}', /"task" must be "classification" or "regression"/],
    ['{"scores": "odds"}', /"scores" must be "probabilities" or "logits"/],
    ['[1, 2]', /not a JSON object/],
    ['{oops', /is not valid model.json/],
  ])('rejects model.json %s naming the file', async (manifest, message) => {
    const root = layout({ 'm/1/model.onnx': 'x', 'm/1/model.json': manifest });
    const discovery = repositoryWith({ MODEL_REPOSITORY: root }).discover();
    await expect(discovery).rejects.toThrow(message);
    await expect(repositoryWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(
      join(root, 'm/1/model.json'),
    );
  });

  it.each([
    [
      'an empty model folder',
      { 'other_model/.keep': '' },
      'other_model/ cannot be served: it has no numeric version folder',
    ],
    [
      'a version folder without model.onnx',
      { 'third_model/1/model.json': '{}' },
      'third_model/ cannot be served: no version folder (1) holds a model.onnx',
    ],
  ])('stops the start on %s beside a valid model, naming the folder and why', async (_, files, message) => {
    const root = layout({ 'good/1/model.onnx': 'x', ...files });
    await expect(repositoryWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(message);
  });

  it('finds the validation file of the version it serves, and of a MODEL_PATH file by its stem', async () => {
    const root = layout({
      'a/1/model.onnx': 'x',
      'a/1/validation.json': '{}',
      'a/2/model.onnx': 'x',
      'b/3/model.onnx': 'x',
      'b/3/validation.json': '{}',
      'iris.onnx': 'x',
      'iris.validation.json': '{}',
      'other.onnx': 'x',
      'validation.json': '{}',
    });
    const sources = await repositoryWith({ MODEL_REPOSITORY: root }).discover();
    // a serves version 2, which ships none: version 1's file is not its.
    expect(sources.map((s) => [s.name, s.version, s.validation])).toEqual([
      ['a', '2', undefined],
      ['b', '3', join(root, 'b/3/validation.json')],
    ]);
    const [iris] = await repositoryWith({ MODEL_PATH: join(root, 'iris.onnx') }).discover();
    expect(iris.validation).toBe(join(root, 'iris.validation.json'));
    // A folder's validation.json belongs to its model.onnx, not to every .onnx file beside it.
    const [other] = await repositoryWith({ MODEL_PATH: join(root, 'other.onnx') }).discover();
    expect(other.validation).toBeUndefined();
  });

  it('leaves alone folders that cannot be model names', async () => {
    const root = layout({ 'good/1/model.onnx': 'x', '..data/file': 'x', '.git/HEAD': 'x' });
    const sources = await repositoryWith({ MODEL_REPOSITORY: root }).discover();
    expect(sources.map((s) => s.name)).toEqual(['good']);
  });

  it('fails clearly on an empty or missing repository', async () => {
    await expect(
      repositoryWith({ MODEL_REPOSITORY: layout({ 'readme.txt': 'x' }) }).discover(),
    ).rejects.toThrow(/holds no model: expected <name>\/<version>\/model.onnx/);
    await expect(repositoryWith({ MODEL_REPOSITORY: '/nonexistent-dir' }).discover()).rejects.toThrow(
      /cannot be read: ENOENT/,
    );
  });
});
