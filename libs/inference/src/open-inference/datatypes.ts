import type { ElementType } from '../model-signature';

/**
 * The protocol's tensor datatypes by ONNX element type (as onnxruntime-node spells them). Strings are BYTES: the
 * protocol has no string type, and Triton, KServe and MLServer all send string tensors as BYTES.
 */
const DATATYPES: Readonly<Record<ElementType, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

/**
 * The datatype a tensor of this element type has on the wire. An element type the protocol has no name for (say
 * bfloat16, which the graph reader names `onnx-type-16`) keeps the reader's name, so metadata still says what it is.
 */
export function datatypeOf(type: ElementType): string {
  return DATATYPES[type] ?? type;
}

/** A dimension as the protocol writes it: fixed dimensions as they are, dynamic ones (named or not) as -1. */
export function protocolShape(shape: ReadonlyArray<number | string>): number[] {
  return shape.map((dim) => (typeof dim === 'number' ? dim : -1));
}

/** `[-1, 10]`, as messages quote a shape. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
