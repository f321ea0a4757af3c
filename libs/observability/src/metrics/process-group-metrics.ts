import { AggregatorRegistry, Counter, register, Registry } from 'prom-client';

/**
 * Metrics across a group of HTTP processes (node:cluster). Each worker counts only what it answered; a scrape,
 * whichever worker gets it, must show the whole group, or Prometheus would see counters jump between workers'
 * shares. The primary gathers every worker's registry as JSON and merges them with prom-client's cluster
 * aggregation, each metric by its `aggregator` (counters and histograms add up; gauges say how, e.g. `min` for
 * model_loaded), together with the primary's own counters.
 *
 * This file is loaded by the primary, which boots no Nest: it needs nothing but prom-client.
 */

export const HTTP_WORKER_RESTARTS_TOTAL = 'http_worker_restarts_total';

/** One registry as JSON, the form workers send their metrics to the primary in. */
export type RegistrySnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** This process's metrics, for the primary to aggregate. */
export function localRegistrySnapshot(): Promise<RegistrySnapshot> {
  return register.getMetricsAsJSON();
}

/** The exposition's content type, the same whether one process or the group answers. */
export const EXPOSITION_CONTENT_TYPE = register.contentType;

/** The primary's own metrics, and the aggregation of the workers' with them. */
export class PrimaryMetrics {
  private readonly registry = new Registry();
  private readonly restarts = new Counter({
    name: HTTP_WORKER_RESTARTS_TOTAL,
    help: 'HTTP worker processes started again after one exited unexpectedly.',
    registers: [this.registry],
  });

  workerRestarted(): void {
    this.restarts.inc();
  }

  /** The group's exposition: every worker's snapshot and the primary's counters, aggregated. */
  async exposition(workers: readonly RegistrySnapshot[]): Promise<string> {
    const own = await this.registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([...workers, own]).metrics();
  }
}

/**
 * Where GET /metrics takes the group's exposition from. Provided only in a cluster worker; a single process
 * serves its own registry.
 */
export abstract class GroupMetricsSource {
  abstract exposition(): Promise<string>;
}
