import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The protocol's OpenAPI document, vendored unchanged (see its NOTE.md): the answers are held to it, not to us. */
export const OPEN_INFERENCE_REST_YAML = join(
  __dirname,
  '..',
  '..',
  'spec',
  'open-inference-protocol',
  'open_inference_rest.yaml',
);

/** The response schemas `components.schemas` of the document defines. */
export type OpenInferenceResponseSchema =
  | 'metadata_server_response'
  | 'metadata_server_error_response'
  | 'metadata_model_response'
  | 'metadata_model_error_response'
  | 'inference_response'
  | 'inference_error_response';

const DOCUMENT_ID = 'open_inference_rest.yaml';

/**
 * Validates bodies against the document's own schemas with ajv. The whole OpenAPI document is added as one schema,
 * so its `#/components/schemas/...` references resolve as written; `strict: false` because an OpenAPI document
 * carries members JSON Schema does not know (`openapi`, `paths`, `x-examples`), which are not constraints.
 */
export class OpenInferenceSchemas {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<OpenInferenceResponseSchema, ValidateFunction>();

  constructor(path = OPEN_INFERENCE_REST_YAML) {
    this.ajv.addSchema(parse(readFileSync(path, 'utf8')) as object, DOCUMENT_ID);
  }

  /** What is wrong with `body` under `schema`, one line per problem; empty when it validates. */
  problems(schema: OpenInferenceResponseSchema, body: unknown): string[] {
    let validate = this.validators.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${schema}` });
      this.validators.set(schema, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (error: ErrorObject) => `${schema}${error.instancePath} ${error.message ?? 'is invalid'}`,
    );
  }
}
