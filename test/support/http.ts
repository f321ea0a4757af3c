import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Response } from 'supertest';

/** A Nest app whose HTTP server is Node's: what `request(app.getHttpServer())` is given in specs. */
export type HttpApp = INestApplication<Server>;

/**
 * A supertest response's parsed JSON body as the shape the route answers with. supertest types every body `any`;
 * specs name the shape here, once per response, so that what they read from it is type-checked.
 */
export function bodyOf<T>(res: Pick<Response, 'body'>): T {
  return res.body as T;
}

/** What specs read of the OpenAPI document the service publishes at GET /docs-json. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, { properties: Record<string, OpenApiProperty> }> };
}

export interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  security?: Array<Record<string, string[]>>;
  requestBody: { description?: string; content: Record<string, unknown> };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiResponse {
  description: string;
  content: Record<string, unknown>;
  headers?: Record<string, unknown>;
}

export interface OpenApiProperty {
  description?: string;
  example?: unknown;
}
