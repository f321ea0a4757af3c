import { expect } from '@jest/globals';
import { AppConfig } from '@app/config';
import { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ModuleRef } from '@nestjs/core';
import { ApiKeys } from '../auth/api-keys';
import { openInferenceProtoPath } from './grpc-endpoint';
import { MODEL_INFER_PATH, ModelInferLane } from './model-infer-lane';
import { LOADER_OPTIONS, QUALIFIED_INFERENCE_SERVICE } from './open-inference.messages';
import type { OpenInferenceGrpcController } from './open-inference-grpc.controller';

const definition = loadSync(openInferenceProtoPath(), LOADER_OPTIONS);

/** The lane with its controller found by ModuleRef; the key check and the answers are the e2e spec's. */
function lane(): ModelInferLane {
  const controller = {} as OpenInferenceGrpcController;
  const moduleRef = { get: () => controller } as unknown as ModuleRef;
  return new ModelInferLane({} as AppConfig, {} as ApiKeys, moduleRef);
}

/** The handler grpc-js holds for a path: its private map, this spec's only window on what install changed. */
function handlerOf(server: Server, path: string): unknown {
  return (server as unknown as { handlers: Map<string, { func: unknown }> }).handlers.get(path)?.func;
}

describe('ModelInferLane.install', () => {
  it("swaps the handler Nest's transport registered for ModelInfer, and only that one", () => {
    const server = new Server();
    const nest = () => undefined;
    const service = definition[QUALIFIED_INFERENCE_SERVICE] as Parameters<Server['addService']>[0];
    server.addService(service, { ModelInfer: nest, ModelMetadata: nest });
    const metadataHandler = handlerOf(server, `/${QUALIFIED_INFERENCE_SERVICE}/ModelMetadata`);

    lane().install(server, definition);

    expect(handlerOf(server, MODEL_INFER_PATH)).toEqual(expect.any(Function));
    expect(handlerOf(server, MODEL_INFER_PATH)).not.toBe(nest);
    expect(handlerOf(server, `/${QUALIFIED_INFERENCE_SERVICE}/ModelMetadata`)).toBe(metadataHandler);
  });

  it('refuses to start when there is no handler to swap: Nest has not added the service yet', () => {
    expect(() => lane().install(new Server(), definition)).toThrow(
      `gRPC lane: no handler registered for ${MODEL_INFER_PATH} (Nest's transport adds it)`,
    );
  });

  it('refuses a package definition without the service', () => {
    expect(() => lane().install(new Server(), {})).toThrow(
      `gRPC lane: ${MODEL_INFER_PATH} is not in the package definition`,
    );
  });
});
