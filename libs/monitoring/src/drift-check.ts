import { AppConfig } from '@app/config';
import { type CatalogEntry, ModelCatalog } from '@app/inference';
import { DomainError } from '@app/observability';
import { Injectable, Logger } from '@nestjs/common';
import { AlertWebhook, driftAlertOf } from './alert-webhook';
import { BinCounter } from './count-summary';
import { buildDriftReport, DriftInputs, DriftReport, emptyReport, formatPsi, Verdict } from './drift-report';
import { DriftReportStore, WrittenReport } from './drift-report-store';
import { MonitoringMetrics } from './monitoring-metrics';
import { PredictionLogReader } from './prediction-log-reader';
import { ReferenceProfileBuilder } from './reference-profile';
import { ReferenceProfileStore } from './reference-profile-store';

const DAY_MS = 24 * 60 * 60 * 1000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The CLI's exit code for a verdict: 0 no drift, 1 drift, 2 anything that is not a verdict. */
export function exitCodeOf(verdict: Verdict): 0 | 1 | 2 {
  return verdict === 'no-drift' ? 0 : verdict === 'drift' ? 1 : 2;
}

export class InvalidWindowError extends DomainError {
  constructor(detail: string) {
    super({ code: 'invalid-window', status: 422, title: 'Invalid window', detail });
  }
}

export interface WindowRequest {
  /** First day, YYYY-MM-DD (UTC); default: DRIFT_WINDOW_DAYS − 1 days before `to`. */
  from?: string;
  /** Last day, inclusive; default: today (UTC). */
  to?: string;
}

/** What a drift check looks at: a window, and the model version whose traffic it compares (default: the default). */
export interface DriftRequest extends WindowRequest {
  version?: string;
}

/** The days of a window, oldest first. */
export function windowDays({ from, to }: WindowRequest, windowLength: number, now = new Date()): string[] {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value === undefined) continue;
    if (!DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
      throw new InvalidWindowError(`"${name}" must be a date written YYYY-MM-DD; got "${value}".`);
    }
    // Date.parse rolls 2026-02-30 over to March 2nd: a day that does not exist must not become another one.
    if (new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
      throw new InvalidWindowError(`"${name}" is not a day of the calendar: ${value}.`);
    }
  }
  const last = to ? Date.parse(`${to}T00:00:00Z`) : Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const first = from ? Date.parse(`${from}T00:00:00Z`) : last - (windowLength - 1) * DAY_MS;
  if (first > last) throw new InvalidWindowError(`"from" (${from}) is after "to" (${to ?? 'today'}).`);
  if ((last - first) / DAY_MS >= 366) throw new InvalidWindowError('A window spans at most 366 days.');
  const days: string[] = [];
  for (let t = first; t <= last; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export interface DriftOutcome {
  report: DriftReport;
  files: WrittenReport;
}

/**
 * The drift check, the same from the schedule, the CLI and the HTTP endpoint: one model version's window of bin
 * counts against that version's reference profile (or the first DRIFT_BASELINE_DAYS days of its traffic), a report
 * written as JSON and HTML, the metrics set, a warning logged and the webhook called on drift. Models are found in
 * the catalog: no session is opened, so the check runs wherever the repository and the log can be read.
 */
@Injectable()
export class DriftCheck {
  private readonly logger = new Logger(DriftCheck.name);
  private readonly running = new Map<string, Promise<DriftOutcome>>();

  constructor(
    private readonly config: AppConfig,
    private readonly catalog: ModelCatalog,
    private readonly profiles: ReferenceProfileStore,
    private readonly log: PredictionLogReader,
    private readonly reports: DriftReportStore,
    private readonly metrics: MonitoringMetrics,
    private readonly webhook: AlertWebhook,
  ) {}

  /**
   * Runs the check now, on `request.version` or the model's default version; a second call for a version already
   * being checked over the same window waits for that run instead.
   */
  async run(modelName: string, request: DriftRequest = {}): Promise<DriftOutcome> {
    const days = windowDays(request, this.config.get('DRIFT_WINDOW_DAYS'));
    const entry = await this.catalog.find(modelName, request.version);
    const { name, version } = entry.source;
    const key = `${name}\u0000${version}\u0000${days[0]}\u0000${days[days.length - 1]}`;
    const existing = this.running.get(key);
    if (existing) return existing;
    const run = this.check(entry, days).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  private async check(entry: CatalogEntry, days: string[]): Promise<DriftOutcome> {
    const model = entry.source;
    const started = performance.now();
    const inputs: DriftInputs = {
      model: model.name,
      version: model.version,
      window: { from: days[0], to: days[days.length - 1], days },
      reference: { kind: 'none' },
      thresholds: {
        warn: this.config.get('DRIFT_PSI_WARN'),
        alert: this.config.get('DRIFT_PSI_ALERT'),
        min_samples: this.config.get('DRIFT_MIN_SAMPLES'),
      },
      sources: { summaries: 0, tails: 0, raw_files: 0 },
      generatedAt: new Date(),
      sampleRate: this.config.get('PREDICTION_LOG_SAMPLE_RATE'),
      durationMs: 0,
    };
    const report = await this.compare(entry, days, inputs);
    report.duration_ms = Math.round(performance.now() - started);
    const files = await this.reports.write(report, { defaultVersion: entry.isDefault });
    this.metrics.showReport(report);
    if (report.verdict === 'drift') {
      const drifted = report.features
        .filter((f) => report.drifted_features.includes(f.name))
        .map((f) => `${f.name} (PSI ${formatPsi(f.psi, 3)})`);
      this.logger.warn(
        {
          model: model.name,
          modelVersion: model.version,
          driftedFeatures: report.drifted_features,
          predictionPsi: report.prediction?.psi,
          report: files.json,
        },
        `drift detected in ${model.name} v${model.version}: ${drifted.join(', ') || 'no feature'}` +
          (report.prediction?.status === 'drift'
            ? `; predictions PSI ${formatPsi(report.prediction.psi, 3)}`
            : ''),
      );
      await this.webhook.send(driftAlertOf(report, files));
    } else {
      this.logger.log(`drift check of ${model.name} v${model.version}: ${report.summary}`);
    }
    return { report, files };
  }

  private async compare(entry: CatalogEntry, days: string[], inputs: DriftInputs): Promise<DriftReport> {
    const model = entry.source;
    const reference = await this.profiles.load(model.reference);
    if (reference) {
      inputs.reference = {
        kind: 'reference.json',
        created_at: reference.profile.created_at,
        bins: reference.counter.hash,
      };
      const { counts, sources } = await this.log.countDays(
        model.name,
        model.version,
        reference.counter,
        days,
      );
      inputs.sources = sources;
      return buildDriftReport(reference.profile, counts, inputs);
    }
    const missing = `No reference profile at ${model.reference}`;
    const baselineDays = this.config.get('DRIFT_BASELINE_DAYS');
    if (baselineDays === undefined) {
      return emptyReport(
        inputs,
        'no-reference',
        `${missing}: nothing to compare with. Build one with "npm run cli -- profile --model ${model.name} --data <training data>", ` +
          'or set DRIFT_BASELINE_DAYS to compare with the first days of logged traffic.',
      );
    }
    return this.compareWithBaseline(entry, days, inputs, baselineDays, missing);
  }

  /**
   * Without a reference: the first `baselineDays` days that have traffic become the reference. The features and
   * labels come from the graph, read (not run) by the catalog.
   */
  private async compareWithBaseline(
    entry: CatalogEntry,
    days: string[],
    inputs: DriftInputs,
    baselineDays: number,
    missing: string,
  ): Promise<DriftReport> {
    const model = entry.source;
    const { signature } = await this.catalog.describe(model);
    const builder = ReferenceProfileBuilder.forModel({ name: model.name, version: model.version, signature });
    const baseline: string[] = [];
    for (const day of await this.log.days()) {
      if (baseline.length === baselineDays) break;
      let seen = false;
      for await (const record of this.log.records(model.name, model.version, day)) {
        if (record.features.length !== signature.featureCount) continue;
        builder.addRow(record.features, record);
        seen = true;
      }
      if (seen) baseline.push(day);
    }
    inputs.reference = {
      kind: 'baseline',
      baseline_days: baseline,
      note: `${missing}: compared with the first ${baselineDays} days of logged traffic (DRIFT_BASELINE_DAYS).`,
    };
    if (baseline.length < baselineDays) {
      return emptyReport(
        inputs,
        'insufficient-data',
        `${missing}, and the baseline needs ${baselineDays} days of logged traffic; ${baseline.length} so far.`,
      );
    }
    const profile = builder.build({
      file: `prediction log, ${baseline[0]} to ${baseline[baseline.length - 1]}`,
    });
    const counter = new BinCounter(profile);
    inputs.reference.bins = counter.hash;
    const current = days.filter((day) => day > baseline[baseline.length - 1]);
    const { counts, sources } = await this.log.countDays(model.name, model.version, counter, current);
    inputs.sources = sources;
    if (current.length < days.length)
      inputs.window = { from: current[0] ?? days[days.length - 1], to: days[days.length - 1], days: current };
    return buildDriftReport(profile, counts, inputs);
  }
}
