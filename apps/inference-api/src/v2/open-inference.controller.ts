import { AppConfig } from '@app/config';
import {
  modelMetadata,
  ModelRegistry,
  ModelVersionNotFoundError,
  PredictionService,
  refuseBinaryData,
  responseOutputs,
  rowsOfInputs,
  selectOutputs,
  ServedModel,
  ServerNotReadyError,
} from '@app/inference';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ProcessGroup } from '../cluster/process-group';
import { OpenInferenceErrorResponses, RequiresApiKey } from '../openapi';
import { RequestId } from '../request-id.decorator';
import {
  InferenceRequest,
  InferenceResponse,
  ModelMetadataResponse,
  ModelReadyResponse,
  ServerLiveResponse,
  ServerMetadataResponse,
  ServerReadyResponse,
} from './open-inference.dto';

const NAME = { name: 'name', example: 'seed_gbc' } as const;
const VERSION = { name: 'version', example: '1', description: 'Only the served (highest) version.' } as const;

/** Why the models are not ready, by the registry's phase. */
const NOT_READY: Readonly<Record<ModelRegistry['state'], string>> = {
  starting: 'the models have not begun loading',
  loading: 'the models are loading',
  ready: '',
  stopping: 'it is shutting down',
};

/**
 * The Open Inference Protocol (V2) over REST, as Triton, KServe and MLServer speak it. Rows go through the
 * PredictionService like every other route's (batching, metrics, prediction log, drift counts); errors are answered
 * as `{"error": "..."}` by the problem filter, which speaks the protocol's form under /v2.
 */
@ApiTags('Open Inference Protocol (V2)')
@Controller('v2')
export class OpenInferenceController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly predictions: PredictionService,
    private readonly group: ProcessGroup,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @RequiresApiKey()
  @ApiOperation({ summary: 'Server metadata' })
  @ApiOkResponse({ type: ServerMetadataResponse })
  @OpenInferenceErrorResponses(401)
  serverMetadata(): ServerMetadataResponse {
    return {
      name: this.config.get('SERVICE_NAME'),
      version: this.config.get('SERVICE_VERSION'),
      extensions: [],
    };
  }

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Liveness, as GET /health' })
  @ApiOkResponse({ type: ServerLiveResponse })
  live(): ServerLiveResponse {
    return { live: true };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({
    summary: 'Readiness, as GET /ready: 503 until every model is loaded and while shutting down',
  })
  @ApiOkResponse({ type: ServerReadyResponse })
  @OpenInferenceErrorResponses(503)
  ready(): ServerReadyResponse {
    // The two conditions of GET /ready (HealthController): this process's models, then the group's workers.
    if (!this.registry.isReady) throw new ServerNotReadyError(NOT_READY[this.registry.state]);
    const group = this.group.readiness;
    if (group && group.ready < group.expected) {
      throw new ServerNotReadyError(
        `${group.ready} of ${group.expected} HTTP workers have loaded their models`,
      );
    }
    return { ready: true };
  }

  @Get('models/:name')
  @RequiresApiKey()
  @ApiOperation({ summary: 'Model metadata: input, outputs and what they hold' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: ModelMetadataResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  modelMetadata(@Param('name') name: string): ModelMetadataResponse {
    return modelMetadata(this.served(name));
  }

  @Get('models/:name/versions/:version')
  @RequiresApiKey()
  @ApiOperation({ summary: 'Model metadata of a version' })
  @ApiParam(NAME)
  @ApiParam(VERSION)
  @ApiOkResponse({ type: ModelMetadataResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  versionMetadata(@Param('name') name: string, @Param('version') version: string): ModelMetadataResponse {
    return modelMetadata(this.served(name, version));
  }

  @Get('models/:name/ready')
  @RequiresApiKey()
  @ApiOperation({ summary: 'Model readiness: 503 while it loads' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: ModelReadyResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  modelReady(@Param('name') name: string): ModelReadyResponse {
    return { name: this.served(name).name, ready: true };
  }

  @Get('models/:name/versions/:version/ready')
  @RequiresApiKey()
  @ApiOperation({ summary: 'Model readiness of a version' })
  @ApiParam(NAME)
  @ApiParam(VERSION)
  @ApiOkResponse({ type: ModelReadyResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  versionReady(@Param('name') name: string, @Param('version') version: string): ModelReadyResponse {
    return { name: this.served(name, version).name, ready: true };
  }

  @Post('models/:name/infer')
  @HttpCode(200)
  @RequiresApiKey()
  @ApiOperation({ summary: 'Inference on a batch of rows' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: InferenceResponse })
  @OpenInferenceErrorResponses(400, 401, 404, 413, 415, 503)
  infer(
    @Param('name') name: string,
    @Body() body: InferenceRequest,
    @RequestId() requestId: string,
  ): Promise<InferenceResponse> {
    return this.inferWith(this.served(name), body, requestId);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @RequiresApiKey()
  @ApiOperation({ summary: 'Inference on a batch of rows with a version' })
  @ApiParam(NAME)
  @ApiParam(VERSION)
  @ApiOkResponse({ type: InferenceResponse })
  @OpenInferenceErrorResponses(400, 401, 404, 413, 415, 503)
  inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: InferenceRequest,
    @RequestId() requestId: string,
  ): Promise<InferenceResponse> {
    return this.inferWith(this.served(name, version), body, requestId);
  }

  /** A loaded model (404 unknown, 503 loading) whose version is the one named, if one is. */
  private served(name: string, version?: string): ServedModel {
    const model = this.registry.get(name);
    if (version !== undefined && version !== model.version) {
      throw new ModelVersionNotFoundError(name, version, model.version);
    }
    return model;
  }

  private async inferWith(
    model: ServedModel,
    body: InferenceRequest,
    requestId: string,
  ): Promise<InferenceResponse> {
    // Everything the request can get wrong is found before its rows are queued.
    refuseBinaryData(body);
    const { rows, paths } = rowsOfInputs(model.signature, body.inputs);
    const selected = selectOutputs(model.signature, body.outputs);
    const result = await this.predictions.run(this.predictions.prepare(model.name, rows, paths), requestId);
    return {
      model_name: result.model.name,
      model_version: result.model.version,
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: responseOutputs(model.signature, selected, result.outputs, result.predictions),
    };
  }
}
