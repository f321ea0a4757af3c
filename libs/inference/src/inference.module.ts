import { Module } from '@nestjs/common';
import { ModelCatalogModule } from './catalog';
import { InferenceRunner } from './inference-runner';
import { ModelRegistry } from './registry/model-registry';
import { VersionLoader } from './registry/version-loader';
import { PredictionService } from './prediction.service';
import { RepositoryPoller } from './repository-poller';
import { ParityGate } from './validation/parity-gate';

/**
 * Serving models: the catalog of what the repository holds, the runtime registry of what is loaded (and the poller
 * that keeps it in line with the repository), the runner and the prediction service.
 */
@Module({
  imports: [ModelCatalogModule],
  providers: [ModelRegistry, VersionLoader, InferenceRunner, PredictionService, ParityGate, RepositoryPoller],
  exports: [ModelCatalogModule, ModelRegistry, PredictionService, ParityGate],
})
export class InferenceModule {}
