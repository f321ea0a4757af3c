import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { servePerCore } from './support';

/*
 * The gRPC floor: grpc-js and proto-loader (what Nest's gRPC transport runs on) with onnxruntime-node answering
 * ModelInfer with raw contents for one scikit-learn classifier (its ZipMap already removed), one process per core
 * as the service runs by default, with no framework, checks, logs or metrics. `npm run bench` puts the service's
 * gRPC figure beside it. Usage: bare-grpc-server <model.onnx> <port>
 */

interface RawRequest {
  model_name: string;
  id: string;
  inputs: Array<{ name: string; shape: number[] }>;
  raw_input_contents: Buffer[];
}

const PROTO = join(__dirname, '..', 'proto', 'open_inference_grpc.proto');

async function serve(modelPath: string, port: string): Promise<void> {
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const [labelOutput, probabilityOutput] = session.outputNames;
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const service = (
    loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: { service: never } }
  ).GRPCInferenceService.service;
  const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const server = new Server();
  server.addService(service, {
    ModelInfer: (call: ServerUnaryCall<RawRequest, unknown>, callback: sendUnaryData<unknown>) => {
      const { inputs, raw_input_contents: raw, model_name, id } = call.request;
      const [rows, features] = inputs[0].shape;
      const bytes = raw[0];
      const values = new Float32Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      session.run({ [session.inputNames[0]]: new Tensor('float32', values, [rows, features]) }).then(
        (outputs) => {
          const label = outputs[labelOutput];
          const probability = outputs[probabilityOutput];
          callback(null, {
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
          });
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

const [modelPath, port] = process.argv.slice(2);
servePerCore(() => serve(modelPath, port));
