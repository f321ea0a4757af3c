export * from './errors';
export { jsonNumber, jsonNumbers, jsonScalar } from './json-text';
export { InferenceModule } from './inference.module';
export { type ModelRuntime } from './inference-runner';
export { OverloadedError } from './runtime/batch-queue';
export { ModelLoadError, ModelRegistry, type ModelStatus, type ServedModel } from './model-registry';
export { manifestPathOf, readManifestOf, type ModelSource } from './model-repository';
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
