// One inference request (`$inference_request`) from its body to its answer, for every route that takes it over REST
// (the controller and the fast lane): checked against the model before its rows are queued, answered from the run.
import type { ModelSignature, Prediction } from '../model-signature';
import type { OutputTensors } from '../runtime/tensors';
import {
  type InferenceRequestBody,
  inputsWithData,
  rowsOfInputs,
  type TensorRows,
} from './inference-request';
import {
  binaryOutputs,
  binaryResponse,
  type OfferedOutput,
  type ResponseOutputTensor,
  responseOutputs,
  selectOutputs,
} from './model-outputs';

/** A request checked against the model: its rows for the prediction service, and how its outputs go back. */
export type InferencePlan = TensorRows & {
  selected: OfferedOutput[];
  /** Per selected output: as binary tensor data (Triton's extension) rather than JSON. */
  binary: boolean[];
};

/**
 * Everything the request can get wrong is found here, before anything is queued.
 * @param binaryData the bytes after the JSON header (binary tensor data extension); undefined for a JSON body
 */
export function planInference(
  signature: ModelSignature,
  body: InferenceRequestBody,
  binaryData: Uint8Array | undefined,
): InferencePlan {
  const tensorRows = rowsOfInputs(signature, inputsWithData(body.inputs, binaryData));
  const selected = selectOutputs(signature, body.outputs);
  return { ...tensorRows, selected, binary: binaryOutputs(body.parameters, body.outputs, selected) };
}

/** The protocol's `$inference_response`. */
export interface InferenceResponseBody {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: ResponseOutputTensor[];
}

/** The answer's body: JSON text, or Triton's binary form (the JSON header, then the raw tensors). */
export type InferenceAnswer =
  { binary: false; body: string } | { binary: true; body: Buffer; headerLength: number };

/** The answer to a planned request from its run. */
export function inferenceAnswer(
  signature: ModelSignature,
  body: InferenceRequestBody,
  plan: InferencePlan,
  result: {
    model: { name: string; version: string };
    outputs: OutputTensors;
    predictions: readonly Prediction[];
  },
): InferenceAnswer {
  const response: InferenceResponseBody = {
    model_name: result.model.name,
    model_version: result.model.version,
    ...(body.id !== undefined ? { id: body.id } : {}),
    outputs: responseOutputs(signature, plan.selected, result.outputs, result.predictions),
  };
  const binary = binaryResponse(response, plan.binary);
  return binary === undefined
    ? { binary: false, body: JSON.stringify(response) }
    : { binary: true, body: binary.body, headerLength: binary.headerLength };
}
