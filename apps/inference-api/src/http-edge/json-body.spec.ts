import { expect, jest } from '@jest/globals';
import { Body, Controller, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';
import type { ProblemDocument } from '@app/observability';
import { bodyOf, type HttpApp } from '../../../../test/support/http';
import { createObservabilityApp, type LogCapture } from '../../../../test/support/observability-app';
import { connect } from 'node:net';
import { RequestAbortedError } from './body-errors';
import { JsonBody } from './json-body';
import type { AddressInfo } from 'node:net';

@Controller()
class EchoController {
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown, @Req() req: Request) {
    return { body: body ?? null, bodyType: typeof req.body };
  }

  @Put('echo')
  put(@Body() body: unknown) {
    return { body };
  }
}

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('JsonBody (BODY_LIMIT=1kb)', () => {
  let app: HttpApp;
  let logs: LogCapture;

  beforeAll(async () => {
    ({ app, logs } = await createObservabilityApp([EchoController], { BODY_LIMIT: '1kb' }));
  });
  afterAll(() => app.close());

  const post = (body: string, type = 'application/json') =>
    request(app.getHttpServer()).post('/echo').set('Content-Type', type).send(body);

  it('parses JSON into req.body', async () => {
    const res = await post('{"features":[1,2.5,-3]}').expect(200);
    expect(res.body).toEqual({ body: { features: [1, 2.5, -3] }, bodyType: 'object' });
  });

  it('accepts +json media types and an explicit UTF-8 charset', async () => {
    await post('[1]', 'application/merge-patch+json').expect(200, { body: [1], bodyType: 'object' });
    await post('{"é":"ü"}', 'application/json; charset=UTF-8').expect(200, {
      body: { é: 'ü' },
      bodyType: 'object',
    });
  });

  it('leaves req.body undefined for an empty body, whatever its type', async () => {
    await request(app.getHttpServer()).post('/echo').expect(200, { body: null, bodyType: 'undefined' });
    await post('', 'text/plain').expect(200, { body: null, bodyType: 'undefined' });
  });

  it('answers 413 naming the limit, by Content-Length or while streaming', async () => {
    const big = JSON.stringify({ features: Array.from({ length: 400 }, () => 1.5) });
    const res = await post(big).expect(413);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.body).toEqual({
      type: 'https://ml-inference.dev/problems/payload-too-large',
      title: 'Payload too large',
      status: 413,
      detail: 'The body is larger than the limit of 1kb (BODY_LIMIT).',
      instance: '/echo',
      request_id: expect.any(String),
    });

    // Chunked: no Content-Length to check up front, so the limit stops the reading.
    const chunked = request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json');
    chunked.write(big.slice(0, 600));
    chunked.write(big.slice(600));
    const streamed = await chunked;
    expect(streamed.status).toBe(413);
    expect(bodyOf<ProblemDocument>(streamed).detail).toBe(
      'The body is larger than the limit of 1kb (BODY_LIMIT).',
    );
  });

  it('gives up on a body cut short by the client, logs it as aborted, and goes on serving', async () => {
    // The read must end (not hang on a stream that will never end) and say why.
    const read = jest.spyOn(JsonBody.prototype, 'read');
    const server = app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: cut-short\r\nContent-Length: 100\r\n\r\n{"features":[1,',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const aborted = () => logs.lines.find((line) => line.reqId === 'cut-short');
    for (let i = 0; i < 100 && aborted() === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    expect(aborted()).toMatchObject({ msg: 'request aborted', level: 'warn' });
    const reading = read.mock.results[0]?.value as Promise<void>;
    read.mockRestore();
    await expect(reading).rejects.toBeInstanceOf(RequestAbortedError);
    await post('{"after":true}').expect(200, { body: { after: true }, bodyType: 'object' });
  });

  it('accepts a body of exactly the limit', async () => {
    const exact = `[${'1,'.repeat(510)}1]`;
    expect(exact.length).toBe(1023);
    await post(`${exact} `).expect(200);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await post('a=1', 'application/x-www-form-urlencoded').expect(415);
    expect(res.body).toMatchObject({
      type: 'https://ml-inference.dev/problems/unsupported-media-type',
      title: 'Unsupported media type',
      status: 415,
      detail:
        'The body must be JSON sent as Content-Type: application/json; got "application/x-www-form-urlencoded".',
    });
    const latin1 = await post('{}', 'application/json; charset=latin1').expect(415);
    expect(bodyOf<ProblemDocument>(latin1).detail).toBe('JSON bodies must be UTF-8; got charset=latin1.');
    const gzip = await post('{}').set('Content-Encoding', 'gzip').expect(415);
    expect(bodyOf<ProblemDocument>(gzip).detail).toBe(
      'Content-Encoding "gzip" is not supported; send the body uncompressed.',
    );
  });

  it('answers 400 for malformed JSON with the position', async () => {
    const res = await post('{"features": [1, 2,]}').expect(400);
    expect(res.body).toEqual({
      type: 'https://ml-inference.dev/problems/malformed-json',
      title: 'Malformed JSON',
      status: 400,
      detail:
        'The body is not valid JSON: Unexpected token \']\', ..."s": [1, 2,]}" is not valid JSON at position 19 (line 1, column 20)',
      instance: '/echo',
      request_id: expect.any(String),
    });
  });

  it('answers 400 for a body that is not UTF-8', async () => {
    const res = await request(app.getHttpServer())
      .post('/echo')
      .set('Content-Type', 'application/json')
      // superagent would serialise a Buffer as JSON; send the bytes as they are.
      .serialize(() => Buffer.from([0x22, 0xff, 0x22]) as unknown as string)
      .send({})
      .expect(400);
    expect(bodyOf<ProblemDocument>(res).detail).toBe(
      'The body is not valid JSON: the body is not valid UTF-8',
    );
  });

  it('answers 422 naming every non-finite number and its path', async () => {
    const res = await post('{"features": [0.5, NaN, Infinity, -Infinity, 1e999], "note": "NaN"}').expect(422);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.body).toEqual({
      type: 'https://ml-inference.dev/problems/non-finite-number',
      title: 'Non-finite number',
      status: 422,
      detail:
        '4 problems with the input: features[1] is NaN; only finite numbers are accepted; ' +
        'features[2] is Infinity; only finite numbers are accepted; ' +
        'features[3] is -Infinity; only finite numbers are accepted; ' +
        'features[4] is 1e999, which overflows to Infinity; only finite numbers are accepted',
      instance: '/echo',
      request_id: expect.any(String),
      errors: [
        { field: 'features[1]', message: 'features[1] is NaN; only finite numbers are accepted' },
        { field: 'features[2]', message: 'features[2] is Infinity; only finite numbers are accepted' },
        { field: 'features[3]', message: 'features[3] is -Infinity; only finite numbers are accepted' },
        {
          field: 'features[4]',
          message: 'features[4] is 1e999, which overflows to Infinity; only finite numbers are accepted',
        },
      ],
    });
  });

  it('reads bodies of PUT too', async () => {
    await request(app.getHttpServer())
      .put('/echo')
      .set('Content-Type', 'application/json')
      .send('{"a":1}')
      .expect(200, { body: { a: 1 } });
  });
});
