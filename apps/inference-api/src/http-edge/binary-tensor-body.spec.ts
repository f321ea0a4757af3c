import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { ProblemDocument } from '@app/observability';
import { bodyOf, type HttpApp } from '../../../../test/support/http';
import { createObservabilityApp } from '../../../../test/support/observability-app';
import { AcceptsBinaryTensorData, binaryTensorDataOf } from './binary-tensor-body';

@Controller()
class TensorController {
  @Post('tensors')
  @HttpCode(200)
  @AcceptsBinaryTensorData()
  tensors(@Body() body: unknown, @Req() req: Request) {
    return { body: body ?? null, binary: binaryTensorDataOf(req)?.toString('hex') ?? null };
  }

  @Post('json-only')
  @HttpCode(200)
  jsonOnly(@Body() body: unknown, @Req() req: Request) {
    return { body: body ?? null, binary: binaryTensorDataOf(req)?.toString('hex') ?? null };
  }
}

const HEADER = 'Inference-Header-Content-Length';

describe('binary tensor bodies (BODY_LIMIT=1kb)', () => {
  let app: HttpApp;

  beforeAll(async () => {
    ({ app } = await createObservabilityApp([TensorController], { BODY_LIMIT: '1kb' }));
  });
  afterAll(() => app.close());

  /** A JSON header and bytes after it, Inference-Header-Content-Length set to the header's byte length. */
  const post = (path: string, json: string, binary: Buffer, headers: Record<string, string> = {}) =>
    request(app.getHttpServer())
      .post(path)
      .set({
        'Content-Type': 'application/octet-stream',
        [HEADER]: String(Buffer.byteLength(json)),
        ...headers,
      })
      .serialize(() => Buffer.concat([Buffer.from(json), binary]) as unknown as string)
      .send({});

  it('reads the JSON header as the body and keeps the bytes after it for the route', async () => {
    const res = await post('/tensors', '{"inputs":[],"id":"é"}', Buffer.from([0, 1, 0xfe, 0xff])).expect(200);
    expect(res.body).toEqual({ body: { inputs: [], id: 'é' }, binary: '0001feff' });
  });

  it('takes a JSON header with nothing after it', async () => {
    const res = await post('/tensors', '{"a":1}', Buffer.alloc(0)).expect(200);
    expect(res.body).toEqual({ body: { a: 1 }, binary: '' });
  });

  it('reads a plain JSON body as before: no binary data', async () => {
    const res = await request(app.getHttpServer()).post('/tensors').send({ a: 1 }).expect(200);
    expect(res.body).toEqual({ body: { a: 1 }, binary: null });
  });

  it('takes the body without a Content-Type, as tritonclient sends it, or with a JSON one', async () => {
    const json = '{"a":2}';
    const body = Buffer.concat([Buffer.from(json), Buffer.from([7])]);
    const { port } = await listening(app);
    const untyped = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/tensors',
          method: 'POST',
          headers: { [HEADER]: String(json.length), 'Content-Length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(untyped).toEqual({ status: 200, body: JSON.stringify({ body: { a: 2 }, binary: '07' }) });
    await post('/tensors', json, Buffer.from([7]), { 'Content-Type': 'application/json' }).expect(200, {
      body: { a: 2 },
      binary: '07',
    });
  });

  it('answers 415 for another media type or a compressed body', async () => {
    const text = await post('/tensors', '{}', Buffer.alloc(1), { 'Content-Type': 'text/plain' }).expect(415);
    expect(bodyOf<ProblemDocument>(text).detail).toBe(
      'A body with Inference-Header-Content-Length is a JSON header followed by binary tensor data, sent as Content-Type: application/octet-stream (or without one); got "text/plain".',
    );
    const gzip = await post('/tensors', '{}', Buffer.alloc(1), { 'Content-Encoding': 'gzip' }).expect(415);
    expect(bodyOf<ProblemDocument>(gzip).detail).toBe(
      'Content-Encoding "gzip" is not supported; send the body uncompressed.',
    );
  });

  it('answers 400 for a header length that is not a whole number of bytes, or 0', async () => {
    for (const value of ['abc', '-1', '1e3', '12abc', '']) {
      const res = await post('/tensors', '{}', Buffer.alloc(1), { [HEADER]: value }).expect(400);
      expect(res.body).toMatchObject({
        type: 'https://ml-inference.dev/problems/malformed-binary-body',
        detail: `Inference-Header-Content-Length must be the length of the JSON inference header in bytes, a whole number; got ${JSON.stringify(value)}.`,
      });
    }
    const raw = await post('/tensors', '{}', Buffer.alloc(4), { [HEADER]: '0' }).expect(400);
    expect(bodyOf<ProblemDocument>(raw).detail).toMatch(
      /^Inference-Header-Content-Length is 0 \(a raw binary request without a JSON header\), which this server does not take/,
    );
  });

  it('answers 400 for a header length past the end of the body', async () => {
    const res = await post('/tensors', '{}', Buffer.alloc(2), { [HEADER]: '10' }).expect(400);
    expect(bodyOf<ProblemDocument>(res).detail).toBe(
      'Inference-Header-Content-Length is 10 but the body has only 4 bytes; it must give the length of the JSON header at the start of the body.',
    );
  });

  it('answers 400 naming the header when its bytes are not JSON, as when the length is miscounted', async () => {
    // Counted one byte short (characters instead of bytes, say): the JSON is cut.
    const res = await post('/tensors', '{"id":"é"}', Buffer.alloc(4), { [HEADER]: '10' }).expect(400);
    expect(res.body).toMatchObject({
      type: 'https://ml-inference.dev/problems/malformed-json',
      status: 400,
    });
    expect(bodyOf<ProblemDocument>(res).detail).toMatch(/^The body is not valid JSON: /);
    expect(bodyOf<ProblemDocument>(res).detail).toMatch(
      /\(in the JSON inference header, the first 10 bytes of the body as Inference-Header-Content-Length says\)$/,
    );
    const nan = await post('/tensors', '{"data":[NaN]}', Buffer.alloc(4)).expect(422);
    expect(bodyOf<ProblemDocument>(nan).detail).toMatch(
      /^data\[0\] is NaN; .*\(in the JSON inference header, the first 14 bytes/,
    );
    expect(bodyOf<ProblemDocument>(nan).errors).toEqual([
      { field: 'data[0]', message: 'data[0] is NaN; only finite numbers are accepted' },
    ]);
  });

  it('answers 413 when the header and the binary data together pass BODY_LIMIT', async () => {
    const res = await post('/tensors', '{"a":1}', Buffer.alloc(1024)).expect(413);
    expect(bodyOf<ProblemDocument>(res).detail).toBe(
      'The body is larger than the limit of 1kb (BODY_LIMIT).',
    );
  });

  it('ignores the header on a route that does not take binary tensor data: its body must be JSON', async () => {
    const res = await post('/json-only', '{"a":1}', Buffer.from([0, 1]), {
      'Content-Type': 'application/json',
    }).expect(400);
    expect(bodyOf<ProblemDocument>(res).detail).toMatch(/^The body is not valid JSON: /);
    expect(
      bodyOf<ProblemDocument>(await post('/json-only', '{"a":1}', Buffer.alloc(1)).expect(415)).detail,
    ).toMatch(/^The body must be JSON sent as Content-Type: application\/json/);
  });
});

async function listening(app: HttpApp): Promise<AddressInfo> {
  const server = app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address() as AddressInfo;
}
