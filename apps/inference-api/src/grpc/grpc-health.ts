import { ModelRegistry } from '@app/inference';
import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { ProcessGroup } from '../cluster/process-group';
import { QUALIFIED_INFERENCE_SERVICE } from './open-inference.messages';

/** '' is the server as a whole, what Kubernetes' gRPC probe asks about when it names no service. */
const SERVICES = ['', QUALIFIED_INFERENCE_SERVICE];

/** How often Watch streams learn of a change in the group's readiness (a worker loading, or lost and replaced). */
const WATCH_REFRESH_MS = 1000;

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
type StreamHandler = (call: ServerWritableStream<unknown, unknown>) => void;

/**
 * The standard `grpc.health.v1.Health` service (grpc-health-check's implementation) on the gRPC server: SERVING
 * exactly when GET /ready answers 200 (every model loaded, in every HTTP worker of the group, and not shutting
 * down), NOT_SERVING otherwise. Check reads the state as it is; Watch streams hear of changes within a second.
 */
@Injectable()
export class GrpcHealth implements OnModuleDestroy {
  private readonly health = new HealthImplementation(
    Object.fromEntries(SERVICES.map((service) => [service, 'NOT_SERVING'])),
  );
  private status: ServingStatus = 'NOT_SERVING';
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly group: ProcessGroup,
  ) {}

  /** The rule of GET /ready: this process's models, then the group's workers. */
  get serving(): boolean {
    if (!this.registry.isReady) return false;
    const group = this.group.readiness;
    return group === undefined || group.ready >= group.expected;
  }

  /** Adds Check and Watch to the server, keeping the Watch streams so a shutdown can end them. */
  addTo(server: Server): void {
    this.health.addToServer({
      addService: (definition, implementation) =>
        server.addService(definition, {
          ...implementation,
          check: ((call, callback) => {
            this.refresh();
            (implementation.check as UnaryHandler)(call, callback);
          }) satisfies UnaryHandler,
          watch: ((call) => {
            this.watches.add(call);
            call.once('cancelled', () => this.watches.delete(call));
            this.refresh();
            (implementation.watch as StreamHandler)(call);
          }) satisfies StreamHandler,
        }),
    });
    this.timer = setInterval(() => this.refresh(), WATCH_REFRESH_MS);
    this.timer.unref();
  }

  /** Sets the status from the state now; Watch streams hear of a change. */
  refresh(): void {
    if (this.closed) return;
    const status: ServingStatus = this.serving ? 'SERVING' : 'NOT_SERVING';
    if (status === this.status) return;
    this.status = status;
    for (const service of SERVICES) this.health.setStatus(service, status);
  }

  /**
   * Ends every Watch stream (having told it NOT_SERVING): an open stream would otherwise hold a graceful shutdown
   * of the server until its deadline. Nothing changes the status after this.
   */
  close(): void {
    this.refresh();
    this.closed = true;
    clearInterval(this.timer);
    for (const call of this.watches) call.end();
    this.watches.clear();
  }

  onModuleDestroy(): void {
    this.close();
  }
}
