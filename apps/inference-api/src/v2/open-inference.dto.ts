import type {
  InferenceParameters,
  InferenceRequestBody,
  MetadataTensor,
  ModelMetadata,
  RequestedOutput,
  ResponseOutputTensor,
  SentInputTensor,
  TensorValue,
} from '@app/inference';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsObject, IsOptional, IsString, Min, ValidateNested } from 'class-validator';

/*
 * The Open Inference Protocol (V2) REST bodies, as its OpenAPI document (open_inference_rest.yaml) defines them.
 * class-validator checks their form; whether the tensors fit the model is checked against the model.
 */

const PARAMETERS: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
};

const TENSOR_DATA = {
  type: 'array',
  items: {},
  description: 'Row-major values: flat, or nested as the shape.',
} satisfies ApiPropertyOptions;

const SEED_ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

export class RequestInput implements SentInputTensor {
  @ApiProperty({ example: 'float_input' })
  @IsString({ message: 'name must be a string' })
  name!: string;

  @ApiProperty({ type: [Number], example: [1, 10], description: '[rows, features]' })
  @IsArray({ message: 'shape must be an array of non-negative integers' })
  @IsInt({ each: true, message: 'shape must be an array of non-negative integers' })
  @Min(0, { each: true, message: 'shape must be an array of non-negative integers' })
  shape!: number[];

  @ApiProperty({ example: 'FP32', description: "The model's input datatype (GET /v2/models/{name})." })
  @IsString({ message: 'datatype must be a string' })
  datatype!: string;

  @ApiPropertyOptional({
    ...PARAMETERS,
    description:
      'binary_data_size: the input is sent as that many bytes of binary tensor data after the JSON (Triton binary tensor data extension), instead of data.',
  })
  @IsOptional()
  @IsObject({ message: 'parameters must be an object' })
  parameters?: InferenceParameters;

  @ApiPropertyOptional({
    ...TENSOR_DATA,
    example: SEED_ROW,
    description:
      'Row-major values: flat, or nested as the shape. Absent when parameters.binary_data_size is given.',
  })
  @IsOptional()
  @IsArray({ message: 'data must be an array' })
  data?: unknown[];
}

export class RequestOutput implements RequestedOutput {
  @ApiProperty({ example: 'output_probability' })
  @IsString({ message: 'name must be a string' })
  name!: string;

  @ApiPropertyOptional({
    ...PARAMETERS,
    description:
      "binary_data: true returns this output as binary tensor data after the JSON response, false as JSON; wins over the request's binary_data_output.",
  })
  @IsOptional()
  @IsObject({ message: 'parameters must be an object' })
  parameters?: InferenceParameters;
}

export class InferenceRequest implements InferenceRequestBody {
  @ApiPropertyOptional({ example: '42', description: 'Echoed in the response.' })
  @IsOptional()
  @IsString({ message: 'id must be a string' })
  id?: string;

  @ApiPropertyOptional({
    ...PARAMETERS,
    description:
      'binary_data_output: true returns every output as binary tensor data after the JSON response (Triton binary tensor data extension); other parameters are accepted and ignored.',
  })
  @IsOptional()
  @IsObject({ message: 'parameters must be an object' })
  parameters?: InferenceParameters;

  @ApiProperty({
    type: [RequestInput],
    description: 'The model has one input, [rows, features]; at most MAX_BATCH_SIZE rows.',
    example: [{ name: 'float_input', shape: [1, 10], datatype: 'FP32', data: SEED_ROW }],
  })
  @IsArray({ message: 'inputs must be an array of input tensors' })
  @ValidateNested({ each: true })
  @Type(() => RequestInput)
  inputs!: RequestInput[];

  @ApiPropertyOptional({
    type: [RequestOutput],
    description: 'Outputs to return, by name; all of them when absent.',
    example: [{ name: 'output_label' }, { name: 'output_probability' }],
  })
  @IsOptional()
  @IsArray({ message: 'outputs must be an array of requested outputs' })
  @ValidateNested({ each: true })
  @Type(() => RequestOutput)
  outputs?: RequestOutput[];
}

export class ResponseOutput implements ResponseOutputTensor {
  @ApiProperty({ example: 'output_probability' }) name!: string;
  @ApiProperty({ example: 'FP32' }) datatype!: string;
  @ApiProperty({ type: [Number], example: [1, 2] }) shape!: number[];
  @ApiPropertyOptional({
    ...PARAMETERS,
    description:
      'In a binary response, binary_data_size: the bytes of this output after the JSON, which then has no data.',
  })
  parameters?: Record<string, unknown>;
  @ApiProperty({ ...TENSOR_DATA, example: [0.07, 0.93] }) data!: TensorValue[];
}

export class InferenceResponse {
  @ApiProperty({ example: 'seed_gbc' }) model_name!: string;
  @ApiProperty({ example: '1' }) model_version!: string;
  @ApiPropertyOptional({ example: '42', description: "The request's id, when it gave one." }) id?: string;
  @ApiProperty({ type: [ResponseOutput] }) outputs!: ResponseOutput[];
}

export class MetadataTensorDescription implements MetadataTensor {
  @ApiProperty({ example: 'float_input' }) name!: string;
  @ApiProperty({ example: 'FP32' }) datatype!: string;
  @ApiProperty({ type: [Number], example: [-1, 10], description: '-1 for a dynamic dimension' })
  shape!: number[];
}

export class ModelMetadataResponse implements ModelMetadata {
  @ApiProperty({ example: 'seed_gbc' }) name!: string;
  @ApiProperty({ type: [String], example: ['1'] }) versions!: string[];
  @ApiProperty({ example: 'onnxruntime_onnx' }) platform!: string;
  @ApiProperty({ type: [MetadataTensorDescription] }) inputs!: MetadataTensorDescription[];
  @ApiProperty({ type: [MetadataTensorDescription] }) outputs!: MetadataTensorDescription[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'What the tensors mean: task, labels (JSON), scores, targets, features (JSON) and output.<name> for each output.',
    example: {
      task: 'classification',
      labels: '[0,1]',
      scores: 'probabilities',
      'output.output_label': 'the predicted class label per row, one of labels',
      'output.output_probability': 'the probability of each class per row, columns in the order of labels',
    },
  })
  properties!: Record<string, string>;
}

export class ServerMetadataResponse {
  @ApiProperty({ example: 'ml-inference' }) name!: string;
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({
    type: [String],
    example: ['binary_tensor_data', 'model_repository'],
    description:
      "binary_tensor_data: Triton's binary tensor data extension on the infer routes; model_repository: the repository API (index, load, unload).",
  })
  extensions!: string[];
}

export class ServerLiveResponse {
  @ApiProperty({ example: true }) live!: boolean;
}

export class ServerReadyResponse {
  @ApiProperty({ example: true }) ready!: boolean;
}

export class ModelReadyResponse {
  @ApiProperty({ example: 'seed_gbc' }) name!: string;
  @ApiProperty({ example: true }) ready!: boolean;
}
