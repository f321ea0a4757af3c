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

/** A version in the path (or gRPC's model_version) that the model does not serve here. */
export class ModelVersionNotFoundError extends DomainError {
  /**
   * @param known the versions there are: those served, or with `among` 'repository' those the repository holds (a
   * drift check may look at a version no longer served)
   */
  constructor(
    name: string,
    version: string,
    known: readonly string[],
    among: 'served' | 'repository' = 'served',
  ) {
    const listed = known.map((v) => `"${v}"`).join(', ');
    const plural = known.length === 1 ? '' : 's';
    const there =
      known.length === 0
        ? 'it serves no version.'
        : among === 'served'
          ? `the served version${plural} ${known.length === 1 ? 'is' : 'are'} ${listed}.`
          : `the repository holds version${plural} ${listed}.`;
    super({
      code: 'model-version-not-found',
      status: 404,
      title: 'Model version not found',
      detail: `Model "${name}" has no version "${version}" here; ${there}`,
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
