import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attribute,
  encodeGraph,
  floatInitializer,
  int64Initializer,
  node,
  tensorInfo,
} from '../../../../test/support/onnx-model-builder';
import {
  AttributeType,
  DataType,
  decodeModelProto,
  decodeUtf8,
  encodeModelProto,
  hasField,
  toNumber,
} from './onnx-proto';

const fixture = (file: string): Buffer => readFileSync(join(__dirname, '../../../../test/fixtures', file));

describe('ONNX protobuf schema', () => {
  it.each(['seed_gbc_zipmap.onnx', 'seed_torch_mlp.onnx'])(
    're-encodes the exported %s byte for byte',
    (file) => {
      const bytes = fixture(file);
      const reencoded = encodeModelProto(decodeModelProto(bytes));
      expect(Buffer.from(reencoded).equals(bytes)).toBe(true);
    },
  );

  it('reads what the runtime needs from a real export: IR version, opsets, weights in raw_data', () => {
    const model = decodeModelProto(fixture('seed_torch_mlp.onnx'));
    expect(toNumber(model.ir_version ?? 0)).toBe(8);
    expect(model.opset_import?.map((opset) => [opset.domain, toNumber(opset.version ?? 0)])).toEqual([
      ['', 17],
    ]);
    const weight = model.graph?.initializer?.find((tensor) => tensor.name === 'layers.0.weight');
    expect(weight?.dims?.map(toNumber)).toEqual([64, 10]);
    expect(weight?.raw_data?.length).toBe(64 * 10 * 4);
  });

  it('keeps attributes of every kind, initializers, metadata and value_info through decode and encode', () => {
    const bytes = encodeGraph({
      inputs: [tensorInfo('x', DataType.FLOAT, [null, 2])],
      outputs: [tensorInfo('y', DataType.FLOAT, ['batch', 2])],
      nodes: [
        node('Custom', ['x', 'w', 'k'], ['y'], {
          domain: 'ai.onnx.ml',
          attributes: [
            attribute.float('alpha', 0.5),
            attribute.int('axis', -1),
            attribute.string('mode', 'BRANCH_LEQ'),
            attribute.floats('weights', [1.5, -2.25]),
            attribute.ints('ids', [3, 9007199254740991]),
            attribute.strings('classlabels_strings', ['ja', 'nej']),
            { name: 'value', type: AttributeType.TENSOR, t: floatInitializer('', [2], [0.25, 4]) },
          ],
        }),
      ],
      initializers: [floatInitializer('w', [2, 2], [1, 2, 3, 4]), int64Initializer('k', [-7, 42])],
      mlOpset: 3,
    });
    const model = decodeModelProto(bytes);
    model.metadata_props = [{ key: 'author', value: 'tests' }];
    model.graph!.value_info = [tensorInfo('hidden', DataType.DOUBLE, [null, 5])];

    const again = decodeModelProto(encodeModelProto(model));
    const attributes = Object.fromEntries(
      (again.graph?.node?.[0].attribute ?? []).map((a) => [a.name ?? '', a]),
    );
    expect(attributes.alpha.f).toBe(0.5);
    expect(toNumber(attributes.axis.i ?? 0)).toBe(-1);
    expect(decodeUtf8(attributes.mode.s ?? new Uint8Array())).toBe('BRANCH_LEQ');
    expect(attributes.weights.floats).toEqual([1.5, -2.25]);
    expect(attributes.ids.ints?.map(toNumber)).toEqual([3, 9007199254740991]);
    expect(attributes.classlabels_strings.strings?.map(decodeUtf8)).toEqual(['ja', 'nej']);
    expect(Array.from(new Float32Array(Uint8Array.from(attributes.value.t?.raw_data ?? []).buffer))).toEqual([
      0.25, 4,
    ]);
    expect(again.graph?.node?.[0].domain).toBe('ai.onnx.ml');
    expect(again.opset_import?.map((opset) => [opset.domain, toNumber(opset.version ?? 0)])).toEqual([
      ['', 17],
      ['ai.onnx.ml', 3],
    ]);
    expect(again.graph?.initializer?.find((t) => t.name === 'k')?.int64_data?.map(toNumber)).toEqual([
      -7, 42,
    ]);
    expect(again.metadata_props).toEqual([{ key: 'author', value: 'tests' }]);
    const hidden = again.graph?.value_info?.[0];
    expect(hidden?.type?.tensor_type?.elem_type).toBe(DataType.DOUBLE);
    const [batch, width] = hidden?.type?.tensor_type?.shape?.dim ?? [];
    expect(hasField(batch, 'dim_value') || hasField(batch, 'dim_param')).toBe(false);
    expect(toNumber(width.dim_value ?? 0)).toBe(5);
  });

  it('keeps fields a newer onnx.proto added, which this schema does not name', () => {
    const bytes = fixture('seed_torch_mlp.onnx');
    // Field 99, length-delimited, "hi": what an unknown future ModelProto field looks like on the wire.
    const unknownField = Uint8Array.from([0x9a, 0x06, 0x02, 0x68, 0x69]);
    const extended = Buffer.concat([bytes, unknownField]);
    expect(Buffer.from(encodeModelProto(decodeModelProto(extended))).equals(extended)).toBe(true);
  });

  it('refuses to round an int64 beyond 2^53', () => {
    expect(toNumber({ low: -1, high: 0x001fffff, unsigned: false })).toBe(Number.MAX_SAFE_INTEGER);
    expect(toNumber({ low: -2, high: -1, unsigned: false })).toBe(-2);
    expect(() => toNumber({ low: 1, high: 0x00200000, unsigned: false })).toThrow(
      'does not fit a JavaScript number exactly',
    );
  });
});
