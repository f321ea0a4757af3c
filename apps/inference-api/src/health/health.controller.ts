import { ModelRegistry } from '@app/inference';
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator';

/** Kubernetes probes. Liveness depends on nothing but the event loop; readiness on every model being loaded. */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ModelRegistry,
  ) {}

  @Get('health')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: 503 until every model is loaded and while shutting down' })
  ready() {
    return this.health.check([() => this.modelsReady()]);
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
}
