import { ConfigModule } from '@app/config';
import { InferenceModule } from '@app/inference';
import { DriftCheckModule } from '@app/monitoring';
import { MetricsModule } from '@app/observability';
import { DynamicModule, Module } from '@nestjs/common';

/**
 * What the commands need, without the HTTP server, the prediction log writer or the schedule: the same
 * environment as the server, the models, and the drift check.
 */
@Module({})
export class CliModule {
  static forRoot(): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(), MetricsModule, InferenceModule, DriftCheckModule],
    };
  }
}
