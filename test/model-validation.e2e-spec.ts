import { ModelRefusedError, ModelRegistry, type ValidationFile, type ValidationReport } from '@app/inference';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'prom-client';
import request from 'supertest';
import { startApp } from './support/app';
import { runCli } from './support/monitoring-cli';
import { torchMlp, writeModel } from './support/onnx-model-builder';
import { perturbedSeedModel, writeSeedVersion } from './support/perturbed-models';
import { freePort, ServerProcess } from './support/server-process';

/*
 * The parity gate (docs/VALIDATION.md): a version whose outputs differ from its validation.json never takes traffic.
 * At start nothing else serves its name, so the start stops with exit 1 as for a corrupt model. Needs the built
 * service and CLI (`npm run build`).
 */

/** The shipped model's validation file: a classifier's, so its labels and probabilities are there. */
const SEED_VALIDATION = JSON.parse(
  readFileSync('models/seed_gbc/1/validation.json', 'utf8'),
) as ValidationFile & Required<Pick<ValidationFile, 'labels' | 'probabilities'>>;

function repository(): string {
  return mkdtempSync(join(tmpdir(), 'validation-models-'));
}

/** A repository whose one model is the shipped one with its prior moved by 1e-3, beside scikit-learn's outputs. */
async function perturbedRepository(): Promise<string> {
  const root = repository();
  await writeSeedVersion(root, 'churn', await perturbedSeedModel(1e-3));
  return root;
}

describe('the parity gate at start', () => {
  const started: ServerProcess[] = [];
  const start = (env: Record<string, string>, port = freePort()) => {
    const server = ServerProcess.start({ PORT: String(port), ...env });
    started.push(server);
    return server;
  };
  afterEach(() => started.splice(0).forEach((s) => s.kill()));

  it('serves the shipped model once its outputs matched scikit-learn’s, even with REQUIRE_VALIDATION', async () => {
    const port = freePort();
    const server = start(
      { MODEL_REPOSITORY: './models', REQUIRE_VALIDATION: 'true', HTTP_WORKERS: '1' },
      port,
    );
    await server.waitForLog((line) => line.msg === 'ready');
    const loaded = server.logLines.find((line) => String(line.msg).startsWith('model seed_gbc v1 loaded'));
    expect(loaded).toMatchObject({ model: 'seed_gbc', modelVersion: '1', validatedRows: 64 });

    const answer = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: SEED_VALIDATION.inputs[11] }),
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { prediction: number; probabilities: Record<string, number> };
    // Row 11 of the file, served: scikit-learn's label and probability.
    expect(body.prediction).toBe(SEED_VALIDATION.labels[11]);
    expect(Math.abs(body.probabilities['1'] - SEED_VALIDATION.probabilities[11][1])).toBeLessThan(1e-5);
  });

  it.each([
    ['one process', { HTTP_WORKERS: '1' }],
    ['two HTTP workers', { HTTP_WORKERS: '2' }],
  ])(
    'refuses a perturbed model with exit 1 (%s), naming the model, version, worst row, expected and got',
    async (_, processes) => {
      const server = start({ MODEL_REPOSITORY: await perturbedRepository(), ...processes });
      expect(await server.exitCode()).toBe(1);

      const refusal = server.logLines.find((line) => line.level === 'error' && line.model === 'churn');
      expect(refusal).toMatchObject({ modelVersion: '1', field: 'probabilities' });
      const { row, column, expected, got, difference, allowed } = refusal as Record<string, number>;
      // The worst row as the file has it: the expected value is scikit-learn's, the got one is off by more than allowed.
      expect(expected).toBe(SEED_VALIDATION.probabilities[row][Number(column)]);
      expect(Math.abs(got - expected)).toBeCloseTo(difference, 12);
      expect(difference).toBeGreaterThan(allowed);
      expect(String(refusal!.msg)).toMatch(
        new RegExp(
          `^model "churn" version 1 refused: its outputs differ from .*/churn/1/validation\\.json: \\d+ of 128 probabilities off \\(atol 1e-5, rtol 1e-5\\); worst row ${row} probabilities\\["${column}"\\]: expected ${expected}, got ${got} `,
        ),
      );
      const fatal = server.logLines.find((line) => line.level === 'fatal');
      expect(String(fatal?.msg)).toContain(`worst row ${row}`);
      expect(server.logLines.some((line) => line.msg === 'ready')).toBe(false);
    },
  );

  it('refuses a version without validation.json when REQUIRE_VALIDATION=true, exit 1', async () => {
    const root = repository();
    const folder = await writeModel(root, torchMlp({ name: 'unchecked', outputs: 2 }));
    const server = start({ MODEL_REPOSITORY: root, REQUIRE_VALIDATION: 'true', HTTP_WORKERS: '1' });
    expect(await server.exitCode()).toBe(1);
    const fatal = server.logLines.find((line) => line.level === 'fatal');
    expect(String(fatal?.msg)).toBe(
      `model "unchecked" version 1 refused: REQUIRE_VALIDATION is set and there is no ${join(folder, 'validation.json')} to check it against`,
    );
  });

  it('stops the start on a refused model even beside a valid one: serving without it would drop its traffic', async () => {
    const root = await perturbedRepository();
    await writeSeedVersion(root, 'seed_gbc');
    const server = start({ MODEL_REPOSITORY: root, HTTP_WORKERS: '1' });
    expect(await server.exitCode()).toBe(1);
    expect(server.logLines.find((line) => line.level === 'fatal')?.msg).toMatch(
      /^model "churn" version 1 refused/,
    );
  });
});

describe('the refusal in the metrics', () => {
  it('counts model_validation_failures_total for the refused version only', async () => {
    register.resetMetrics();
    const root = await perturbedRepository();
    await writeSeedVersion(root, 'seed_gbc');
    const app = await startApp({ MODEL_REPOSITORY: root, DEFAULT_MODEL: 'seed_gbc' }, { load: false });
    try {
      await expect(app.get(ModelRegistry).loadAll()).rejects.toThrow(ModelRefusedError);
      const exposition = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
      const series = exposition
        .split('\n')
        .filter((line) => line.startsWith('model_validation_failures_total{'));
      expect(series).toEqual(['model_validation_failures_total{model="churn",version="1"} 1']);
    } finally {
      await app.close();
    }
  });
});

describe('ml-cli validate', () => {
  it('exits 0 for the shipped model, with a table of the worst deviation per output', () => {
    const { code, stdout, stderr } = runCli(['validate', '--model', 'models/seed_gbc/1/model.onnx'], {});
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^PASS: .*models\/seed_gbc\/1\/model\.onnx$/);
    expect(lines[1]).toMatch(
      /against .*models\/seed_gbc\/1\/validation\.json: 64 rows, atol 1e-5, rtol 1e-5$/,
    );
    const header = lines.findIndex((line) => line.startsWith('output'));
    expect(lines[header].split(/\s{2,}/)).toEqual([
      'output',
      'compared',
      'off',
      'worst row',
      'column',
      'expected',
      'got',
      'difference',
      'allowed',
    ]);
    expect(lines[header + 1]).toMatch(/^labels\s+64\s+0\s+—$/);
    expect(lines[header + 2]).toMatch(/^probabilities\s+128\s+0\s+\d+\s+[01]\s/);
  });

  it('exits 1 for the perturbed model, naming the worst row; --json parses', async () => {
    const root = await perturbedRepository();
    const model = join(root, 'churn/1/model.onnx');
    const text = runCli(['validate', '--model', model], {});
    expect(text.code).toBe(1);
    expect(text.stdout.split('\n')[0]).toBe(`FAIL: ${model}`);

    const json = runCli(['validate', '--model', model, '--json'], {});
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as ValidationReport;
    expect(report).toMatchObject({
      model,
      validation: join(root, 'churn/1/validation.json'),
      passed: false,
      rows: 64,
      tolerance: { atol: 1e-5, rtol: 1e-5 },
    });
    const probabilities = report.checks.find((check) => check.field === 'probabilities')!;
    expect(probabilities.failed).toBeGreaterThan(0);
    const { row, column, expected } = probabilities.worst!;
    expect(expected).toBe(SEED_VALIDATION.probabilities[row][Number(column)]);
    // The text table names the same worst row.
    const tableRow = text.stdout.split('\n').find((line) => line.startsWith('probabilities'))!;
    expect(tableRow.split(/\s+/).slice(1, 5)).toEqual([
      '128',
      String(probabilities.failed),
      String(row),
      column,
    ]);
  });

  it('exits 0 with --json for a passing model, the report parsing as JSON', () => {
    const { code, stdout } = runCli(['validate', '--model', 'models/seed_gbc/1/model.onnx', '--json'], {});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ passed: true, rows: 64, source: SEED_VALIDATION.source });
  });

  it('exits 2 when the model or the validation file cannot be used, saying why', () => {
    const root = repository();
    const broken = join(root, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({ ...SEED_VALIDATION, probabilities: SEED_VALIDATION.probabilities.slice(1) }),
    );
    const regression = join(root, 'regression.json');
    writeFileSync(
      regression,
      JSON.stringify({ inputs: SEED_VALIDATION.inputs, values: SEED_VALIDATION.labels }),
    );
    const cases: Array<[string[], RegExp]> = [
      [['--model', join(root, 'missing.onnx')], /^error: cannot use the model .*missing\.onnx: ENOENT$/m],
      [
        ['--model', 'models/seed_gbc/1/model.onnx', '--validation', broken],
        /^error: .*broken\.json is not a usable validation file: "probabilities" has 63 entries; "inputs" has 64 rows$/m,
      ],
      [
        ['--model', 'test/fixtures/seed_torch_mlp.onnx'],
        /seed_torch_mlp\.validation\.json is not a usable validation file: cannot be read \(ENOENT\)/,
      ],
      [
        ['--model', 'models/seed_gbc/1/model.onnx', '--validation', regression],
        /regression\.json is not a usable validation file: "values" are for regressors; this model is a classifier/,
      ],
      [[], /--model is required/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = runCli(['validate', ...args], {});
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
    }
  });
});
