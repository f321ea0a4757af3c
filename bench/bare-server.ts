import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/*
 * The floor: node:http and onnxruntime-node serving one scikit-learn classifier (its ZipMap already removed),
 * with no framework, no validation beyond the shape, no logs, no metrics. `npm run bench` compares the service
 * against it. Usage: bare-server <model.onnx> <port>
 */
async function main(): Promise<void> {
  const [modelPath, port] = process.argv.slice(2);
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const input = session.inputMetadata[0];
  const featureCount = input.isTensor ? Number(input.shape[1]) : 0;
  const [labelOutput, probabilityOutput] = session.outputNames;

  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/predict') return answer(404, { error: 'not found' });
      let features: unknown;
      try {
        features = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { features?: unknown }).features;
      } catch {
        return answer(400, { error: 'malformed JSON' });
      }
      if (!Array.isArray(features) || features.length !== featureCount)
        return answer(422, { error: 'bad features' });
      const tensor = new Tensor('float32', Float32Array.from(features as number[]), [1, featureCount]);
      session.run({ [input.name]: tensor }).then(
        (outputs) => {
          const label = Number(outputs[labelOutput].data[0]);
          const probabilities = Array.from(outputs[probabilityOutput].data as Float32Array);
          answer(200, { prediction: label, probability: probabilities[label] });
        },
        (error: Error) => answer(500, { error: error.message }),
      );
    });
  }).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
}

void main();
