import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The gRPC status a problem is answered with, from the HTTP status the same problem has over REST: one list of
 * problems, two protocols. Every refusal the client can fix by changing its call (a bad tensor, too many rows, a
 * body REST would not take) is INVALID_ARGUMENT, as Triton answers them; a model still loading, a full queue or a
 * server shutting down is UNAVAILABLE, which gRPC clients know to retry.
 */
export function grpcStatusOf(httpStatus: number): GrpcStatus {
  switch (httpStatus) {
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.NOT_FOUND;
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 503:
      return GrpcStatus.UNAVAILABLE;
    default:
      return httpStatus >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.INVALID_ARGUMENT;
  }
}

/** `INVALID_ARGUMENT` for 3: the name a log line and a metric label give a code. */
export function grpcStatusName(code: number): string {
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code];
  return name ?? String(code);
}
