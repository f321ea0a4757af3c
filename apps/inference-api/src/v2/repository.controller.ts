import { ModelRegistry } from '@app/inference';
import { DomainError } from '@app/observability';
import { applyDecorators, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.decorator';
import { OpenInferenceErrorResponses, RequiresApiKey } from '../openapi';
import {
  RepositoryIndexEntryResponse,
  RepositoryIndexRequest,
  RepositoryModelRequest,
} from './repository.dto';

/** A load or unload parameter this server does not take, named with what it does take. */
class RepositoryParameterError extends DomainError {
  constructor(detail: string) {
    super({ code: 'invalid-repository-parameter', status: 400, title: 'Invalid parameter', detail });
  }
}

const NAME = { name: 'name', example: 'seed_gbc' } as const;

/** The protocol's error answers, and the 403 that only these routes give. */
function RepositoryErrorResponses(...statuses: number[]): MethodDecorator {
  return applyDecorators(
    OpenInferenceErrorResponses(...statuses),
    ApiResponse({
      status: 403,
      description:
        'A prediction key (API_KEYS) rather than an admin key, or ADMIN_API_KEYS unset (the API is off)',
      content: {
        'application/json': {
          schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
        },
      },
    }),
  );
}

/**
 * The Open Inference Protocol's model repository extension, over the repository on disk: what it holds (index), and
 * loading or unloading a model or one of its versions without a restart. Every load is what a rescan does for that
 * model (read its folder, load, warm up, admit through the parity gate, switch in; release what goes out), and runs
 * alone: a second load or unload, of any model, waits for the one under way. Only ADMIN_API_KEYS open these routes.
 */
@ApiTags('Open Inference Protocol (V2): model repository')
@AdminOnly()
@RequiresApiKey()
@Controller('v2/repository')
export class RepositoryController {
  constructor(private readonly registry: ModelRegistry) {}

  @Post('index')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every version in the model repository, and whether it is served' })
  @ApiBody({ type: RepositoryIndexRequest, required: false })
  @ApiOkResponse({ type: [RepositoryIndexEntryResponse] })
  @RepositoryErrorResponses(400, 401)
  index(@Body() body: RepositoryIndexRequest): Promise<RepositoryIndexEntryResponse[]> {
    return this.registry.index(body?.ready === true);
  }

  @Post('models/:name/load')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Load (or reload) a model from the repository as its version policy says, or one version (parameters.version); answers once it serves',
  })
  @ApiParam(NAME)
  @ApiBody({ type: RepositoryModelRequest, required: false })
  @RepositoryErrorResponses(400, 401, 404)
  async load(@Param('name') name: string, @Body() body: RepositoryModelRequest): Promise<void> {
    await this.registry.loadModel(name, versionParameter(body?.parameters, ['version']));
  }

  @Post('models/:name/unload')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Stop serving a model, or one version of it (parameters.version): requests in flight are answered first',
  })
  @ApiParam(NAME)
  @ApiBody({ type: RepositoryModelRequest, required: false })
  @RepositoryErrorResponses(400, 401, 404)
  async unload(@Param('name') name: string, @Body() body: RepositoryModelRequest): Promise<void> {
    await this.registry.unloadModel(
      name,
      versionParameter(body?.parameters, ['version', 'unload_dependents']),
    );
  }
}

/** `parameters.version`, checked; other parameters are refused by name, but for those `accepted` lists. */
function versionParameter(
  parameters: Record<string, unknown> | undefined,
  accepted: readonly string[],
): string | undefined {
  if (parameters === undefined) return undefined;
  const refused = Object.keys(parameters).filter((key) => !accepted.includes(key));
  if (refused.length > 0) {
    const overrides = refused.some((key) => key === 'config' || key.startsWith('file:'));
    throw new RepositoryParameterError(
      `parameters ${refused.map((key) => JSON.stringify(key)).join(', ')} ${refused.length === 1 ? 'is' : 'are'} not taken here` +
        (overrides ? ': models are served from the repository on disk, not from a request' : '') +
        `; the parameters are ${accepted.map((key) => JSON.stringify(key)).join(', ')}`,
    );
  }
  if ('unload_dependents' in parameters && typeof parameters.unload_dependents !== 'boolean') {
    throw new RepositoryParameterError('parameters.unload_dependents must be a boolean');
  }
  const version = parameters.version;
  if (version === undefined) return undefined;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) return String(version);
  if (typeof version === 'string' && /^\d+$/.test(version)) return String(Number(version));
  throw new RepositoryParameterError(
    `parameters.version must be a version number (a version folder's name); got ${JSON.stringify(version)}`,
  );
}
