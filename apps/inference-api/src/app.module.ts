import { ConfigModule } from '@app/config';
import { InferenceModule } from '@app/inference';
import { MonitoringModule } from '@app/monitoring';
import { LoggingModule, MetricsModule } from '@app/observability';
import { HttpEdgeModule } from './http-edge/http-edge.module';
import { httpEdgeGlobals } from './http-edge/http-edge-globals';
import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ClusterModule } from './cluster/cluster.module';
import { ApiKeys } from './auth/api-keys';
import { DriftController } from './drift/drift.controller';
import { PredictionLane } from './fast-lane/prediction-lane';
import { GrpcModule } from './grpc/grpc.module';
import { HealthController } from './health/health.controller';
import { ModelsController } from './models/models.controller';
import { PredictController } from './predict/predict.controller';
import { OpenInferenceModule } from './v2/open-inference.module';

/** Built by `forRoot()` so the environment is read when the app is created, not when this file is imported. */
@Module({})
export class AppModule {
  static forRoot(): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(),
        LoggingModule,
        MetricsModule,
        HttpEdgeModule,
        // Readiness is 503 for seconds at every start: that is expected, not an error to log.
        TerminusModule.forRoot({ logger: false }),
        ClusterModule,
        InferenceModule,
        MonitoringModule,
        OpenInferenceModule,
        GrpcModule,
      ],
      controllers: [PredictController, ModelsController, DriftController, HealthController],
      providers: [
        ApiKeys,
        PredictionLane,
        // The key is checked from the headers before the body is read.
        ...httpEdgeGlobals([ApiKeyGuard]),
      ],
    };
  }
}
