import { DomainError } from '@app/observability';
import type { Metadata, StatusObject } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { requestIdOf } from './grpc-call-log';
import { grpcStatusOf } from './grpc-status';

/** What grpc-js turns into the call's status: `code`, and `details` (it reads `message` when there is none). */
export type GrpcError = Pick<StatusObject, 'code' | 'details'> & { message: string };

const UNEXPECTED =
  'The server failed to handle the call. Quote the request id (x-request-id) when reporting it.';

/**
 * The status a failed call is answered with: a DomainError's status as its HTTP status maps to, with the detail REST
 * answers; anything else INTERNAL, its cause logged with its stack and never sent to the client.
 */
export function grpcErrorOf(exception: unknown, metadata: Metadata | undefined, logger: Logger): GrpcError {
  if (exception instanceof DomainError) {
    return { code: grpcStatusOf(exception.status), details: exception.detail, message: exception.detail };
  }
  logger.error({ err: exception, request_id: requestIdOf(metadata) }, 'unhandled error');
  return { code: GrpcStatus.INTERNAL, details: UNEXPECTED, message: UNEXPECTED };
}

/** The gRPC twin of ProblemDetailsFilter, for the calls Nest's transport handles: grpcErrorOf. */
@Catch()
export class GrpcProblemFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(GrpcProblemFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    return throwError(() => grpcErrorOf(exception, host.switchToRpc().getContext<Metadata>(), this.logger));
  }
}
