import { decodeModelProto, encodeModelProto } from '@app/inference/onnx/onnx-proto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuiltModel } from './onnx-model-builder';

/** Where the one constant to move lives: a float attribute of a node, or a float32 initializer (a weight). */
export type Constant =
  { node: string; attribute: string; index: number } | { initializer: string; index: number };

/**
 * The same graph with one float constant moved by `delta`: what a stale weight file, a wrong preprocessing constant
 * or a hand-edited graph gives. Everything else (inputs, outputs, labels, every other weight) stays as exported, so
 * the model still loads and answers plausibly; only its numbers are off.
 */
export function shiftConstant(bytes: Uint8Array, constant: Constant, delta: number): Uint8Array {
  const model = decodeModelProto(bytes);
  const graph = model.graph!;
  if ('node' in constant) {
    const node = graph.node?.find((n) => n.name === constant.node || n.op_type === constant.node);
    const attribute = node?.attribute?.find((a) => a.name === constant.attribute);
    if (!attribute?.floats || attribute.floats.length <= constant.index)
      throw new Error(`no float ${constant.attribute}[${constant.index}] on node ${constant.node}`);
    attribute.floats[constant.index] = Math.fround(attribute.floats[constant.index] + delta);
  } else {
    const tensor = graph.initializer?.find((t) => t.name === constant.initializer);
    if (!tensor) throw new Error(`no initializer ${constant.initializer}`);
    if (tensor.raw_data) {
      // A view of its own: the decoded raw_data may share the file's buffer at any offset.
      const raw = Uint8Array.from(tensor.raw_data);
      const view = new DataView(raw.buffer);
      view.setFloat32(constant.index * 4, view.getFloat32(constant.index * 4, true) + delta, true);
      tensor.raw_data = raw;
    } else if (tensor.float_data && tensor.float_data.length > constant.index) {
      tensor.float_data[constant.index] = Math.fround(tensor.float_data[constant.index] + delta);
    } else {
      throw new Error(`initializer ${constant.initializer} holds no float ${constant.index}`);
    }
  }
  return encodeModelProto(model);
}

const SEED_MODEL = join(__dirname, '../../models/seed_gbc/1');

/**
 * The shipped scikit-learn model with its prior (the TreeEnsembleClassifier's base value, a log-odds) moved by
 * `delta`: every probability moves a little, most labels stay the same. 1e-3 is enough to leave its
 * validation.json (scikit-learn's own outputs) behind.
 */
export async function perturbedSeedModel(delta = 1e-3): Promise<Uint8Array> {
  const bytes = await readFile(join(SEED_MODEL, 'model.onnx'));
  return shiftConstant(bytes, { node: 'TreeEnsembleClassifier', attribute: 'base_values', index: 0 }, delta);
}

/**
 * `<root>/<name>/<version>/` with the shipped model's model.json and validation.json, and `bytes` as model.onnx
 * (the shipped model itself when omitted). Returns the version folder.
 */
export async function writeSeedVersion(
  root: string,
  name: string,
  bytes?: Uint8Array,
  version = '1',
): Promise<string> {
  const directory = join(root, name, version);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'model.onnx'), bytes ?? (await readFile(join(SEED_MODEL, 'model.onnx'))));
  for (const file of ['model.json', 'validation.json'])
    await writeFile(join(directory, file), await readFile(join(SEED_MODEL, file)));
  return directory;
}

/**
 * A validation file for a built model from its reference arithmetic (float64, independent of onnxruntime), as an
 * exporter would write it from the framework's own outputs. Probabilities in the order of the reference's keys:
 * label order for string labels and for ascending integer labels (all the builders make).
 */
export function validationFor(model: BuiltModel, rows: number[][]): Record<string, unknown> {
  const predictions = model.reference(rows);
  if (predictions.every((p) => p.task === 'classification'))
    return {
      inputs: rows,
      labels: predictions.map((p) => p.label),
      probabilities: predictions.map((p) => Object.values(p.probabilities)),
    };
  return { inputs: rows, values: predictions.map((p) => (p.task === 'regression' ? p.value : 0)) };
}
