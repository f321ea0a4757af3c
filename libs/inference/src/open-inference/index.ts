export { datatypeOf, protocolShape } from './datatypes';
export { InvalidTensorError, ModelVersionNotFoundError, ServerNotReadyError } from './errors';
export {
  type InferenceParameters,
  type InferenceRequestBody,
  inputsWithData,
  lazyInputTensor,
  type RequestedOutput,
  type RequestInputTensor,
  rowsOfInputs,
  type SentInputTensor,
  servedInputShape,
  type TensorRows,
} from './inference-request';
export {
  type InferenceAnswer,
  inferenceAnswer,
  type InferencePlan,
  type InferenceResponseBody,
  planInference,
} from './inference-exchange';
export { decodeRawTensor, encodeRawTensor, rawElementSize } from './raw-tensors';
export { type MetadataTensor, type ModelMetadata, modelMetadata, ONNX_PLATFORM } from './model-metadata';
export {
  type BinaryResponse,
  binaryOutputs,
  binaryResponse,
  type BinaryResponseOutputTensor,
  DERIVED_PROBABILITIES,
  type OfferedOutput,
  offeredOutputs,
  type ResponseOutputTensor,
  responseOutputs,
  selectOutputs,
  type TensorValue,
} from './model-outputs';
