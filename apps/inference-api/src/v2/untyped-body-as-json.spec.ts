import type { IncomingMessage, ServerResponse } from 'node:http';
import { UntypedBodyAsJson } from './untyped-body-as-json';

function contentTypeAfter(headers: Record<string, string>): string | undefined {
  const req = { headers: { ...headers } } as unknown as IncomingMessage;
  const next = jest.fn();
  new UntypedBodyAsJson().use(req, {} as ServerResponse, next);
  expect(next).toHaveBeenCalledTimes(1);
  return req.headers['content-type'];
}

describe('UntypedBodyAsJson', () => {
  it('reads a body without a Content-Type as JSON', () => {
    expect(contentTypeAfter({})).toBe('application/json');
  });

  it('leaves a Content-Type the client gave, whatever it is', () => {
    expect(contentTypeAfter({ 'content-type': 'text/plain' })).toBe('text/plain');
  });

  it("leaves Triton's binary tensor data untyped: it is not JSON past the header's length", () => {
    expect(contentTypeAfter({ 'inference-header-content-length': '120' })).toBeUndefined();
  });
});
