import { createServer, type ServerHttp2Stream } from 'node:http2';
import { modelInferMethod, rawModelInfer } from './bare-model-infer';
import { servePerCore } from './support';

/*
 * The floor of gRPC in Node without grpc-js: node:http2 framing unary ModelInfer calls by hand (the 5-byte message
 * prefix, `grpc-status` in the trailers) with proto-loader's codec and onnxruntime-node, one process per core; no
 * deadlines, compression, metadata, checks, logs or metrics. Beside bare-grpc-server.ts it shows what grpc-js's
 * own per-call work costs. Usage: bare-h2-grpc-server <model.onnx> <port>
 */
async function serve(modelPath: string, port: number): Promise<void> {
  const infer = await rawModelInfer(modelPath);
  const method = modelInferMethod();
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const framed = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      infer(method.requestDeserialize(framed.subarray(5))).then(
        (response) => {
          const message = method.responseSerialize(response);
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
