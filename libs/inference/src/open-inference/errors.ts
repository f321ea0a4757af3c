import { DomainError } from '@app/observability';

/**
 * An inference request the protocol cannot carry to the model: inputs that are not the model's, a wrong datatype or
 * shape, data that does not fill the shape, an output the model does not have. 400, the status the Open Inference
 * Protocol gives a request it cannot serve; the message names the tensor and what was expected.
 */
export class InvalidTensorError extends DomainError {
  constructor(detail: string) {
    super({ code: 'invalid-tensor', status: 400, title: 'Invalid tensor', detail });
  }
}

/** A version in the path other than the one served: only each name's highest version is loaded. */
export class ModelVersionNotFoundError extends DomainError {
  constructor(name: string, version: string, served: string) {
    super({
      code: 'model-version-not-found',
      status: 404,
      title: 'Model version not found',
      detail: `Model "${name}" has no version "${version}" here; the served version is "${served}".`,
    });
  }
}

/** The server is not ready for inference: what GET /ready answers with 503, said in one sentence. */
export class ServerNotReadyError extends DomainError {
  constructor(reason: string) {
    super({
      code: 'server-not-ready',
      status: 503,
      title: 'Server not ready',
      detail: `The server is not ready: ${reason}.`,
    });
  }
}
