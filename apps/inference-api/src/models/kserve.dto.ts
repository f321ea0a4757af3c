import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, IsArray } from 'class-validator';

/** KServe V1 protocol request. Rows are checked against the model, so their elements are `unknown` here. */
export class KServePredictRequest {
  @ApiProperty({
    description:
      'Rows: arrays of feature values in model order, or objects keyed by feature name when the model names its features. At most MAX_BATCH_SIZE rows.',
    type: 'array',
    items: {
      oneOf: [
        { type: 'array', items: { type: 'number' } },
        { type: 'object', additionalProperties: { type: 'number' } },
      ],
    },
    example: [
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
      { f0: -1.2, f1: 0.4, f2: 2.1, f3: 0.0, f4: -0.3, f5: 1.1, f6: 0.7, f7: -0.5, f8: 0.9, f9: 0.2 },
    ],
  })
  @IsArray({ message: 'instances must be an array of rows' })
  @ArrayNotEmpty({ message: 'instances must not be empty' })
  instances!: unknown[];
}

export class KServePrediction {
  @ApiPropertyOptional({ oneOf: [{ type: 'number' }, { type: 'string' }], example: 1 })
  label?: number | string;

  @ApiPropertyOptional({ example: 0.93 })
  probability?: number;

  @ApiPropertyOptional({ example: { '0': 0.07, '1': 0.93 } })
  probabilities?: Record<string, number>;

  @ApiPropertyOptional({
    description: 'Regressors: one value, or an array for multi-output models.',
    example: 3.14,
  })
  value?: number | number[];
}

export class KServePredictResponse {
  @ApiProperty({ type: [KServePrediction] })
  predictions!: KServePrediction[];

  @ApiProperty({ example: 'seed_gbc' })
  model_name!: string;

  @ApiProperty({ example: '1' })
  model_version!: string;
}

export class TensorDescription {
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'float32' }) datatype!: string;
  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    example: ['batch', 10],
  })
  shape!: Array<number | string>;
}

export class ServedVersion {
  @ApiProperty({ example: '1' }) version!: string;
  @ApiProperty() ready!: boolean;
  @ApiProperty({ description: 'Unversioned requests (and POST /predict, for the default model) go to it.' })
  default!: boolean;
}

export class ModelDescription {
  @ApiProperty({ example: 'seed_gbc' }) name!: string;
  @ApiProperty({ example: '1', description: 'The version described: the default one.' }) version!: string;
  @ApiProperty() ready!: boolean;
  @ApiProperty({
    example: '1',
    description:
      "The version unversioned requests go to: model.json's default_version, else the highest served.",
  })
  default_version!: string;
  @ApiProperty({
    type: [ServedVersion],
    description: "Every version served, oldest first, as the model's version_policy selects them.",
  })
  versions!: ServedVersion[];
  @ApiPropertyOptional({ enum: ['classification', 'regression'] }) task?: string;
  @ApiPropertyOptional({ type: [String] }) features?: string[];
  @ApiPropertyOptional({ type: 'array', items: { oneOf: [{ type: 'number' }, { type: 'string' }] } })
  labels?: Array<number | string>;
  @ApiPropertyOptional({ enum: ['probabilities', 'logits', 'positive-probability'] }) scores?: string;
  @ApiPropertyOptional({ description: 'Set when the graph fixes its batch dimension.' })
  fixed_batch_size?: number;
  @ApiPropertyOptional({
    enum: ['main-thread', 'worker-threads'],
    description: 'Where the model runs: fast models on the main thread, slower ones on the worker pool.',
  })
  placement?: string;
  @ApiPropertyOptional({
    type: [String],
    example: ['cpu'],
    description: 'ONNX Runtime execution providers in use.',
  })
  execution_providers?: string[];
  @ApiPropertyOptional({ type: [TensorDescription] }) inputs?: TensorDescription[];
  @ApiPropertyOptional({ type: [TensorDescription] }) outputs?: TensorDescription[];
}

export class ModelList {
  @ApiProperty({ type: [ModelDescription] }) models!: ModelDescription[];
}
