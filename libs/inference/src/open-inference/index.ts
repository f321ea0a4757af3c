export { datatypeOf, protocolShape } from './datatypes';
export { InvalidTensorError, ModelVersionNotFoundError, ServerNotReadyError } from './errors';
export {
  type InferenceParameters,
  type InferenceRequestBody,
  refuseBinaryData,
  type RequestedOutput,
  type RequestInputTensor,
  rowsOfInputs,
  servedInputShape,
  type TensorRows,
} from './inference-request';
export { type MetadataTensor, type ModelMetadata, modelMetadata, ONNX_PLATFORM } from './model-metadata';
export {
  DERIVED_PROBABILITIES,
  type OfferedOutput,
  offeredOutputs,
  type ResponseOutputTensor,
  responseOutputs,
  selectOutputs,
  type TensorValue,
} from './model-outputs';
