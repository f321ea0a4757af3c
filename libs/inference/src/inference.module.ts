import { Module } from '@nestjs/common';
import { InferenceRunner } from './inference-runner';
import { ModelRegistry } from './model-registry';
import { ModelRepository } from './model-repository';
import { PredictionService } from './prediction.service';

@Module({
  providers: [ModelRepository, ModelRegistry, InferenceRunner, PredictionService],
  exports: [ModelRegistry, PredictionService],
})
export class InferenceModule {}
