import { expect } from '@jest/globals';
import { type DriftReport, PredictionLog } from '@app/monitoring';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp } from './support/app';
import { runCli } from './support/monitoring-cli';
import { sampleRows, seedTrainingRows, shiftFeatures } from './support/monitoring-data';

/*
 * Monitoring reads the model catalog only: the drift check finds a version's reference.json and its traffic in the
 * prediction log without opening the model. Proven on a repository whose model files no session could open (the
 * traffic was logged while they still could), each version checked against its own reference. Needs the built CLI.
 */

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const SEED = 'models/seed_gbc/1';

describe('drift from the catalog alone', () => {
  it('checks each version of a model whose files cannot be opened, against its own reference', async () => {
    const root = tmp('catalog-models-');
    const data = tmp('catalog-data-');
    const env = {
      MODEL_REPOSITORY: root,
      PREDICTION_LOG_DIR: join(data, 'predictions'),
      DRIFT_REPORT_DIR: join(data, 'reports'),
    };
    // Two versions of the shipped model, each with its reference profile, both served.
    for (const version of ['1', '2']) {
      await mkdir(join(root, 'churn', version), { recursive: true });
      for (const file of ['model.onnx', 'model.json', 'reference.json'])
        await cp(join(SEED, file), join(root, 'churn', version, file));
    }
    await writeFile(join(root, 'churn', 'model.json'), JSON.stringify({ version_policy: { all: true } }));

    // Traffic like the training data to version 1, with f4 moved by two standard deviations to version 2.
    const training = seedTrainingRows();
    const traffic = {
      '1': sampleRows(training, 400, 11),
      '2': shiftFeatures(sampleRows(training, 400, 12), [4], 2, training),
    };
    const app = await startApp(env);
    try {
      for (const [version, rows] of Object.entries(traffic)) {
        for (let i = 0; i < rows.length; i += 25) {
          const batch = rows.slice(i, i + 25);
          await request(app.getHttpServer())
            .post(`/v2/models/churn/versions/${version}/infer`)
            .send({
              inputs: [
                { name: 'float_input', shape: [batch.length, 10], datatype: 'FP32', data: batch.flat() },
              ],
            })
            .expect(200);
        }
      }
      await app.get(PredictionLog).flush();
    } finally {
      await app.close();
    }

    // Now no session could open them: a run of the model would fail the command with exit 2.
    for (const version of ['1', '2'])
      await writeFile(join(root, 'churn', version, 'model.onnx'), 'not an ONNX graph any more');

    const first = runCli(['drift', '--model', 'churn', '--version', '1', '--json'], env);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const stable = JSON.parse(first.stdout) as DriftReport;
    expect(stable).toMatchObject({ model: 'churn', version: '1', verdict: 'no-drift', n_cur: 400 });
    expect(stable.reference.kind).toBe('reference.json');

    // Without --version: the default, the highest served.
    const second = runCli(['drift', '--model', 'churn', '--json'], env);
    expect(second.code).toBe(1);
    const drifted = JSON.parse(second.stdout) as DriftReport;
    expect(drifted).toMatchObject({ version: '2', verdict: 'drift', drifted_features: ['f4'], n_cur: 400 });

    // The default version's report where it always was; another version's under versions/<v>.
    const day = drifted.generated_at.slice(0, 10);
    const reports = join(data, 'reports', 'churn');
    const reportOf = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as DriftReport;
    expect(reportOf(join(reports, `${day}.json`)).version).toBe('2');
    expect(reportOf(join(reports, 'versions', '1', `${day}.json`)).version).toBe('1');
    expect(existsSync(join(reports, 'versions', '1', `${day}.html`))).toBe(true);

    const unknown = runCli(['drift', '--model', 'churn', '--version', '3'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'Model "churn" has no version "3" here; the repository holds versions "1", "2".',
    );
  }, 60_000);
});
