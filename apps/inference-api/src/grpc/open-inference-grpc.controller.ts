import { AppConfig } from '@app/config';
import {
  type ModelMetadata,
  modelMetadata,
  ModelRegistry,
  ModelVersionNotFoundError,
  PredictionService,
  responseOutputs,
  rowsOfInputs,
  selectOutputs,
  type ServedModel,
} from '@app/inference';
import type { Metadata } from '@grpc/grpc-js';
import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Public } from '../auth/public.decorator';
import { GrpcApiKeyGuard } from './grpc-api-key.guard';
import { requestIdOf } from './grpc-call-log';
import { GrpcHealth } from './grpc-health';
import { GrpcProblemFilter } from './grpc-problem.filter';
import { inferenceResponseOf, inputTensors, requestedOutputs } from './grpc-tensors';
import {
  INFERENCE_SERVICE,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelRequest,
} from './open-inference.messages';

/**
 * `inference.GRPCInferenceService`, the Open Inference Protocol over gRPC: the REST V2 routes' twin. The same checks
 * (rowsOfInputs, selectOutputs), the same PredictionService (batching, metrics, prediction log, drift counts), the
 * same answers (modelMetadata, responseOutputs) and the same API keys; problems become gRPC statuses in
 * GrpcProblemFilter, with the detail REST answers.
 */
@Controller()
@UseGuards(GrpcApiKeyGuard)
@UseFilters(GrpcProblemFilter)
export class OpenInferenceGrpcController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly predictions: PredictionService,
    private readonly health: GrpcHealth,
    private readonly config: AppConfig,
  ) {}

  @GrpcMethod(INFERENCE_SERVICE, 'ServerLive')
  @Public()
  serverLive(): { live: boolean } {
    return { live: true };
  }

  /** What GET /ready and the health service say, as the protocol's boolean. */
  @GrpcMethod(INFERENCE_SERVICE, 'ServerReady')
  @Public()
  serverReady(): { ready: boolean } {
    return { ready: this.health.serving };
  }

  @GrpcMethod(INFERENCE_SERVICE, 'ServerMetadata')
  serverMetadata(): { name: string; version: string; extensions: string[] } {
    return {
      name: this.config.get('SERVICE_NAME'),
      version: this.config.get('SERVICE_VERSION'),
      extensions: [],
    };
  }

  /**
   * False while the model loads, as the protocol's boolean says (REST answers 503 there); NOT_FOUND for a model
   * or version not served here.
   */
  @GrpcMethod(INFERENCE_SERVICE, 'ModelReady')
  modelReady(request: ModelRequest): { ready: boolean } {
    if (request.version === '') return { ready: this.registry.status(request.name).ready };
    const statuses = this.registry.versions(request.name);
    const status = statuses.find((s) => s.version === request.version);
    if (!status) {
      throw new ModelVersionNotFoundError(
        request.name,
        request.version,
        statuses.map((s) => s.version),
      );
    }
    return { ready: status.ready };
  }

  @GrpcMethod(INFERENCE_SERVICE, 'ModelMetadata')
  modelMetadata(request: ModelRequest): ModelMetadata {
    const model = this.served(request.name, request.version);
    const versions = this.registry
      .versions(request.name)
      .filter((status) => status.ready)
      .map((status) => status.version);
    return modelMetadata(model, versions);
  }

  @GrpcMethod(INFERENCE_SERVICE, 'ModelInfer')
  async modelInfer(request: ModelInferRequest, metadata: Metadata): Promise<ModelInferResponse> {
    const model = this.served(request.model_name, request.model_version);
    // Everything the request can get wrong is found before its rows are queued.
    const input = rowsOfInputs(model.signature, inputTensors(request));
    const selected = selectOutputs(model.signature, requestedOutputs(request));
    // Looked up and queued in one turn of the event loop: the version looked up answers, even across a swap.
    const result = await this.predictions.run(
      this.predictions.prepareFor(model, input),
      requestIdOf(metadata),
    );
    const outputs = responseOutputs(model.signature, selected, result.outputs, result.predictions);
    return inferenceResponseOf(result.model, request.id, outputs, {
      raw: request.raw_input_contents.length > 0,
    });
  }

  /** A loaded version: `version`, or the default when empty (NOT_FOUND unknown model or version, UNAVAILABLE loading). */
  private served(name: string, version: string): ServedModel {
    return this.registry.get(name, version === '' ? undefined : version);
  }
}
