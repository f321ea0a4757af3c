import { expect } from '@jest/globals';
import { DriftReport, DriftReportPublisher, PredictionLog } from '@app/monitoring';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SchedulerRegistry } from '@nestjs/schedule';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { register } from 'prom-client';
import type { ProblemDocument } from '@app/observability';
import request from 'supertest';
import { startApp } from './support/app';
import { bodyOf } from './support/http';
import { launchChromium, openReport } from './support/monitoring-browser';
import { runCli } from './support/monitoring-cli';
import { sampleRows, seedTrainingRows, shiftFeatures } from './support/monitoring-data';
import { loggedRecords } from './support/logged-records';

const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** Sends rows through the KServe route in batches, then writes the log now instead of waiting for the timer. */
async function serve(app: NestExpressApplication, rows: number[][], headers: Record<string, string> = {}) {
  for (let i = 0; i < rows.length; i += 25) {
    await request(app.getHttpServer())
      .post('/v1/models/seed_gbc:predict')
      .set(headers)
      .send({ instances: rows.slice(i, i + 25) })
      .expect(200);
  }
  await app.get(PredictionLog).flush();
}

/** The status column of the CLI's feature table, in its order. */
function featureStatuses(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => /^f\d\s/.test(line))
    .map((line) => line.trim().split(/\s+/).pop() ?? '');
}

function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('prediction log and drift monitoring, end to end with the default model', () => {
  const training = seedTrainingRows();
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  describe('traffic drawn like the training data', () => {
    let app: NestExpressApplication;
    const logDir = tmp('mon-log-');
    const reportDir = tmp('mon-report-');
    beforeAll(async () => {
      app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: reportDir,
      });
    });
    afterAll(() => app.close());

    it('has no report before the first check', async () => {
      const res = await request(app.getHttpServer()).get('/v1/models/seed_gbc/drift').expect(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(bodyOf<ProblemDocument>(res).type).toMatch(/drift-report-not-found$/);
      await request(app.getHttpServer()).get('/v1/models/nope/drift').expect(404);
      await request(app.getHttpServer()).post('/v1/models/nope/drift').expect(404);
    });

    it('refuses a window starting on a day that does not exist, naming the parameter', async () => {
      const res = await request(app.getHttpServer())
        .post('/v1/models/seed_gbc/drift?from=2026-02-30&to=2026-03-05')
        .expect(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(bodyOf<ProblemDocument>(res).detail).toBe('"from" is not a day of the calendar: 2026-02-30.');
    });

    it('logs every row and finds no drift, from the endpoint and from the CLI (exit 0)', async () => {
      const rows = sampleRows(training, 600, 11);
      await serve(app, rows);
      const logged = await loggedRecords(logDir);
      expect(logged).toHaveLength(600);
      expect(logged.map((r) => r.features)).toEqual(rows);

      const res = await request(app.getHttpServer()).post('/v1/models/seed_gbc/drift').expect(200);
      const report = bodyOf<DriftReport>(res);
      expect(report).toMatchObject({
        model: 'seed_gbc',
        version: '1',
        verdict: 'no-drift',
        n_cur: 600,
        n_ref: 1000,
        logging: { sample_rate: 1, rows_counted: 600, rows_logged: 600, from_sample: false },
      });
      expect(report.drifted_features).toEqual([]);
      // The report names the model and version it used, never a path on the server.
      expect(report.reference).toEqual({
        kind: 'reference.json',
        created_at: expect.any(String),
        bins: expect.any(String),
      });
      expect(JSON.stringify(report)).not.toContain(process.cwd());
      expect(report.features).toHaveLength(10);
      for (const feature of report.features) {
        expect(feature.psi).toBeLessThan(0.1);
        expect(feature.noise_floor).toBeCloseTo(9 * (1 / 1000 + 1 / 600), 10);
        expect(feature.bins).toHaveLength(10);
      }
      const latest = await request(app.getHttpServer()).get('/v1/models/seed_gbc/drift').expect(200);
      expect(latest.body).toEqual(res.body);

      const cli = runCli(['drift', '--model', 'seed_gbc'], {
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: tmp('mon-cli-'),
      });
      expect(cli.stderr).not.toMatch(/ERROR/);
      expect(cli.stdout).toMatch(/^NO-DRIFT: /);
      expect(cli.code).toBe(0);
    });

    it('schedules the check on DRIFT_CRON in UTC', () => {
      const job = app.get(SchedulerRegistry).getCronJob('drift-check');
      expect(job.isActive).toBe(true);
      expect(job.cronTime.source).toBe('0 6 * * 1');
      const next = job.nextDate().toUTC();
      expect([next.weekday, next.hour, next.minute]).toEqual([1, 6, 0]);
    });
  });

  describe('traffic with f2 and f7 shifted by 1.5 standard deviations', () => {
    let app: NestExpressApplication;
    const logDir = tmp('mon-log-');
    const reportDir = tmp('mon-report-');
    let report: DriftReport;
    beforeAll(async () => {
      app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: reportDir,
      });
      await serve(app, shiftFeatures(sampleRows(training, 600, 23), [2, 7], 1.5, training));
      report = bodyOf<DriftReport>(
        await request(app.getHttpServer()).post('/v1/models/seed_gbc/drift').expect(200),
      );
    });
    afterAll(() => app.close());

    it('flags exactly those features above 0.2 in the JSON report', () => {
      expect(report.verdict).toBe('drift');
      expect([...report.drifted_features].sort()).toEqual(['f2', 'f7']);
      expect(report.drifted_share).toBeCloseTo(0.2, 10);
      const above = report.features.filter((f) => (f.psi ?? 0) > 0.2).map((f) => f.name);
      expect(above.sort()).toEqual(['f2', 'f7']);
      // The file on disk is the same report.
      const day = report.generated_at.slice(0, 10);
      expect(JSON.parse(readFileSync(join(reportDir, 'seed_gbc', `${day}.json`), 'utf8'))).toEqual(report);
    });

    it('shows them on top of the HTML report, in Chromium', async () => {
      const { page, problems, rows } = await openReport(
        browser,
        join(reportDir, 'seed_gbc', `${report.generated_at.slice(0, 10)}.html`),
      );
      try {
        expect(problems).toEqual([]);
        expect(rows.map((r) => r.feature).sort()).toEqual([...FEATURES].sort());
        expect(
          rows
            .slice(0, 2)
            .map((r) => r.feature)
            .sort(),
        ).toEqual(['f2', 'f7']);
        expect(
          rows
            .filter((r) => r.status === 'drift')
            .map((r) => r.feature)
            .sort(),
        ).toEqual(['f2', 'f7']);
        const psis = rows.map((r) => r.psi);
        expect(psis).toEqual([...psis].sort((a, b) => b - a));
        expect(await page.textContent('#verdict h2')).toBe('Drift detected');
      } finally {
        await page.close();
      }
    });

    it('exposes the scores in the metrics, which promtool still accepts', async () => {
      const exposition = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
      for (const feature of FEATURES) {
        const psi = sample(
          exposition,
          `model_feature_psi{model="seed_gbc",version="1",feature="${feature}"}`,
        );
        expect(psi).toBeDefined();
        if (feature === 'f2' || feature === 'f7') expect(psi).toBeGreaterThan(0.2);
        else expect(psi).toBeLessThan(0.2);
      }
      expect(sample(exposition, 'model_drift_detected{model="seed_gbc",version="1"}')).toBe(1);
      expect(sample(exposition, 'model_prediction_psi{model="seed_gbc",version="1"}')).toBeCloseTo(
        report.prediction!.psi!,
        10,
      );
      expect(
        sample(exposition, 'model_drift_check_last_run_timestamp_seconds{model="seed_gbc",version="1"}'),
      ).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(sample(exposition, 'prediction_log_records_total')).toBeGreaterThanOrEqual(600);
      expect(execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })).toBe(
        '',
      );
    });

    it('exits 1 from the CLI and warns with the drifted features', () => {
      const cli = runCli(['drift', '--model', 'seed_gbc'], {
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: tmp('mon-cli-'),
      });
      expect(cli.code).toBe(1);
      expect(cli.stdout).toMatch(/^DRIFT: .*\(f2, f7\)|^DRIFT: .*\(f7, f2\)/);
      expect(cli.stderr).toMatch(
        /WARN \[DriftCheck\] drift detected in seed_gbc v1: f[27] \(PSI [\d.]+\), f[27]/,
      );
    });
  });

  describe('too little traffic, an API key, a failing disk, logging off', () => {
    it('says "insufficient data" below DRIFT_MIN_SAMPLES: no alert, CLI exit 2; the endpoint needs the key', async () => {
      const key = 'monitoring-key-0123456789';
      // Apps in one process share prom-client's registry: forget the scores of the specs above.
      register.resetMetrics();
      const logDir = tmp('mon-log-');
      const app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: tmp('mon-report-'),
        API_KEYS: key,
      });
      try {
        await serve(app, shiftFeatures(sampleRows(training, 150, 5), [0, 1, 2], 3, training), {
          'x-api-key': key,
        });
        await request(app.getHttpServer()).post('/v1/models/seed_gbc/drift').expect(401);
        await request(app.getHttpServer()).get('/v1/models/seed_gbc/drift').expect(401);
        const res = await request(app.getHttpServer())
          .post('/v1/models/seed_gbc/drift')
          .set('authorization', `Bearer ${key}`)
          .expect(200);
        expect(res.body).toMatchObject({ verdict: 'insufficient-data', n_cur: 150, drifted_features: [] });
        const report = bodyOf<DriftReport>(res);
        expect(report.summary).toMatch(/150 predictions.*200/);
        const exposition = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
        expect(sample(exposition, 'model_drift_detected{model="seed_gbc",version="1"}')).toBe(0);
        expect(exposition).not.toMatch(/^model_feature_psi\{/m);

        const cli = runCli(['drift', '--model', 'seed_gbc'], {
          PREDICTION_LOG_DIR: logDir,
          DRIFT_REPORT_DIR: tmp('mon-cli-'),
        });
        expect(cli.code).toBe(2);
        expect(cli.stdout).toMatch(/^INSUFFICIENT-DATA: /);
        // Scores are shown, but no feature is called drifted on 150 rows, though three are shifted by 3 sd.
        expect(featureStatuses(cli.stdout)).toEqual(new Array(10).fill('insufficient-data'));
        for (const feature of report.features) {
          expect(feature).toMatchObject({ status: 'insufficient-data', n_cur: 150 });
          expect(feature.psi).toEqual(expect.any(Number));
          expect(feature.noise_floor).toBeCloseTo(9 * (1 / 1000 + 1 / 150), 10);
        }
        expect(report.prediction?.status).toBe('insufficient-data');
        const bad = runCli(['drift', '--model', 'seed_gbc', '--from', '2026-13-45'], {
          PREDICTION_LOG_DIR: logDir,
        });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/"from" must be a date/);
        await request(app.getHttpServer())
          .post('/v1/models/seed_gbc/drift?from=yesterday')
          .set('x-api-key', key)
          .expect(422);
      } finally {
        await app.close();
      }
    });

    it('claims nothing on an empty window: no PSI, no noise floor, no feature in drift (CLI text and JSON)', () => {
      const env = { PREDICTION_LOG_DIR: tmp('mon-empty-'), DRIFT_REPORT_DIR: tmp('mon-cli-') };
      const text = runCli(['drift', '--model', 'seed_gbc'], env);
      expect(text.code).toBe(2);
      expect(text.stdout).toMatch(/^INSUFFICIENT-DATA: Insufficient data: 0 predictions/);
      expect(text.stdout).not.toMatch(/\bdrift\s*$|Infinity/m);
      expect(featureStatuses(text.stdout)).toEqual([]);

      const json = runCli(['drift', '--model', 'seed_gbc', '--json'], env);
      expect(json.code).toBe(2);
      const report = JSON.parse(json.stdout) as DriftReport;
      const written = JSON.parse(
        readFileSync(
          join(env.DRIFT_REPORT_DIR, 'seed_gbc', `${report.generated_at.slice(0, 10)}.json`),
          'utf8',
        ),
      ) as DriftReport;
      for (const shown of [report, written]) {
        expect(shown).toMatchObject({ verdict: 'insufficient-data', n_cur: 0, drifted_features: [] });
        expect(shown.features).toHaveLength(10);
        const distributions = [...shown.features, shown.prediction!.score, shown.prediction!.labels!];
        for (const distribution of distributions) {
          expect(distribution).toMatchObject({
            status: 'insufficient-data',
            psi: null,
            noise_floor: null,
            n_cur: 0,
          });
        }
        expect(shown.prediction).toMatchObject({ status: 'insufficient-data', psi: null });
      }
    });

    it('keeps serving when the log cannot be written: 200s, the error counted, readiness unaffected', async () => {
      const base = tmp('mon-broken-');
      writeFileSync(join(base, 'file'), 'a regular file where a folder should be');
      const app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: join(base, 'file', 'predictions'),
        DRIFT_REPORT_DIR: tmp('mon-report-'),
        PREDICTION_LOG_FLUSH_MS: '50',
      });
      const errorsBefore =
        sample(
          (await request(app.getHttpServer()).get('/metrics')).text,
          'prediction_log_write_errors_total',
        ) ?? 0;
      try {
        await serve(app, sampleRows(training, 50, 3));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await request(app.getHttpServer()).post('/predict').send({ features: training[0] }).expect(200);
        await request(app.getHttpServer()).get('/ready').expect(200);
        const exposition = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
        expect(sample(exposition, 'prediction_log_write_errors_total')).toBeGreaterThan(errorsBefore);
      } finally {
        await app.close();
      }
    });

    it('writes nothing with PREDICTION_LOG_ENABLED=false', async () => {
      const logDir = join(tmp('mon-off-'), 'predictions');
      const app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: logDir,
        PREDICTION_LOG_ENABLED: 'false',
        DRIFT_SCHEDULE_ENABLED: 'false',
      });
      try {
        await serve(app, sampleRows(training, 10, 1));
        expect(existsSync(logDir)).toBe(false);
        expect(app.get(SchedulerRegistry).doesExist('cron', 'drift-check')).toBe(false);
      } finally {
        await app.close();
      }
    });
  });

  describe('a Kubernetes CronJob runs the check, the server only serves (DRIFT_SCHEDULE_ENABLED=false)', () => {
    it("publishes the newest report on the shared volume in the server's gauges", async () => {
      register.resetMetrics();
      const logDir = tmp('mon-log-');
      const reportDir = tmp('mon-report-');
      const app = await startApp({
        MODEL_REPOSITORY: './models',
        PREDICTION_LOG_DIR: logDir,
        DRIFT_REPORT_DIR: reportDir,
        DRIFT_SCHEDULE_ENABLED: 'false',
      });
      const metrics = async () => (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
      const labels = '{model="seed_gbc",version="1"}';
      try {
        await serve(app, shiftFeatures(sampleRows(training, 400, 21), [2, 7], 1.5, training));
        expect(sample(await metrics(), `model_drift_detected${labels}`)).toBeUndefined();

        const cli = runCli(['drift', '--model', 'seed_gbc', '--json'], {
          PREDICTION_LOG_DIR: logDir,
          DRIFT_REPORT_DIR: reportDir,
        });
        expect(cli.code).toBe(1);
        const report = JSON.parse(cli.stdout) as DriftReport;
        await app.get(DriftReportPublisher).refresh();

        const exposition = await metrics();
        expect(sample(exposition, `model_drift_detected${labels}`)).toBe(1);
        for (const feature of report.features) {
          expect(
            sample(exposition, `model_feature_psi{model="seed_gbc",version="1",feature="${feature.name}"}`),
          ).toBeCloseTo(feature.psi!, 10);
        }
        expect(sample(exposition, `model_prediction_psi${labels}`)).toBeCloseTo(report.prediction!.psi!, 10);
        expect(sample(exposition, `model_drift_check_last_run_timestamp_seconds${labels}`)).toBeCloseTo(
          (Date.parse(report.generated_at) + report.duration_ms) / 1000,
          3,
        );
        expect(sample(exposition, `model_drift_check_duration_seconds${labels}`)).toBeCloseTo(
          report.duration_ms / 1000,
          3,
        );
        expect(execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })).toBe(
          '',
        );
      } finally {
        await app.close();
      }
    });
  });
});
