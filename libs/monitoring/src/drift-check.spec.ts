import { AppConfig } from '@app/config';
import { type CatalogModel, ModelCatalog, type ModelSource } from '@app/inference';
import { SchedulerRegistry } from '@nestjs/schedule';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleRows, seedTrainingRows, shiftFeatures } from '../../../test/support/monitoring-data';
import { AlertWebhook } from './alert-webhook';
import { DriftCheck, exitCodeOf, windowDays } from './drift-check';
import { DriftReportStore } from './drift-report-store';
import { DriftScheduler } from './drift-scheduler';
import { logFileName } from './log-files';
import { DiskLogStore } from './log-store';
import { MonitoringMetrics } from './monitoring-metrics';
import { PredictionLogReader } from './prediction-log-reader';
import { ReferenceProfileStore } from './reference-profile-store';

const DAY = 86400000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

function config(env: Record<string, unknown>): AppConfig {
  const values: Record<string, unknown> = {
    DRIFT_WINDOW_DAYS: 7,
    DRIFT_PSI_WARN: 0.1,
    DRIFT_PSI_ALERT: 0.2,
    DRIFT_MIN_SAMPLES: 200,
    DRIFT_SCHEDULE_ENABLED: true,
    DRIFT_CRON: '0 6 * * 1',
    ...env,
  };
  return { get: (key: string) => values[key] } as unknown as AppConfig;
}

const source: ModelSource = {
  name: 'seed_gbc',
  version: '1',
  path: '/nowhere/seed_gbc/1/model.onnx',
  reference: '/nowhere/seed_gbc/1/reference.json',
  fingerprint: 'fixed',
};

const signature = {
  featureCount: 10,
  features: Array.from({ length: 10 }, (_, i) => `f${i}`),
  head: { task: 'classification', labels: [0, 1] },
};

const catalogModel: CatalogModel = {
  name: 'seed_gbc',
  available: [source],
  policy: { latest: 1 },
  served: [source],
};

function writeDay(dir: string, date: string, rows: number[][]) {
  const lines = rows.map((features, i) =>
    JSON.stringify({
      ts: `${date}T12:00:00.000Z`,
      model: 'seed_gbc',
      version: '1',
      request_id: `r${i}`,
      features,
      prediction: features[1] > 0 ? 1 : 0,
      probability: 0.8,
    }),
  );
  writeFileSync(join(dir, logFileName(date, 'replica-a')), `${lines.join('\n')}\n`);
}

function driftCheck(env: Record<string, unknown>) {
  const cfg = config(env);
  // The catalog reads the repository and the graph; nothing here opens a session.
  const catalog = {
    find: () => Promise.resolve({ model: catalogModel, source, isDefault: true }),
    describe: () => Promise.resolve({ bytes: new Uint8Array(), signature }),
    scan: () => Promise.resolve({ models: [catalogModel], problems: [] }),
  } as unknown as ModelCatalog;
  const profiles = {
    forModel: () => Promise.resolve(undefined),
    load: () => Promise.resolve(undefined),
  } as unknown as ReferenceProfileStore;
  const metrics = { showReport: jest.fn() };
  const webhook = { send: jest.fn(() => Promise.resolve(true)) };
  const check = new DriftCheck(
    cfg,
    catalog,
    profiles,
    new PredictionLogReader(new DiskLogStore(cfg.get('PREDICTION_LOG_DIR'))),
    new DriftReportStore(cfg),
    metrics as unknown as MonitoringMetrics,
    webhook as unknown as AlertWebhook,
  );
  return { check, metrics, webhook, catalog, cfg };
}

describe('windowDays', () => {
  it('defaults to the last DRIFT_WINDOW_DAYS days up to today (UTC), and takes explicit days', () => {
    const now = new Date('2026-11-23T06:00:00Z');
    expect(windowDays({}, 7, now)).toEqual([
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
    ]);
    expect(windowDays({ from: '2026-02-27', to: '2026-03-01' }, 7, now)).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
    expect(windowDays({ to: '2026-01-02' }, 3, now)).toEqual(['2025-12-31', '2026-01-01', '2026-01-02']);
  });

  it('refuses dates that are not days and windows that end before they start', () => {
    expect(() => windowDays({ from: '23/11/2026' }, 7)).toThrow(/YYYY-MM-DD/);
    expect(() => windowDays({ from: '2026-11-23', to: '2026-11-01' }, 7)).toThrow(/after/);
  });

  it.each([
    ['from', '2026-02-30'],
    ['to', '2026-04-31'],
    ['from', '2025-02-29'],
    ['to', '2026-13-01'],
    ['from', '2026-00-10'],
  ])('refuses a %s of %s, a day no calendar has, naming the parameter', (name, value) => {
    expect(() => windowDays({ [name]: value, ...(name === 'from' ? { to: '2026-12-31' } : {}) }, 7)).toThrow(
      new RegExp(`"${name}" (is not a day of the calendar|must be a date)`),
    );
  });

  it('accepts the 29th of February of a leap year', () => {
    expect(windowDays({ from: '2028-02-28', to: '2028-03-01' }, 7)).toEqual([
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
  });

  it('maps verdicts to exit codes', () => {
    expect([
      exitCodeOf('no-drift'),
      exitCodeOf('drift'),
      exitCodeOf('insufficient-data'),
      exitCodeOf('no-reference'),
    ]).toEqual([0, 1, 2, 2]);
  });
});

describe('DriftCheck without a reference profile', () => {
  const training = seedTrainingRows();

  it('says so clearly, with no verdict, when DRIFT_BASELINE_DAYS is not set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-none-'));
    writeDay(dir, day(0), sampleRows(training, 300, 1));
    const { check, webhook } = driftCheck({ PREDICTION_LOG_DIR: dir, DRIFT_REPORT_DIR: dir });
    const { report, files } = await check.run('seed_gbc');
    expect(report.verdict).toBe('no-reference');
    expect(report.summary).toMatch(/No reference profile at \/nowhere\/seed_gbc\/1\/reference\.json/);
    expect(report.summary).toMatch(/DRIFT_BASELINE_DAYS/);
    expect(files.json).toBe(join(dir, 'seed_gbc', `${report.generated_at.slice(0, 10)}.json`));
    expect(webhook.send).not.toHaveBeenCalled();
  });

  it('uses the first DRIFT_BASELINE_DAYS days of traffic as the reference, and compares the days after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-baseline-'));
    writeDay(dir, day(-5), sampleRows(training, 300, 2));
    writeDay(dir, day(-4), sampleRows(training, 300, 3));
    writeDay(dir, day(-1), shiftFeatures(sampleRows(training, 200, 4), [4], 2, training));
    writeDay(dir, day(0), shiftFeatures(sampleRows(training, 200, 5), [4], 2, training));
    const { check, webhook, metrics } = driftCheck({
      PREDICTION_LOG_DIR: dir,
      DRIFT_REPORT_DIR: dir,
      DRIFT_BASELINE_DAYS: 2,
    });
    const { report } = await check.run('seed_gbc');
    expect(report.reference).toMatchObject({ kind: 'baseline', baseline_days: [day(-5), day(-4)] });
    expect(report.reference.note).toMatch(/No reference profile.*first 2 days of logged traffic/);
    expect(report.n_ref).toBe(600);
    expect(report.n_cur).toBe(400);
    expect(report.window.days).toEqual([day(-3), day(-2), day(-1), day(0)]);
    expect(report.verdict).toBe('drift');
    expect(report.drifted_features).toEqual(['f4']);
    expect(webhook.send).toHaveBeenCalledTimes(1);
    expect(metrics.showReport).toHaveBeenCalledWith(expect.objectContaining({ verdict: 'drift' }));
  });

  it('is insufficient while the baseline days are still being collected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-young-'));
    writeDay(dir, day(0), sampleRows(training, 300, 6));
    const { check } = driftCheck({ PREDICTION_LOG_DIR: dir, DRIFT_REPORT_DIR: dir, DRIFT_BASELINE_DAYS: 3 });
    const { report } = await check.run('seed_gbc');
    expect(report.verdict).toBe('insufficient-data');
    expect(report.summary).toMatch(/needs 3 days of logged traffic; 1 so far/);
  });
});

describe('DriftScheduler', () => {
  it('registers one UTC cron job from DRIFT_CRON, none when disabled, and checks every served version on a tick', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-cron-'));
    const { check, catalog } = driftCheck({
      PREDICTION_LOG_DIR: dir,
      DRIFT_REPORT_DIR: dir,
      DRIFT_CRON: '30 5 * * 3',
    });
    const run = jest.spyOn(check, 'run');
    const schedulerRegistry = new SchedulerRegistry();
    const scheduler = new DriftScheduler(
      config({ DRIFT_CRON: '30 5 * * 3' }),
      schedulerRegistry,
      catalog,
      check,
    );
    scheduler.onApplicationBootstrap();
    const job = schedulerRegistry.getCronJob('drift-check');
    try {
      const next = job.nextDate().toUTC();
      expect([next.weekday, next.hour, next.minute]).toEqual([3, 5, 30]);
      await job.fireOnTick();
      expect(run).toHaveBeenCalledWith('seed_gbc', { version: '1' });
    } finally {
      await job.stop();
    }

    const off = new SchedulerRegistry();
    new DriftScheduler(
      config({ DRIFT_SCHEDULE_ENABLED: false }),
      off,
      catalog,
      check,
    ).onApplicationBootstrap();
    expect(off.getCronJobs().size).toBe(0);
  });

  it('runs in HTTP worker 0 only, so a group of workers checks once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-cron-'));
    const { check, catalog } = driftCheck({ PREDICTION_LOG_DIR: dir, DRIFT_REPORT_DIR: dir });
    const jobsIn = (worker?: number) => {
      const schedulerRegistry = new SchedulerRegistry();
      new DriftScheduler(
        config({ HTTP_WORKERS: 3, HTTP_WORKER_INDEX: worker }),
        schedulerRegistry,
        catalog,
        check,
      ).onApplicationBootstrap();
      const jobs = [...schedulerRegistry.getCronJobs().values()];
      const stop = async () => {
        for (const job of jobs) await job.stop();
      };
      return { count: jobs.length, stop };
    };
    const counts: Array<number | undefined> = [];
    for (const worker of [undefined, 0, 1, 2]) {
      const jobs = jobsIn(worker);
      counts.push(jobs.count);
      await jobs.stop();
    }
    expect(counts).toEqual([1, 1, 0, 0]);
  });
});
