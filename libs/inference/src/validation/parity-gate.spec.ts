import type { AppConfig } from '@app/config';
import type { InferenceMetrics } from '@app/observability';
import { Logger } from '@nestjs/common';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linearRegressor, randomRows, torchMlp } from '../../../../test/support/onnx-model-builder';
import { perturbedSeedModel, shiftConstant, validationFor } from '../../../../test/support/perturbed-models';
import type { ModelManifest } from '../model-signature';
import { adaptModel } from '../onnx';
import { ModelRefusedError, ParityGate } from './parity-gate';
import { parseValidationFile, type ValidationFile } from './validation-file';

const SEED = join(__dirname, '../../../../models/seed_gbc/1');
const seedManifest = JSON.parse(readFileSync(join(SEED, 'model.json'), 'utf8')) as ModelManifest;
const seedValidation = parseValidationFile(
  readFileSync(join(SEED, 'validation.json'), 'utf8'),
  'validation.json',
);

function gateWith(env: Record<string, unknown> = {}) {
  const settings: Record<string, unknown> = {
    INFERENCE_THREADS: 0,
    ORT_EXECUTION_PROVIDERS: ['cpu'],
    REQUIRE_VALIDATION: false,
    ...env,
  };
  const config = { get: (key: string) => settings[key] } as unknown as AppConfig;
  const failures: Array<[string, string]> = [];
  const metrics = {
    countValidationFailure: (model: string, version: string) => failures.push([model, version]),
  } as unknown as InferenceMetrics;
  return { gate: new ParityGate(config, metrics), failures };
}

/** A version folder holding `validation` (text or an object), as the repository hands it to the gate. */
function versionWith(validation?: string | object) {
  const folder = mkdtempSync(join(tmpdir(), 'gate-'));
  const path = join(folder, 'validation.json');
  if (validation !== undefined)
    writeFileSync(path, typeof validation === 'string' ? validation : JSON.stringify(validation));
  return {
    name: 'churn',
    version: '4',
    path: join(folder, 'model.onnx'),
    ...(validation !== undefined ? { validation: path } : {}),
  };
}

describe('ParityGate.validate: real exports through onnxruntime, against what their framework computed', () => {
  const { gate } = gateWith();

  it('passes the shipped scikit-learn model against scikit-learn’s own outputs', async () => {
    const model = adaptModel(readFileSync(join(SEED, 'model.onnx')), seedManifest);
    const report = await gate.validate(model, seedValidation, 'validation.json');
    expect(report.passed).toBe(true);
    expect(report.rows).toBe(64);
    expect(report.checks.map((c) => [c.field, c.compared, c.failed])).toEqual([
      ['labels', 64, 0],
      ['probabilities', 128, 0],
    ]);
    // The fixtures' README measured onnxruntime against scikit-learn at about 1.4e-7.
    expect(report.checks[1].worst!.difference).toBeLessThan(1e-6);
  });

  it('fails the same model with its prior moved by 1e-3, every label unchanged', async () => {
    const model = adaptModel(await perturbedSeedModel(1e-3), seedManifest);
    const report = await gate.validate(model, seedValidation, 'validation.json');
    expect(report.passed).toBe(false);
    const [labels, probabilities] = report.checks;
    expect(labels.failed).toBe(0);
    expect(probabilities.failed).toBeGreaterThan(0);
    const worst = probabilities.worst!;
    expect(worst.difference).toBeGreaterThan(worst.allowed!);
    expect(worst.expected).toBe(seedValidation.probabilities![worst.row][Number(worst.column)]);
  });

  it.each([
    ['a PyTorch MLP ending in logits', torchMlp({ outputs: 3, seed: 21 }), 'layers.2.bias'],
    [
      'the same with a fixed batch of 1 (run row by row)',
      torchMlp({ outputs: 3, seed: 21, batch: 1 }),
      'layers.2.bias',
    ],
    ['a binary net ending in Sigmoid', torchMlp({ head: 'sigmoid', outputs: 1, seed: 13 }), 'layers.0.bias'],
    [
      'a two-target regressor',
      torchMlp({ outputs: 2, seed: 15, manifest: { task: 'regression' } }),
      'layers.2.weight',
    ],
  ])(
    'passes %s against its weights’ arithmetic, and fails it with one weight moved',
    async (_, built, weight) => {
      const rows = randomRows(40, built.featureCount, 3);
      const file = validationFor(built, rows) as unknown as ValidationFile;
      const report = await gate.validate(adaptModel(built.bytes, built.manifest), file, 'validation.json');
      expect(report.passed).toBe(true);

      const moved = shiftConstant(built.bytes, { initializer: weight, index: 0 }, 0.01);
      const off = await gate.validate(adaptModel(moved, built.manifest), file, 'validation.json');
      expect(off.passed).toBe(false);
    },
  );

  it('compares a scikit-learn regressor’s values of magnitude ~100 with the relative tolerance', async () => {
    const built = linearRegressor({ featureCount: 5 });
    const rows = randomRows(30, 5, 8);
    const file = validationFor(built, rows) as unknown as ValidationFile;
    const model = adaptModel(built.bytes);
    expect((await gate.validate(model, file, 'validation.json')).passed).toBe(true);
    const exact = await gate.validate(model, { ...file, atol: 0, rtol: 0 }, 'validation.json');
    // float32 arithmetic against float64: not bit-identical, which is why there is a tolerance at all.
    expect(exact.checks[0].failed).toBeGreaterThan(0);
  });

  it('refuses a file that is not for this model as a file problem, before running anything', async () => {
    const built = torchMlp({ outputs: 3, featureCount: 6 });
    await expect(
      gate.validate(adaptModel(built.bytes), seedValidation, '/models/mlp/1/validation.json'),
    ).rejects.toThrow(
      '/models/mlp/1/validation.json is not a usable validation file: inputs rows have 10 values; the model takes 6 features',
    );
  });
});

describe('ParityGate.admit: before a version takes traffic', () => {
  const seed = () => adaptModel(readFileSync(join(SEED, 'model.onnx')), seedManifest);
  let errors: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errors.mockRestore());

  it('admits a version without a validation file unless REQUIRE_VALIDATION is set', async () => {
    const { gate, failures } = gateWith();
    await expect(gate.admit(versionWith(), seed())).resolves.toBeUndefined();
    expect(failures).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
  });

  it('refuses it with REQUIRE_VALIDATION, naming the file it looked for', async () => {
    const { gate, failures } = gateWith({ REQUIRE_VALIDATION: true });
    const version = versionWith();
    const refusal = gate.admit(version, seed());
    await expect(refusal).rejects.toThrow(ModelRefusedError);
    await expect(refusal).rejects.toThrow(
      `model "churn" version 4 refused: REQUIRE_VALIDATION is set and there is no ${join(version.path, '../validation.json')} to check it against`,
    );
    expect(failures).toEqual([['churn', '4']]);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('admits a version whose outputs match, with what was compared', async () => {
    const { gate, failures } = gateWith({ REQUIRE_VALIDATION: true });
    const report = await gate.admit(versionWith(readFileSync(join(SEED, 'validation.json'), 'utf8')), seed());
    expect(report).toMatchObject({ passed: true, rows: 64 });
    expect(failures).toEqual([]);
  });

  it('refuses a version whose outputs are off: one error line with the worst row, expected and got', async () => {
    const { gate, failures } = gateWith();
    const version = versionWith(readFileSync(join(SEED, 'validation.json'), 'utf8'));
    const error = await gate.admit(version, adaptModel(await perturbedSeedModel(1e-3), seedManifest)).then(
      () => undefined,
      (e: unknown) => e as ModelRefusedError,
    );
    expect(error).toBeInstanceOf(ModelRefusedError);
    const worst = error!.report!.checks[1].worst!;
    expect(error!.message).toContain(
      `model "churn" version 4 refused: its outputs differ from ${version.validation}: `,
    );
    expect(error!.message).toContain(
      `worst row ${worst.row} probabilities["${worst.column}"]: expected ${worst.expected}, got ${worst.got}`,
    );
    expect(failures).toEqual([['churn', '4']]);
    expect(errors).toHaveBeenCalledTimes(1);
    const [fields, message] = errors.mock.calls[0] as [Record<string, unknown>, string];
    expect(message).toBe(error!.message);
    expect(fields).toMatchObject({
      model: 'churn',
      modelVersion: '4',
      validation: version.validation,
      field: 'probabilities',
      row: worst.row,
      column: worst.column,
      expected: worst.expected,
      got: worst.got,
      failed: error!.report!.checks[1].failed,
      compared: 128,
    });
  });

  it.each([
    [
      'not JSON',
      '{"inputs": [[1, 2]],',
      /refused: .*validation.json is not a usable validation file: not valid JSON/,
    ],
    ['a typo in a field name', { inputs: [[1]], label: [0] }, /unknown field "label"/],
    [
      'rows of another model',
      { inputs: [[1, 2]], labels: [0] },
      /inputs rows have 2 values; the model takes 10 features/,
    ],
  ])('refuses a version whose validation file is %s, naming the problem', async (_, content, message) => {
    const { gate, failures } = gateWith();
    await expect(gate.admit(versionWith(content), seed())).rejects.toThrow(message);
    expect(failures).toEqual([['churn', '4']]);
  });
});
