import { Injectable, NestMiddleware } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Histogram } from 'prom-client';
import { HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS_TOTAL } from './metric-names';
import { originalPathOf, routePatternOf } from './route-pattern';

type HttpLabels = 'method' | 'route' | 'status';

/** The scrape itself is Prometheus' own traffic; counting it would only measure the scraper. */
export const METRICS_PATH = '/metrics';

/** Marks a request already counted, so the fast lane and the Nest middleware never count it twice. */
const COUNTED = Symbol('http-metrics.counted');

interface Series {
  requests: Counter.Internal;
  duration: Histogram.Internal<HttpLabels>;
}

/**
 * Counts and times every request when its response finishes, whatever answered it: a handler, a guard, a pipe,
 * the problem filter, a middleware or the fast lane. The labelled series are made once per method, route and status
 * and kept, which saves a label object a request; prom-client 15's series are its methods bound to the labels, so it
 * still validates and hashes them on every call.
 */
@Injectable()
export class HttpMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    @InjectMetric(HTTP_REQUESTS_TOTAL) private readonly requests: Counter<HttpLabels>,
    @InjectMetric(HTTP_REQUEST_DURATION_SECONDS) private readonly duration: Histogram<HttpLabels>,
  ) {}

  /**
   * @param route the route pattern when the caller knows it; otherwise it is read from Express when the response
   *   finishes
   * @param startedAt when the request arrived (`performance.now()`), if it was taken earlier
   */
  begin(req: IncomingMessage, res: ServerResponse, route?: string, startedAt = performance.now()): void {
    const counted = req as IncomingMessage & { [COUNTED]?: true };
    if (counted[COUNTED]) return;
    counted[COUNTED] = true;
    res.once('finish', () => {
      const series = this.seriesOf(
        req.method ?? 'GET',
        route ?? routePatternOf(req as Request),
        res.statusCode,
      );
      series.requests.inc();
      series.duration.observe((performance.now() - startedAt) / 1000);
    });
  }

  private seriesOf(method: string, route: string, statusCode: number): Series {
    const key = `${method} ${route} ${statusCode}`;
    let found = this.series.get(key);
    if (found === undefined) {
      const labels = { method, route, status: String(statusCode) };
      found = { requests: this.requests.labels(labels), duration: this.duration.labels(labels) };
      this.series.set(key, found);
    }
    return found;
  }
}

/** HttpMetrics for every request that reaches the Nest pipeline, but the scrape. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: HttpMetrics) {}

  use(req: Request, res: Response, next: () => void): void {
    if (originalPathOf(req) !== METRICS_PATH) this.metrics.begin(req, res);
    next();
  }
}
