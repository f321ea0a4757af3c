import { AppConfig } from '@app/config';
import type { sendUnaryData, Server, ServerUnaryCall } from '@grpc/grpc-js';
import type { MethodDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiKeys } from '../auth/api-keys';
import { checkGrpcKey } from './grpc-api-key.guard';
import { grpcErrorOf } from './grpc-problem.filter';
import { OpenInferenceGrpcController } from './open-inference-grpc.controller';
import {
  type ModelInferRequest,
  type ModelInferResponse,
  QUALIFIED_INFERENCE_SERVICE,
} from './open-inference.messages';

export const MODEL_INFER_PATH = `/${QUALIFIED_INFERENCE_SERVICE}/ModelInfer`;

type ModelInferMethod = MethodDefinition<ModelInferRequest, ModelInferResponse>;

/**
 * The fast lane of gRPC, as PredictionLane is of REST: `ModelInfer` answered by the controller's own method, with the
 * guard's key check and the filter's statuses, but beneath Nest's per-call pipeline (the guard and filter lookups,
 * the RxJS wrapping of the handler and of its answer: work on every call that decides nothing). grpc-js still runs
 * the call: GrpcCallLog's interceptor, the size limit, deadlines and the message codec are unchanged.
 *
 * Installed once Nest's transport has added the service: the method's grpc-js handler is swapped for this one.
 * Calls that arrive before that take Nest's route and get the same answer. FAST_LANE_ENABLED=false leaves every
 * call to Nest.
 */
@Injectable()
export class ModelInferLane {
  private readonly logger = new Logger(ModelInferLane.name);
  private controller?: OpenInferenceGrpcController;

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeys,
    private readonly moduleRef: ModuleRef,
  ) {}

  get enabled(): boolean {
    return this.config.get('FAST_LANE_ENABLED');
  }

  /** Swaps the handler Nest registered for ModelInfer for the lane's, with the same codec. */
  install(server: Server, definition: PackageDefinition): void {
    const service = definition[QUALIFIED_INFERENCE_SERVICE] as ServiceDefinition | undefined;
    const method = service?.ModelInfer as ModelInferMethod | undefined;
    if (method === undefined)
      throw new Error(`gRPC lane: ${MODEL_INFER_PATH} is not in the package definition`);
    this.controller = this.moduleRef.get(OpenInferenceGrpcController, { strict: false });
    if (!server.unregister(MODEL_INFER_PATH)) {
      throw new Error(`gRPC lane: no handler registered for ${MODEL_INFER_PATH} (Nest's transport adds it)`);
    }
    server.register(
      MODEL_INFER_PATH,
      this.handle,
      method.responseSerialize,
      method.requestDeserialize,
      'unary',
    );
  }

  private readonly handle = (
    call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>,
    callback: sendUnaryData<ModelInferResponse>,
  ): void => {
    this.answer(call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(grpcErrorOf(error, call.metadata, this.logger)),
    );
  };

  /** What the guard and the controller's method do for the call, a refusal included as a rejection. */
  private async answer(
    call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>,
  ): Promise<ModelInferResponse> {
    checkGrpcKey(this.keys, call.metadata);
    return this.controller!.modelInfer(call.request, call.metadata);
  }
}
