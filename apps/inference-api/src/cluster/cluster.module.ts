import { AppConfig } from '@app/config';
import { GroupMetricsSource } from '@app/observability';
import { Global, Module } from '@nestjs/common';
import cluster from 'node:cluster';
import { PrimaryChannel, ProcessGroup } from './process-group';

/**
 * The app's side of running as one of several HTTP workers (main.ts starts the primary): ProcessGroup for
 * readiness and main.ts, and the group's metrics for GET /metrics. In a single process there is no channel to a
 * primary, ProcessGroup reports nothing, and /metrics serves this process's registry.
 */
@Global()
@Module({
  providers: [
    {
      provide: PrimaryChannel,
      inject: [AppConfig],
      useFactory: (config: AppConfig): PrimaryChannel | null =>
        cluster.isWorker && config.get('HTTP_WORKER_INDEX') !== undefined ? new PrimaryChannel() : null,
    },
    ProcessGroup,
    {
      provide: GroupMetricsSource,
      inject: [ProcessGroup],
      useFactory: (group: ProcessGroup): GroupMetricsSource | null => (group.readiness ? group : null),
    },
  ],
  exports: [ProcessGroup, GroupMetricsSource],
})
export class ClusterModule {}
