import { AppConfig } from '@app/config';
import type { CatalogScan, ModelCatalog } from '@app/inference';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { DriftReport, REPORT_FORMAT, Verdict } from './drift-report';
import { DriftReportPublisher } from './drift-report-publisher';
import { DriftReportStore } from './drift-report-store';
import { MonitoringMetrics } from './monitoring-metrics';

function metricsIn(registry: Registry): MonitoringMetrics {
  const gauge = (name: string, labelNames: string[]) =>
    new Gauge({ name, help: name, labelNames, registers: [registry] });
  const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
  return new MonitoringMetrics(
    gauge('model_feature_psi', ['model', 'version', 'feature']),
    gauge('model_prediction_psi', ['model', 'version']),
    gauge('model_drift_detected', ['model', 'version']),
    gauge('model_drift_check_last_run_timestamp_seconds', ['model', 'version']),
    gauge('model_drift_check_duration_seconds', ['model', 'version']),
    counter('prediction_log_records_total'),
    counter('prediction_log_write_errors_total'),
    counter('prediction_log_dropped_records_total'),
    counter('prediction_log_deleted_bytes_total'),
    gauge('prediction_log_disk_bytes', []),
  );
}

function report(verdict: Verdict, generatedAt: string, psi: number, version = '1'): DriftReport {
  const enough = verdict === 'drift' || verdict === 'no-drift';
  const feature = (name: string, value: number) => ({
    name,
    method: 'psi-deciles' as const,
    psi: value,
    status: enough
      ? value > 0.2
        ? ('drift' as const)
        : ('stable' as const)
      : ('insufficient-data' as const),
    noise_floor: 0.01,
    n_ref: 1000,
    n_cur: 500,
    bins: [],
    reference_stats: { mean: 0, std: 1, min: -3, max: 3, nulls: 0 },
  });
  return {
    format: REPORT_FORMAT,
    model: 'm',
    version,
    generated_at: generatedAt,
    window: {
      from: generatedAt.slice(0, 10),
      to: generatedAt.slice(0, 10),
      days: [generatedAt.slice(0, 10)],
    },
    reference: { kind: 'reference.json' },
    thresholds: { warn: 0.1, alert: 0.2, min_samples: 200 },
    n_ref: 1000,
    n_cur: 500,
    verdict,
    summary: verdict,
    drifted_features: verdict === 'drift' ? ['a'] : [],
    drifted_share: verdict === 'drift' ? 0.5 : 0,
    features: [feature('a', psi), feature('b', 0.01)],
    prediction: { psi: 0.05, status: enough ? 'stable' : 'insufficient-data', score: feature('score', 0.05) },
    sources: { summaries: 0, tails: 0, raw_files: 0 },
    logging: { sample_rate: 1, rows_counted: 500, rows_logged: 500, from_sample: false },
    duration_ms: 250,
  };
}

describe('DriftReportPublisher', () => {
  let dir: string;
  let registry: Registry;
  let metrics: MonitoringMetrics;
  let reports: DriftReportStore;
  let publisher: DriftReportPublisher;
  let served = '1';

  const write = (name: string, content: DriftReport) => {
    mkdirSync(join(dir, 'm'), { recursive: true });
    writeFileSync(join(dir, 'm', name), JSON.stringify(content));
  };
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries({ model: 'm', version: '1', ...labels }).every(([k, l]) => v.labels[k] === l),
    )?.value;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drift-publish-'));
    registry = new Registry();
    metrics = metricsIn(registry);
    reports = new DriftReportStore({ get: () => dir } as unknown as AppConfig);
    served = '1';
    // The repository as the registry last read it: model m, serving `served`.
    const catalog = {
      get lastScan(): CatalogScan {
        const source = { name: 'm', version: served, path: '', reference: '', fingerprint: '' };
        return {
          models: [{ name: 'm', available: [source], served: [source], policy: { latest: 1 } }],
          problems: [],
        };
      },
    };
    publisher = new DriftReportPublisher(catalog as unknown as ModelCatalog, reports, metrics);
  });

  it("shows the newest day's report, reading it again only when the file changed", async () => {
    write('2026-11-16.json', report('no-drift', '2026-11-16T06:00:00.000Z', 0.01));
    write('2026-11-23.json', report('drift', '2026-11-23T06:00:00.000Z', 0.4));
    const read = jest.spyOn(reports, 'read');
    await publisher.refresh();
    expect(await value('model_drift_detected')).toBe(1);
    expect(await value('model_feature_psi', { feature: 'a' })).toBe(0.4);
    expect(await value('model_prediction_psi')).toBe(0.05);
    expect(await value('model_drift_check_last_run_timestamp_seconds')).toBe(
      Date.parse('2026-11-23T06:00:00.250Z') / 1000,
    );
    expect(await value('model_drift_check_duration_seconds')).toBe(0.25);
    await publisher.refresh();
    expect(read).toHaveBeenCalledTimes(1);

    // The same day checked again (the file is replaced): shown.
    write('2026-11-23.json', report('no-drift', '2026-11-23T09:00:00.000Z', 0.03));
    await publisher.refresh();
    expect(read).toHaveBeenCalledTimes(2);
    expect(await value('model_drift_detected')).toBe(0);
    expect(await value('model_feature_psi', { feature: 'a' })).toBe(0.03);
  });

  it("never replaces a newer run of the server's own, and shows a newer file over it", async () => {
    metrics.showReport(report('drift', '2026-11-23T08:00:00.000Z', 0.5));
    write('2026-11-23.json', report('no-drift', '2026-11-23T06:00:00.000Z', 0.01));
    await publisher.refresh();
    expect(await value('model_drift_detected')).toBe(1);
    expect(await value('model_feature_psi', { feature: 'a' })).toBe(0.5);

    write('2026-11-23.json', report('no-drift', '2026-11-23T10:00:00.000Z', 0.02));
    await publisher.refresh();
    expect(await value('model_drift_detected')).toBe(0);
    expect(await value('model_feature_psi', { feature: 'a' })).toBe(0.02);
  });

  it('shows no scores and no drift for insufficient data, and ignores a version not served', async () => {
    write('2026-11-16.json', report('drift', '2026-11-16T06:00:00.000Z', 0.4));
    await publisher.refresh();
    expect(await value('model_feature_psi', { feature: 'a' })).toBe(0.4);

    write('2026-11-23.json', report('insufficient-data', '2026-11-23T06:00:00.000Z', 0.9));
    await publisher.refresh();
    expect(await value('model_drift_detected')).toBe(0);
    expect(await value('model_feature_psi', { feature: 'a' })).toBeUndefined();
    expect(await value('model_prediction_psi')).toBeUndefined();

    write('2026-11-30.json', report('drift', '2026-11-30T06:00:00.000Z', 0.7, '2'));
    await publisher.refresh();
    expect(await value('model_drift_detected', { version: '2' })).toBeUndefined();
    expect(await value('model_drift_detected')).toBe(0);
  });

  it('survives a missing folder and an unreadable report', async () => {
    await publisher.refresh();
    expect(await value('model_drift_detected')).toBeUndefined();
    mkdirSync(join(dir, 'm'), { recursive: true });
    writeFileSync(join(dir, 'm', '2026-11-23.json'), '{"torn');
    await expect(publisher.refresh()).resolves.toBeUndefined();
    expect(await value('model_drift_detected')).toBeUndefined();
  });

  it('shows each served version its own reports: the default one’s in the model folder, the others’ in versions/<v>', async () => {
    const scan = (versions: string[]): CatalogScan => {
      const sources = versions.map((version) => ({
        name: 'm',
        version,
        path: '',
        reference: '',
        fingerprint: '',
      }));
      return {
        models: [{ name: 'm', available: sources, served: sources, policy: { all: true } }],
        problems: [],
      };
    };
    const both = new DriftReportPublisher(
      { lastScan: scan(['1', '2']) } as unknown as ModelCatalog,
      reports,
      metrics,
    );
    write('2026-11-23.json', report('no-drift', '2026-11-23T06:00:00.000Z', 0.01, '2'));
    mkdirSync(join(dir, 'm', 'versions', '1'), { recursive: true });
    writeFileSync(
      join(dir, 'm', 'versions', '1', '2026-11-23.json'),
      JSON.stringify(report('drift', '2026-11-23T06:00:00.000Z', 0.5, '1')),
    );
    await both.refresh();
    expect(await value('model_drift_detected', { version: '2' })).toBe(0);
    expect(await value('model_drift_detected', { version: '1' })).toBe(1);
    expect(await value('model_feature_psi', { version: '1', feature: 'a' })).toBe(0.5);
  });
});
