import { expect } from '@jest/globals';
import { AppConfig } from '@app/config';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelNotFoundError } from '../errors';
import { ModelVersionNotFoundError } from '../open-inference/errors';
import { type CatalogModel, defaultVersionOf, ModelCatalog } from './model-catalog';

function catalogWith(env: Record<string, string | undefined>): ModelCatalog {
  const config = { get: (key: string) => env[key] } as unknown as AppConfig;
  return new ModelCatalog(config);
}

function layout(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'models-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const versionsOf = (model: CatalogModel) => ({
  available: model.available.map((s) => s.version),
  served: model.served.map((s) => s.version),
  default: defaultVersionOf(model),
});

describe('ModelCatalog', () => {
  it('serves the highest numeric version of each name by default, sorted by name', async () => {
    const root = layout({
      'b/1/model.onnx': 'x',
      'b/10/model.onnx': 'x',
      'b/9/model.onnx': 'x',
      'b/11/notes.txt': 'no model here',
      'a/2/model.onnx': 'x',
      'a/2/model.json': '{"features":["x","y"]}',
      'a/latest/model.onnx': 'not numeric',
    });
    const models = await catalogWith({ MODEL_REPOSITORY: root }).discover();
    expect(models.map((m) => [m.name, versionsOf(m)])).toEqual([
      ['a', { available: ['2'], served: ['2'], default: '2' }],
      ['b', { available: ['1', '9', '10'], served: ['10'], default: '10' }],
    ]);
    expect(models[0].served[0].manifest).toEqual({ features: ['x', 'y'] });
    expect(models[1].served[0].path).toBe(join(root, 'b/10/model.onnx'));
    expect(models[1].served[0].reference).toBe(join(root, 'b/10/reference.json'));
  });

  it.each([
    ['{"version_policy": {"latest": 2}}', ['9', '10'], '10'],
    ['{"version_policy": {"all": true}}', ['1', '9', '10'], '10'],
    ['{"version_policy": {"specific": [1, "9"]}}', ['1', '9'], '9'],
    ['{"version_policy": {"all": true}, "default_version": 9}', ['1', '9', '10'], '9'],
    ['{"default_version": "10"}', ['10'], '10'],
  ])('serves what the model’s own model.json %s selects', async (config, served, defaultVersion) => {
    const root = layout({
      'm/model.json': config,
      'm/1/model.onnx': 'x',
      'm/9/model.onnx': 'x',
      'm/10/model.onnx': 'x',
    });
    const [model] = await catalogWith({ MODEL_REPOSITORY: root }).discover();
    expect(versionsOf(model)).toEqual({ available: ['1', '9', '10'], served, default: defaultVersion });
  });

  it('falls back to the highest served version when the pinned default is not served', async () => {
    const root = layout({
      'm/model.json': '{"version_policy": {"latest": 1}, "default_version": 1}',
      'm/1/model.onnx': 'x',
      'm/2/model.onnx': 'x',
    });
    const [model] = await catalogWith({ MODEL_REPOSITORY: root }).discover();
    expect(model.pinnedDefault).toBe('1');
    expect(versionsOf(model)).toEqual({ available: ['1', '2'], served: ['2'], default: '2' });
  });

  it.each([
    [
      '{"version_policy": {"latest": 0}}',
      /"version_policy.latest" must be a whole number of versions, at least 1/,
    ],
    ['{"version_policy": {"newest": 1}}', /"version_policy" must be \{"latest": N\}/],
    ['{"version_policy": {"all": true, "latest": 1}}', /"version_policy" must be/],
    ['{"version_policy": {"all": "yes"}}', /"version_policy.all" must be true/],
    ['{"version_policy": {"specific": []}}', /"version_policy.specific" must be a non-empty array/],
    ['{"version_policy": {"specific": [1.5]}}', /"version_policy.specific\[0\]" must be a version number/],
    ['{"default_version": "v2"}', /"default_version" must be a version number/],
    [
      '{"features": ["a"]}',
      /holds only "version_policy" and "default_version"; "features" goes in each version's/,
    ],
    [
      '{"version_policy": {"specific": [7]}}',
      /m\/ cannot be served: its version_policy \(specific 7\) selects none of its versions \(1\)/,
    ],
    ['{oops', /m\/model\.json is not valid model\.json/],
  ])('refuses the model-level model.json %s, naming the file', async (config, message) => {
    const root = layout({ 'm/model.json': config, 'm/1/model.onnx': 'x', 'ok/1/model.onnx': 'x' });
    await expect(catalogWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(message);
    // A rescan keeps the problem to the model: the others are served.
    const scan = await catalogWith({ MODEL_REPOSITORY: root }).scan();
    expect(scan.models.map((m) => m.name)).toEqual(['ok']);
    expect(scan.problems).toEqual([{ model: 'm', message: expect.stringMatching(message) }]);
  });

  it('serves MODEL_PATH alone under its stem, version 1, with a sibling <stem>.json', async () => {
    const root = layout({ 'iris.onnx': 'x', 'iris.json': '{"labels":["setosa","versicolor","virginica"]}' });
    const [model] = await catalogWith({ MODEL_PATH: join(root, 'iris.onnx') }).discover();
    expect(model.name).toBe('iris');
    expect(model.served[0]).toMatchObject({
      name: 'iris',
      version: '1',
      manifest: { labels: ['setosa', 'versicolor', 'virginica'] },
    });
    const [named] = await catalogWith({
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
    [
      '{"version_policy": {"all": true}}',
      /"version_policy" is about every version of the model: it goes in the model's own model.json/,
    ],
  ])('rejects a version’s model.json %s naming the file', async (manifest, message) => {
    const root = layout({ 'm/1/model.onnx': 'x', 'm/1/model.json': manifest });
    await expect(catalogWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(message);
    await expect(catalogWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(
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
    await expect(catalogWith({ MODEL_REPOSITORY: root }).discover()).rejects.toThrow(message);
  });

  it('finds the validation file of each version, and of a MODEL_PATH file by its stem', async () => {
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
    const models = await catalogWith({ MODEL_REPOSITORY: root }).discover();
    // a serves version 2, which ships none: version 1's file is its own.
    expect(models.flatMap((m) => m.available.map((s) => [s.name, s.version, s.validation]))).toEqual([
      ['a', '1', join(root, 'a/1/validation.json')],
      ['a', '2', undefined],
      ['b', '3', join(root, 'b/3/validation.json')],
    ]);
    const [iris] = await catalogWith({ MODEL_PATH: join(root, 'iris.onnx') }).discover();
    expect(iris.served[0].validation).toBe(join(root, 'iris.validation.json'));
    // A folder's validation.json belongs to its model.onnx, not to every .onnx file beside it.
    const [other] = await catalogWith({ MODEL_PATH: join(root, 'other.onnx') }).discover();
    expect(other.served[0].validation).toBeUndefined();
  });

  it('gives a version another fingerprint when one of its files changes or is replaced', async () => {
    const root = layout({ 'm/1/model.onnx': 'x' });
    const catalog = catalogWith({ MODEL_REPOSITORY: root });
    const print = async () => (await catalog.discover())[0].served[0].fingerprint;
    const first = await print();
    expect(await print()).toBe(first);
    writeFileSync(join(root, 'm/1/model.json'), '{}');
    const withManifest = await print();
    expect(withManifest).not.toBe(first);
    writeFileSync(join(root, 'm/1/next.onnx'), 'y');
    renameSync(join(root, 'm/1/next.onnx'), join(root, 'm/1/model.onnx'));
    expect(await print()).not.toBe(withManifest);
  });

  it('finds any version on disk by number, the default without one, and 404s the rest', async () => {
    const root = layout({
      'm/model.json': '{"version_policy": {"latest": 1}}',
      'm/1/model.onnx': 'x',
      'm/2/model.onnx': 'x',
    });
    const catalog = catalogWith({ MODEL_REPOSITORY: root });
    expect(await catalog.find('m')).toMatchObject({ source: { version: '2' }, isDefault: true });
    // Version 1 is no longer served, but its traffic can still be checked for drift.
    expect(await catalog.find('m', '1')).toMatchObject({ source: { version: '1' }, isDefault: false });
    await expect(catalog.find('m', '3')).rejects.toThrow(ModelVersionNotFoundError);
    await expect(catalog.find('m', '3')).rejects.toThrow('the repository holds versions "1", "2"');
    await expect(catalog.find('nope')).rejects.toThrow(ModelNotFoundError);
  });

  it('leaves alone folders that cannot be model names', async () => {
    const root = layout({ 'good/1/model.onnx': 'x', '..data/file': 'x', '.git/HEAD': 'x' });
    const models = await catalogWith({ MODEL_REPOSITORY: root }).discover();
    expect(models.map((m) => m.name)).toEqual(['good']);
  });

  it('fails clearly on an empty or missing repository', async () => {
    await expect(catalogWith({ MODEL_REPOSITORY: layout({ 'readme.txt': 'x' }) }).discover()).rejects.toThrow(
      /holds no model: expected <name>\/<version>\/model.onnx/,
    );
    await expect(catalogWith({ MODEL_REPOSITORY: '/nonexistent-dir' }).discover()).rejects.toThrow(
      /cannot be read: ENOENT/,
    );
  });
});
