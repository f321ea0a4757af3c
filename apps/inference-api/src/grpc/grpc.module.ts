import { InferenceModule } from '@app/inference';
import { Module } from '@nestjs/common';
import { ApiKeys } from '../auth/api-keys';
import { GrpcApiKeyGuard } from './grpc-api-key.guard';
import { GrpcCallLog } from './grpc-call-log';
import { GrpcEndpoint } from './grpc-endpoint';
import { GrpcHealth } from './grpc-health';
import { GRPC_METRIC_PROVIDERS, GrpcMetrics } from './grpc-metrics';
import { GrpcProblemFilter } from './grpc-problem.filter';
import { ModelInferLane } from './model-infer-lane';
import { OpenInferenceGrpcController } from './open-inference-grpc.controller';

/**
 * The Open Inference Protocol over gRPC, on its own port (GRPC_PORT): served by Nest's gRPC transport, connected to
 * the HTTP app as a hybrid application in bootstrap.ts when GRPC_ENABLED. The HTTP globals (the REST key guard, the
 * problem+json filter, the validation pipe) are not inherited: this module brings its own guard and filter.
 */
@Module({
  imports: [InferenceModule],
  controllers: [OpenInferenceGrpcController],
  providers: [
    ApiKeys,
    GrpcApiKeyGuard,
    GrpcProblemFilter,
    GrpcHealth,
    GrpcMetrics,
    ...GRPC_METRIC_PROVIDERS,
    GrpcCallLog,
    GrpcEndpoint,
    ModelInferLane,
  ],
  exports: [GrpcEndpoint],
})
export class GrpcModule {}
