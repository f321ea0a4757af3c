import { Module } from '@nestjs/common';
import { InferenceRunner } from './inference-runner';
import { ModelRegistry } from './model-registry';
import { ModelRepository } from './model-repository';
import { PredictionService } from './prediction.service';
import { ParityGate } from './validation/parity-gate';

@Module({
  providers: [ModelRepository, ModelRegistry, InferenceRunner, PredictionService, ParityGate],
  exports: [ModelRegistry, PredictionService, ParityGate],
})
export class InferenceModule {}
