import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { inferenceService, rawModelInfer, type RawInferRequest } from './bare-model-infer';
import { servePerCore } from './support';

/*
 * The gRPC floor: grpc-js and proto-loader (what Nest's gRPC transport runs on) with onnxruntime-node answering
 * ModelInfer with raw contents for one scikit-learn classifier (its ZipMap already removed), one process per core
 * as the service runs by default, with no framework, checks, logs or metrics. `npm run bench` puts the service's
 * gRPC figure beside it. Usage: bare-grpc-server <model.onnx> <port>
 */
async function serve(modelPath: string, port: string): Promise<void> {
  const infer = await rawModelInfer(modelPath);
  const server = new Server();
  server.addService(inferenceService(), {
    ModelInfer: (call: ServerUnaryCall<RawInferRequest, object>, callback: sendUnaryData<object>) => {
      infer(call.request).then(
        (response) => callback(null, response),
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
