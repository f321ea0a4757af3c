import { Injectable, NestMiddleware } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { NextFunction, Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import { HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS_TOTAL } from './metric-names';
import { originalPathOf, routePatternOf } from './route-pattern';

type HttpLabels = 'method' | 'route' | 'status';

/** The scrape itself is Prometheus' own traffic; counting it would only measure the scraper. */
export const METRICS_PATH = '/metrics';

/**
 * Counts and times every request when its response finishes, whatever answered it: a handler, a guard, a pipe,
 * the problem filter or a middleware. An interceptor would miss everything rejected before it runs.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(
    @InjectMetric(HTTP_REQUESTS_TOTAL) private readonly requests: Counter<HttpLabels>,
    @InjectMetric(HTTP_REQUEST_DURATION_SECONDS) private readonly duration: Histogram<HttpLabels>,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (originalPathOf(req) === METRICS_PATH) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = { method: req.method, route: routePatternOf(req), status: String(res.statusCode) };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}
