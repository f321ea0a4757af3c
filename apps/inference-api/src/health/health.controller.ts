import { ModelRegistry } from '@app/inference';
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator';
import { GroupReadiness, ProcessGroup } from '../cluster/process-group';

/**
 * Kubernetes probes. Liveness depends on nothing but the event loop; readiness on every model being loaded, and
 * with several HTTP workers on every worker's models: the pod is ready when any connection, whichever worker
 * gets it, would be answered.
 */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ModelRegistry,
    private readonly group: ProcessGroup,
  ) {}

  @Get('health')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: 503 until every model is loaded (in every HTTP worker) and while shutting down',
  })
  ready() {
    const group = this.group.readiness;
    return this.health.check(
      group ? [() => this.modelsReady(), () => this.workersReady(group)] : [() => this.modelsReady()],
    );
  }

  private modelsReady() {
    const indicator = this.indicators.check('models');
    const models = this.registry.list();
    const details = {
      phase: this.registry.state,
      loaded: models.filter((m) => m.ready).map((m) => `${m.name}:${m.version}`),
      loading: models.filter((m) => !m.ready).map((m) => `${m.name}:${m.version}`),
    };
    return this.registry.isReady ? indicator.up(details) : indicator.down(details);
  }

  /** Down while any worker of the group is still loading, or is being replaced after a crash. */
  private workersReady(group: GroupReadiness) {
    const indicator = this.indicators.check('workers');
    return group.ready >= group.expected ? indicator.up({ ...group }) : indicator.down({ ...group });
  }
}
