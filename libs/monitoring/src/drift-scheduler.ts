import { AppConfig } from '@app/config';
import { ModelCatalog } from '@app/inference';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { DriftCheck } from './drift-check';

export const DRIFT_JOB = 'drift-check';

/**
 * Runs the drift check of every served model version (each against its own reference) on DRIFT_CRON (UTC). Not registered with
 * DRIFT_SCHEDULE_ENABLED=false, where a Kubernetes CronJob runs the CLI instead (and with several replicas, where
 * each would run it). With several HTTP workers only worker 0 runs it, for the whole group: the check reads every
 * worker's files, and the others show its report within a minute (DriftReportPublisher).
 */
@Injectable()
export class DriftScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(DriftScheduler.name);

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly catalog: ModelCatalog,
    private readonly check: DriftCheck,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('DRIFT_SCHEDULE_ENABLED')) return;
    const worker = this.config.get('HTTP_WORKER_INDEX');
    if (worker !== undefined && worker !== 0) return;
    const job = CronJob.from({
      cronTime: this.config.get('DRIFT_CRON'),
      onTick: () => this.checkAll(),
      timeZone: 'UTC',
      waitForCompletion: true,
      start: true,
    });
    this.scheduler.addCronJob(DRIFT_JOB, job);
    this.logger.log(
      `drift check scheduled "${this.config.get('DRIFT_CRON')}" (UTC); next ${job.nextDate().toISO()}`,
    );
  }

  /** The versions the repository serves, read again now; one version's failure is logged and does not stop the others. */
  async checkAll(): Promise<void> {
    const scan = await this.catalog.scan().catch((error: Error) => {
      this.logger.error(`scheduled drift check: ${error.message}`);
      return undefined;
    });
    for (const model of scan?.models ?? []) {
      for (const { name, version } of model.served) {
        try {
          await this.check.run(name, { version });
        } catch (error) {
          this.logger.error(
            `scheduled drift check of ${name} v${version} failed: ${(error as Error).message}`,
          );
        }
      }
    }
  }
}
