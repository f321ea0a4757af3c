import { ConfigModule } from '@app/config';
import { ModelCatalogModule, ParityGate } from '@app/inference';
import { DriftCheckModule } from '@app/monitoring';
import { MetricsModule } from '@app/observability';
import { DynamicModule, Module } from '@nestjs/common';

/**
 * What the commands need, without the HTTP server, the prediction log writer or the schedule: the same
 * environment as the server, the model catalog (what the repository holds, read and never run), the drift check and
 * the parity gate. No runtime registry: no command loads every model or starts a worker pool.
 */
@Module({})
export class CliModule {
  static forRoot(): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(), MetricsModule, ModelCatalogModule, DriftCheckModule],
      providers: [ParityGate],
    };
  }
}
