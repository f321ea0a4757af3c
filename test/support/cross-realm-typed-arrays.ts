import { types } from 'node:util';

/*
 * Jest runs every spec file in its own V8 realm, but onnxruntime-node's native binding creates output arrays in
 * Node's main realm. onnxruntime-common then checks them with `data instanceof Float32Array` against the spec
 * realm's constructor and throws "A float32 tensor's data must be type of function Float32Array()". Teach the typed
 * array constructors of this realm to recognise their counterparts from any realm, as node:util's checks do.
 *
 * Import it for its side effect before running a session in a spec, or list it in Jest's `setupFiles`.
 */

type TypedArrayConstructor = abstract new (...args: never[]) => object;

const checks: Array<[TypedArrayConstructor, (value: unknown) => boolean]> = [
  [Float32Array, types.isFloat32Array],
  [Float64Array, types.isFloat64Array],
  [Int8Array, types.isInt8Array],
  [Int16Array, types.isInt16Array],
  [Int32Array, types.isInt32Array],
  [Uint8Array, types.isUint8Array],
  [Uint16Array, types.isUint16Array],
  [Uint32Array, types.isUint32Array],
  [BigInt64Array, types.isBigInt64Array],
  [BigUint64Array, types.isBigUint64Array],
];

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

for (const [constructor, isKind] of checks) {
  Object.defineProperty(constructor, Symbol.hasInstance, {
    configurable: true,
    // Subclasses inherit this static method; for them keep the ordinary prototype-chain check.
    value(this: TypedArrayConstructor, value: unknown): boolean {
      return this === constructor ? isKind(value) : ordinaryHasInstance.call(this, value);
    },
  });
}
