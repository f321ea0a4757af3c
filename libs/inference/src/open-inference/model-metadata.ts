import type { ServedModel } from '../registry/served-model';
import { datatypeOf } from './datatypes';
import { servedInputShape } from './inference-request';
import { offeredOutputs } from './model-outputs';

/**
 * Triton's name for models run by ONNX Runtime, which Triton/KServe clients already know; the protocol's own list
 * (`onnx_onnxv1`) is informational and clients do not branch on it.
 */
export const ONNX_PLATFORM = 'onnxruntime_onnx';

/** The protocol's `$metadata_tensor`. */
export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** The protocol's `$metadata_model_response`. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
  /**
   * What the tensors mean, as the document's string-valued `properties`: task, labels (JSON), score kind,
   * feature names (JSON) when known, and `output.<name>`, what each output holds.
   */
  properties: Record<string, string>;
}

/**
 * A served version as the protocol describes it: its one input, the outputs a request may ask for, what they hold,
 * and every version the model serves (each reachable under `versions/{v}`).
 */
export function modelMetadata(
  model: ServedModel,
  versions: readonly string[] = [model.version],
): ModelMetadata {
  const { signature } = model;
  const head = signature.head;
  const outputs = offeredOutputs(signature);
  const properties: Record<string, string> = { task: head.task };
  if (head.task === 'classification') {
    properties.labels = JSON.stringify(head.labels);
    properties.scores = head.scoreKind;
  } else {
    properties.targets = String(head.targets);
  }
  if (signature.features) properties.features = JSON.stringify(signature.features);
  for (const output of outputs) properties[`output.${output.name}`] = output.description;
  return {
    name: model.name,
    versions: [...versions],
    platform: ONNX_PLATFORM,
    inputs: [
      {
        name: signature.input.name,
        datatype: datatypeOf(signature.input.type),
        shape: servedInputShape(signature),
      },
    ],
    outputs: outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    properties,
  };
}
