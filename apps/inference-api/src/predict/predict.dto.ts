import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, IsArray } from 'class-validator';

/** One row for the default model. Element types are checked against the model, so they are `unknown` here. */
export class PredictRequest {
  @ApiProperty({
    description: "Feature values in the model's feature order (GET /v1/models/{name} lists them).",
    type: [Number],
    example: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
  })
  @IsArray({ message: 'features must be an array of numbers' })
  @ArrayNotEmpty({ message: 'features must not be empty' })
  features!: unknown[];
}

export class PredictResponse {
  @ApiProperty({
    description: 'Predicted class label, or the predicted value for a regressor.',
    oneOf: [{ type: 'number' }, { type: 'string' }, { type: 'array', items: { type: 'number' } }],
    example: 1,
  })
  prediction!: number | string | number[];

  @ApiPropertyOptional({ description: 'Probability of the predicted label (classifiers).', example: 0.93 })
  probability?: number;

  @ApiPropertyOptional({
    description: 'Probability of every class, keyed by label (classifiers).',
    example: { '0': 0.07, '1': 0.93 },
  })
  probabilities?: Record<string, number>;

  @ApiProperty({ example: 'seed_gbc' })
  model!: string;

  @ApiProperty({ example: '1' })
  version!: string;

  @ApiProperty({ description: 'Time spent validating and predicting, in milliseconds.', example: 0.42 })
  latency_ms!: number;
}
