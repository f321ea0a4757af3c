import { Controller, Get, Inject, Optional, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { DomainError } from '../problems/domain-error';
import { EXPOSITION_CONTENT_TYPE, GroupMetricsSource } from './process-group-metrics';

/**
 * GET /metrics: this process's registry, or in a cluster worker the whole group's, aggregated by the primary.
 * PrometheusModule mounts it at METRICS_PATH.
 */
@Controller()
export class MetricsController extends PrometheusController {
  constructor(@Optional() @Inject(GroupMetricsSource) private readonly group?: GroupMetricsSource | null) {
    super();
  }

  @Get()
  override async index(@Res({ passthrough: true }) response: Response): Promise<string> {
    if (!this.group) return super.index(response);
    let text: string;
    try {
      text = await this.group.exposition();
    } catch (error) {
      // A partial sum would look to Prometheus like counters going backwards: no answer is the honest one.
      throw new DomainError({
        code: 'metrics-unavailable',
        status: 503,
        title: 'Metrics unavailable',
        detail: `the metrics of the HTTP workers could not be gathered: ${(error as Error).message}`,
        cause: error,
      });
    }
    response.header('Content-Type', EXPOSITION_CONTENT_TYPE);
    return text;
  }
}
