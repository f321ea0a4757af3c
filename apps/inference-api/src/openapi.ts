import { applyDecorators, INestApplication } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

const PROBLEM_SCHEMA = {
  type: 'object',
  properties: {
    type: { type: 'string', example: 'https://ml-inference.dev/problems/validation-failed' },
    title: { type: 'string', example: 'Invalid input' },
    status: { type: 'integer', example: 422 },
    detail: { type: 'string', example: 'features[3] is Infinity; only finite numbers are accepted' },
    instance: { type: 'string', example: '/predict' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string', example: 'features[3]' }, message: { type: 'string' } },
      },
    },
  },
};

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON',
  401: 'Missing or invalid API key',
  404: 'No such model',
  413: 'Body over BODY_LIMIT, or more instances than MAX_BATCH_SIZE',
  422: 'The input does not fit the model; `errors` names each bad field',
  503: 'The model is still loading, or the service is shutting down',
};

/** Documents the problem+json answers a route can give. */
export function ProblemResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } },
      }),
    ),
  );
}

const OPEN_INFERENCE_DESCRIPTIONS: Record<number, string> = {
  400: 'The request does not fit the model: inputs, datatype, shape, data, outputs (or malformed JSON)',
  401: 'Missing or invalid API key',
  404: 'No such model or version',
  413: 'Body over BODY_LIMIT, or more rows than MAX_BATCH_SIZE',
  415: 'A body that is neither JSON nor binary tensor data announced by Inference-Header-Content-Length',
  503: 'Not ready: models loading, shutting down, or the queue is full',
};

/** Documents the Open Inference Protocol's error answers, `{"error": "..."}`, that a /v2 route can give. */
export function OpenInferenceErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: OPEN_INFERENCE_DESCRIPTIONS[status],
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['error'],
              properties: {
                error: {
                  type: 'string',
                  example: 'input "float_input" has datatype FP64; the model takes FP32',
                },
              },
            },
          },
        },
      }),
    ),
  );
}

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export function setupOpenApi(app: INestApplication, version: string): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('ml-inference')
      .setDescription('Predictions from ONNX models exported by scikit-learn and PyTorch.')
      .setVersion(version)
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Routes that need an API key when API_KEYS is set; either header works. */
export function RequiresApiKey(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiSecurity('api-key'));
}
