export * from './errors';
export { jsonNumber, jsonNumbers, jsonScalar } from './json-text';
export { InferenceModule } from './inference.module';
export { type ModelRuntime, type RuntimeStats } from './inference-runner';
export { OverloadedError } from './runtime/batch-queue';
export { openScoringSession, type ScoringSession } from './runtime/scoring-session';
export { ModelRegistry } from './registry/model-registry';
export { ModelLoadError, type ModelStatus, type ServedModel } from './registry/served-model';
export { type RepositoryIndexEntry } from './registry/version-ledger';
export { RepositoryPoller } from './repository-poller';
export * from './catalog';
export { rowPaths, toFeatureRows } from './feature-rows';
export * from './model-signature';
export {
  type PredictionResult,
  type PreparedPrediction,
  PredictionService,
  type TensorPredictionResult,
} from './prediction.service';
export * from './open-inference';
export { type AnsweredBatch, PredictionSink, type VerbatimRows } from './prediction-sink';
export { adaptModel, type AdaptedModel } from './onnx';
export * from './validation';
