import type { Options } from '@grpc/proto-loader';

/*
 * The messages of `inference.GRPCInferenceService` (proto/open_inference_grpc.proto) as @grpc/proto-loader hands them
 * to the handlers with LOADER_OPTIONS: field names as in the .proto, int64 as numbers, bytes as Buffers, absent
 * scalars and lists as their defaults, an absent message as null. Only the fields this service reads or writes.
 */

/**
 * How the .proto is read, by the server and by the specs' client alike. int64 as numbers: shapes and class labels
 * are far below 2^53, and a client's larger value fails the shape check whatever its exact digits.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The protocol's package and service, as a gRPC method path and the health service name it. */
export const PROTO_PACKAGE = 'inference';
export const INFERENCE_SERVICE = 'GRPCInferenceService';
export const QUALIFIED_INFERENCE_SERVICE = `${PROTO_PACKAGE}.${INFERENCE_SERVICE}`;

/** `InferParameter`: one of its members is set, named by `parameter_choice`. */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export type InferParameters = Record<string, InferParameter>;

/** `InferTensorContents`: one repeated field per family of datatypes. */
export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: InferParameters;
  contents: InferTensorContents | null;
}

export interface InferRequestedOutputTensor {
  name: string;
  parameters: InferParameters;
}

export interface ModelInferRequest {
  model_name: string;
  /** '' when the client names none. */
  model_version: string;
  id: string;
  parameters: InferParameters;
  inputs: InferInputTensor[];
  outputs: InferRequestedOutputTensor[];
  raw_input_contents: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Partial<InferTensorContents>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

/** `ModelReadyRequest` and `ModelMetadataRequest` alike. */
export interface ModelRequest {
  name: string;
  version: string;
}
