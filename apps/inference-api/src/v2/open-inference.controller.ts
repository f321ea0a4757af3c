import { AppConfig } from '@app/config';
import {
  inferenceAnswer,
  modelMetadata,
  ModelRegistry,
  planInference,
  PredictionService,
  ServedModel,
  ServerNotReadyError,
} from '@app/inference';
import { AcceptsBinaryTensorData } from '../http-edge/binary-tensor-body';
import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { ProcessGroup } from '../cluster/process-group';
import { OpenInferenceErrorResponses, RequiresApiKey } from '../openapi';
import { RequestId } from '../request-id.decorator';
import { BinaryTensorData, BinaryTensorRequestDocs } from './binary-tensor-data';
import { sendInferenceAnswer } from './inference-answer';
import {
  InferenceRequest,
  ModelMetadataResponse,
  ModelReadyResponse,
  ServerLiveResponse,
  ServerMetadataResponse,
  ServerReadyResponse,
} from './open-inference.dto';

/** Triton's name for its binary tensor data extension, as GET /v2 lists it. */
export const BINARY_TENSOR_DATA_EXTENSION = 'binary_tensor_data';

/** The protocol's model repository extension (index, load, unload: RepositoryController), as GET /v2 lists it. */
export const MODEL_REPOSITORY_EXTENSION = 'model_repository';

const NAME = { name: 'name', example: 'seed_gbc' } as const;
const VERSION = {
  name: 'version',
  example: '1',
  description:
    "One of the versions the model serves (its model.json's version_policy; by default the highest).",
} as const;

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
      extensions: [BINARY_TENSOR_DATA_EXTENSION, MODEL_REPOSITORY_EXTENSION],
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
  @ApiOperation({
    summary: 'Model metadata of the default version: input, outputs and what they hold; every version served',
  })
  @ApiParam(NAME)
  @ApiOkResponse({ type: ModelMetadataResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  modelMetadata(@Param('name') name: string): ModelMetadataResponse {
    return this.metadata(name);
  }

  @Get('models/:name/versions/:version')
  @RequiresApiKey()
  @ApiOperation({ summary: 'Model metadata of a version' })
  @ApiParam(NAME)
  @ApiParam(VERSION)
  @ApiOkResponse({ type: ModelMetadataResponse })
  @OpenInferenceErrorResponses(401, 404, 503)
  versionMetadata(@Param('name') name: string, @Param('version') version: string): ModelMetadataResponse {
    return this.metadata(name, version);
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
  @AcceptsBinaryTensorData()
  @BinaryTensorRequestDocs()
  @OpenInferenceErrorResponses(400, 401, 404, 413, 415, 503)
  infer(
    @Param('name') name: string,
    @Body() body: InferenceRequest,
    @BinaryTensorData() binary: Buffer | undefined,
    @RequestId() requestId: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.answer(this.served(name), body, binary, requestId, res);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @RequiresApiKey()
  @ApiOperation({ summary: 'Inference on a batch of rows with a version' })
  @ApiParam(NAME)
  @ApiParam(VERSION)
  @AcceptsBinaryTensorData()
  @BinaryTensorRequestDocs()
  @OpenInferenceErrorResponses(400, 401, 404, 413, 415, 503)
  inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: InferenceRequest,
    @BinaryTensorData() binary: Buffer | undefined,
    @RequestId() requestId: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.answer(this.served(name, version), body, binary, requestId, res);
  }

  /** A loaded version: the one named, else the default (404 unknown model or version, 503 loading). */
  private served(name: string, version?: string): ServedModel {
    return this.registry.get(name, version);
  }

  /** A version's metadata, listing every version the model serves. */
  private metadata(name: string, version?: string): ModelMetadataResponse {
    const model = this.served(name, version);
    const versions = this.registry
      .versions(name)
      .filter((status) => status.ready)
      .map((status) => status.version);
    return modelMetadata(model, versions);
  }

  /**
   * Runs one inference request and answers it. Its inputs' data come as JSON or as binary tensor data after the JSON
   * header; its outputs go back as JSON, or, when it asks for any as binary, as Triton's binary response: the JSON
   * header, then the raw tensors, its length in Inference-Header-Content-Length. The handlers write the response
   * themselves (@Res) because Nest's reply would serialise a Buffer as JSON, and a StreamableFile pipes a stream
   * through a transform for bytes that are all in memory already. Errors still go to the problem filter.
   */
  private async answer(
    model: ServedModel,
    body: InferenceRequest,
    binary: Buffer | undefined,
    requestId: string,
    res: Response,
  ): Promise<void> {
    // Everything the request can get wrong is found before its rows are queued.
    const plan = planInference(model.signature, body, binary);
    // Looked up and queued in one turn of the event loop: a swap cannot come between, the version looked up answers.
    const result = await this.predictions.run(this.predictions.prepareFor(model, plan), requestId);
    sendInferenceAnswer(res, inferenceAnswer(model.signature, body, plan, result));
  }
}
