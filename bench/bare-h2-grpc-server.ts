import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { createServer, type ServerHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { servePerCore } from './support';

/*
 * The floor of gRPC in Node without grpc-js: node:http2 framing unary ModelInfer calls by hand (the 5-byte message
 * prefix, `grpc-status` in the trailers) with proto-loader's codec and onnxruntime-node, one process per core; no
 * deadlines, compression, metadata, checks, logs or metrics. Beside bare-grpc-server.ts it shows what grpc-js's
 * own per-call work costs. Usage: bare-h2-grpc-server <model.onnx> <port>
 */

interface RawRequest {
  model_name: string;
  id: string;
  inputs: Array<{ shape: number[] }>;
  raw_input_contents: Buffer[];
}

const PROTO = join(__dirname, '..', 'proto', 'open_inference_grpc.proto');

const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

async function serve(modelPath: string, port: number): Promise<void> {
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const [labelOutput, probabilityOutput] = session.outputNames;
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const method = (
    definition['inference.GRPCInferenceService'] as Record<string, MethodDefinition<RawRequest, object>>
  ).ModelInfer;
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const framed = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const {
        inputs,
        raw_input_contents: raw,
        model_name,
        id,
      } = method.requestDeserialize(framed.subarray(5));
      const bytes = raw[0];
      const values = new Float32Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      session.run({ [session.inputNames[0]]: new Tensor('float32', values, inputs[0].shape) }).then(
        (outputs) => {
          const label = outputs[labelOutput];
          const probability = outputs[probabilityOutput];
          const message = method.responseSerialize({
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
          const prefix = Buffer.alloc(5);
          prefix.writeUInt32BE(message.length, 1);
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(Buffer.concat([prefix, message]));
        },
        (error: Error) => {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13' },
            { endStream: true },
          );
          process.stderr.write(`${error.message}\n`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

const [modelPath, port] = process.argv.slice(2);
servePerCore(() => serve(modelPath, Number(port)));
