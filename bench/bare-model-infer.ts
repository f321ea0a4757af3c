import { loadSync, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/* What the bare gRPC servers share: the .proto's service and ModelInfer's work, with nothing around it. */

export interface RawInferRequest {
  model_name: string;
  id: string;
  inputs: Array<{ shape: number[] }>;
  raw_input_contents: Buffer[];
}

const PROTO = join(__dirname, '..', 'proto', 'open_inference_grpc.proto');

/** `inference.GRPCInferenceService` as proto-loader reads it, with the service's options. */
export function inferenceService(): ServiceDefinition {
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return definition['inference.GRPCInferenceService'] as ServiceDefinition;
}

export function modelInferMethod(): MethodDefinition<RawInferRequest, object> {
  return inferenceService().ModelInfer as MethodDefinition<RawInferRequest, object>;
}

const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/**
 * ModelInfer for one scikit-learn classifier (its ZipMap already removed): the FP32 raw contents run as they are,
 * the label and probability tensors answered as raw contents.
 */
export async function rawModelInfer(
  modelPath: string,
): Promise<(request: RawInferRequest) => Promise<object>> {
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const [labelOutput, probabilityOutput] = session.outputNames;
  return async ({ inputs, raw_input_contents: raw, model_name, id }) => {
    const bytes = raw[0];
    const values = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const outputs = await session.run({
      [session.inputNames[0]]: new Tensor('float32', values, inputs[0].shape),
    });
    const label = outputs[labelOutput];
    const probability = outputs[probabilityOutput];
    return {
      model_name,
      model_version: '1',
      id,
      outputs: [
        { name: labelOutput, datatype: 'INT64', shape: label.dims },
        { name: probabilityOutput, datatype: 'FP32', shape: probability.dims },
      ],
      raw_output_contents: [
        bytesOf(label.data as ArrayBufferView),
        bytesOf(probability.data as ArrayBufferView),
      ],
    };
  };
}
