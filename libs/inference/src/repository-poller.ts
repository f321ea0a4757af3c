import { AppConfig } from '@app/config';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModelRegistry } from './registry/model-registry';

/**
 * With MODEL_REPOSITORY_POLL_S > 0, rescans the model repository that often once the models have loaded, and has the
 * registry bring what is served in line with it (hot reload). Ticks fall on multiples of the interval since the
 * epoch, so the HTTP workers of one pod, each polling on its own, look at the repository at about the same moment
 * and swap within about one load time of each other.
 */
@Injectable()
export class RepositoryPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RepositoryPoller.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: ModelRegistry,
  ) {}

  get intervalMs(): number {
    return this.config.get('MODEL_REPOSITORY_POLL_S') * 1000;
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One rescan now, if the models have loaded and the process is not stopping. */
  async poll(): Promise<void> {
    if (this.registry.state !== 'ready') return;
    await this.registry.reconcile().catch((error: Error) => {
      this.logger.error(`rescan of the model repository failed: ${error.message}`);
    });
  }

  private schedule(): void {
    const interval = this.intervalMs;
    // unref: a pending rescan never keeps the process (or a test run) alive.
    this.timer = setTimeout(
      () => {
        void this.poll().finally(() => {
          if (!this.stopped) this.schedule();
        });
      },
      interval - (Date.now() % interval),
    ).unref();
  }
}
