import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsOptional } from 'class-validator';

/*
 * The Open Inference Protocol's model repository extension (Triton's extension_model_repository.md): the bodies of
 * POST /v2/repository/index, …/models/{name}/load and …/unload. Every field is optional; so is the body.
 */

export class RepositoryIndexRequest {
  @ApiPropertyOptional({ example: false, description: 'true lists only the versions ready for inference.' })
  @IsOptional()
  @IsBoolean({ message: 'ready must be a boolean' })
  ready?: boolean;
}

export class RepositoryModelRequest {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { version: '3' },
    description:
      'version: this version only (unload: take it out of service, the version policy then picking among the others; load: serve it again). unload_dependents is accepted and has nothing to do (no ensembles). config and file: overrides are not taken: the repository on disk is what is served.',
  })
  @IsOptional()
  @IsObject({ message: 'parameters must be an object' })
  parameters?: Record<string, unknown>;
}

export class RepositoryIndexEntryResponse {
  @ApiProperty({ example: 'seed_gbc' }) name!: string;
  @ApiProperty({ example: '1' }) version!: string;
  @ApiProperty({
    enum: ['READY', 'LOADING', 'UNAVAILABLE'],
    example: 'READY',
    description: "Triton's states: READY serves, LOADING is being loaded, UNAVAILABLE is not served.",
  })
  state!: string;
  @ApiProperty({
    example: '',
    description:
      'Why it is not served: not selected by its version_policy, unloaded through this API, refused by the parity gate (and why), or failed to load (and why).',
  })
  reason!: string;
}
