import { status } from '@grpc/grpc-js';
import { grpcStatusName, grpcStatusOf } from './grpc-status';

describe('grpcStatusOf', () => {
  it.each([
    [400, 'INVALID_ARGUMENT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    // Too many rows, a body REST would refuse as too large or of the wrong type: the client can fix the call.
    [413, 'INVALID_ARGUMENT'],
    [415, 'INVALID_ARGUMENT'],
    [422, 'INVALID_ARGUMENT'],
    [429, 'RESOURCE_EXHAUSTED'],
    // Loading, overloaded, shutting down: worth a retry.
    [503, 'UNAVAILABLE'],
    [500, 'INTERNAL'],
    [502, 'INTERNAL'],
  ])('answers what REST answers with %i as %s', (httpStatus, name) => {
    expect(status[grpcStatusOf(httpStatus)]).toBe(name);
  });
});

describe('grpcStatusName', () => {
  it('names a code as the gRPC specification does, and keeps a code it does not know as its number', () => {
    expect(grpcStatusName(status.OK)).toBe('OK');
    expect(grpcStatusName(status.RESOURCE_EXHAUSTED)).toBe('RESOURCE_EXHAUSTED');
    expect(grpcStatusName(99)).toBe('99');
  });
});
