import { defaultVersionOf, ModelCatalog } from '@app/inference';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { REPORT_FORMAT } from './drift-report';
import { DriftReportStore } from './drift-report-store';
import { MonitoringMetrics } from './monitoring-metrics';

/** How often the report folder is looked at once the models are loaded; drift checks run weekly. */
export const REPORT_REFRESH_MS = 60_000;
/** Until the repository has been read, the served versions are not known yet: look again soon. */
const STARTING_REFRESH_MS = 1_000;

/**
 * Shows in the server's gauges the drift reports that another process wrote. Where a Kubernetes CronJob runs the
 * check with the CLI (DRIFT_SCHEDULE_ENABLED=false on the servers), the gauges would otherwise never change and an
 * alert on `model_drift_detected` scraped from the servers could never fire. At start and every minute, for each
 * version the catalog says is served, the newest report in DRIFT_REPORT_DIR is read (only when that file changed)
 * and shown, unless this process has shown a newer one itself.
 */
@Injectable()
export class DriftReportPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DriftReportPublisher.name);
  /** Per model version, the newest report file last read: path, modification time and size. */
  private readonly seen = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Refreshes run one after another, so a caller always gets a look taken after its call. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly reports: DriftReportStore,
    private readonly metrics: MonitoringMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Looks at every served model's newest report now; resolves once the gauges show what was found. */
  refresh(): Promise<void> {
    const next = this.queue.then(() => this.refreshAll());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private schedule(delayMs: number): void {
    // unref: a pending look never keeps the process (or a test run) alive.
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (!this.stopped) this.schedule(this.catalog.lastScan ? REPORT_REFRESH_MS : STARTING_REFRESH_MS);
      });
    }, delayMs).unref();
  }

  /** One model's unreadable report is logged (once per change of the file) and does not stop the others. */
  private async refreshAll(): Promise<void> {
    // The repository as last read (by the registry at start and at every rescan): this never reads it itself.
    for (const model of this.catalog.lastScan?.models ?? []) {
      const defaultVersion = defaultVersionOf(model);
      for (const { name, version } of model.served) {
        try {
          await this.refreshVersion(name, version, version === defaultVersion);
        } catch (error) {
          this.logger.warn(
            `cannot show the latest drift report of ${name} v${version}: ${(error as Error).message}`,
          );
        }
      }
    }
  }

  private async refreshVersion(name: string, version: string, isDefault: boolean): Promise<void> {
    const file = await this.reports.newest(name, isDefault ? undefined : version);
    if (!file) return;
    const key = `${name}\u0000${version}`;
    const stamp = `${file.path}\u0000${file.modifiedMs}\u0000${file.size}`;
    if (this.seen.get(key) === stamp) return;
    this.seen.set(key, stamp);
    const report = await this.reports.read(file.path);
    if (report.format !== REPORT_FORMAT) throw new Error(`${file.path} is not a drift report`);
    // A report of a version no longer served would put old scores under labels nobody serves.
    if (report.model !== name || report.version !== version) return;
    if (this.metrics.showReport(report, { ifNewer: true })) {
      this.logger.log(`drift report ${file.path} shown in the metrics: ${report.verdict}`);
    }
  }
}
