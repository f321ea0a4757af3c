import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { servePerCore } from './support';

/*
 * The floor of the Open Inference Protocol's binary REST route: node:http and onnxruntime-node answering
 * `POST /v2/models/{name}/infer` with Triton's binary tensor data (FP32 rows in, the label and probability tensors
 * out as bytes) for one scikit-learn classifier (its ZipMap already removed), one process per core as the service
 * runs by default; no checks beyond the header's shape, no logs, no metrics, no prediction log. `npm run bench` puts
 * the service's binary figure beside it. Usage: bare-v2-server <model.onnx> <port>
 */

interface BinaryHeader {
  inputs: Array<{ shape: number[] }>;
}

const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

async function serve(modelPath: string, port: number): Promise<void> {
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const [labelOutput, probabilityOutput] = session.outputNames;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const headerLength = Number(req.headers['inference-header-content-length']);
      const { inputs } = JSON.parse(raw.toString('utf8', 0, headerLength)) as BinaryHeader;
      const tensor = raw.subarray(headerLength);
      const values = new Float32Array(
        tensor.buffer.slice(tensor.byteOffset, tensor.byteOffset + tensor.byteLength),
      );
      session.run({ [session.inputNames[0]]: new Tensor('float32', values, inputs[0].shape) }).then(
        (outputs) => {
          const label = bytesOf(outputs[labelOutput].data as ArrayBufferView);
          const probability = bytesOf(outputs[probabilityOutput].data as ArrayBufferView);
          const header = Buffer.from(
            JSON.stringify({
              model_name: 'seed_gbc',
              model_version: '1',
              outputs: [
                output(labelOutput, 'INT64', outputs[labelOutput].dims, label),
                output(probabilityOutput, 'FP32', outputs[probabilityOutput].dims, probability),
              ],
            }),
          );
          const body = Buffer.concat([header, label, probability]);
          res.writeHead(200, {
            'Content-Type': 'application/octet-stream',
            'Inference-Header-Content-Length': header.length,
            'Content-Length': body.length,
          });
          res.end(body);
        },
        (error: Error) => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: error.message }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

function output(name: string, datatype: string, shape: readonly number[], bytes: Buffer) {
  return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
}

const [modelPath, port] = process.argv.slice(2);
servePerCore(() => serve(modelPath, Number(port)));
