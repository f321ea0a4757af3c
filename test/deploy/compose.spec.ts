import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/helm';

/** A YAML file of the checkout, as the shape the spec reads of it. */
const read = <T>(path: string): T => parse(readFileSync(join(ROOT, path), 'utf8')) as T;

/** What this spec reads of docker-compose.yml. */
interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

interface ComposeService {
  build?: string;
  env_file?: string;
  volumes: string[];
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck: { test: string[] };
  ports?: string[];
  environment?: Record<string, string>;
  stop_grace_period: string;
  depends_on: Record<string, { condition: string }>;
}

/** Prometheus and Grafana files, as far as the spec reads them. */
interface PrometheusConfig {
  scrape_configs: Array<{
    job_name: string;
    metrics_path: string;
    static_configs: Array<{ targets: string[] }>;
  }>;
}

interface AlertRules {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
}

interface Dashboard {
  panels: Array<{ datasource: { uid: string }; targets: Array<{ expr: string }> }>;
}

const dashboard = () =>
  JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards/ml-inference.json'), 'utf8')) as Dashboard;

/** Every metric name the service's code registers (quoted snake_case names in libs/ and apps/). */
function metricNamesInCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.spec.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(/'((?:http|model|prediction)_[a-z_]+)'/g))
          names.add(m[1]);
    }
  };
  walk(join(ROOT, 'libs'));
  walk(join(ROOT, 'apps'));
  return names;
}

/** Metric names an expression reads (histogram series name their family). */
function metricsIn(expr: string): string[] {
  return [
    ...expr.matchAll(/\b((?:http|model|prediction)_[a-z_]+?)(?:_bucket|_sum|_count)?(?=[\s{[)]|$)/g),
  ].map((m) => m[1]);
}

/** promtool parses each expression as a recording rule would: a syntax check of the PromQL. */
function promtoolAcceptsExpressions(exprs: string[]): { status: number | null; output: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'promql-')), 'exprs.yaml');
  const rules = exprs.map((expr, i) => ({ record: `check:expr_${i}`, expr }));
  writeFileSync(file, JSON.stringify({ groups: [{ name: 'check', rules }] }));
  const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('docker compose', () => {
  const compose = read<Compose>('docker-compose.yml');

  it('runs the API from this Dockerfile with models and data on volumes, settings from .env, and a health check', () => {
    const api = compose.services.api;
    expect(api.build).toBe('.');
    expect(api.env_file).toBe('.env');
    expect(existsSync(join(ROOT, '.env.example'))).toBe(true); // what the README tells users to copy
    expect(api.volumes).toEqual(['./models:/app/models:ro', 'data:/app/data']);
    expect(Object.keys(compose.volumes)).toContain('data');
    expect(api.read_only).toBe(true);
    expect(api.tmpfs).toEqual(['/tmp']);
    expect(api.healthcheck.test[0]).toBe('CMD'); // exec form: the image needs no shell for it
    expect(api.healthcheck.test.join(' ')).toContain('/ready');
    // HTTP and gRPC, each to the container port the service binds (PORT, GRPC_PORT).
    expect(api.ports).toEqual(['127.0.0.1:${API_PORT:-3000}:3000', '127.0.0.1:${GRPC_API_PORT:-8081}:8081']);
    expect(api.environment).toMatchObject({ PORT: '3000', GRPC_PORT: '8081' });
    // Longer than the service's own drain, so compose does not SIGKILL it mid-drain.
    expect(parseInt(api.stop_grace_period, 10)).toBeGreaterThan(10);
  });

  it('has Prometheus scrape the API service on its container port, after the API is healthy', () => {
    const prometheus = compose.services.prometheus;
    expect(prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(prometheus.depends_on.api.condition).toBe('service_healthy');
    expect(prometheus.healthcheck.test).toBeDefined();
    const config = read<PrometheusConfig>('deploy/prometheus/prometheus.yml');
    const job = config.scrape_configs.find((j) => j.job_name === 'ml-inference')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0].targets).toEqual(['api:3000']);
  });

  it('has a Prometheus config that promtool accepts, alert rules included', () => {
    const result = spawnSync(
      'promtool',
      ['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')],
      {
        encoding: 'utf8',
      },
    );
    const output = result.stdout + result.stderr;
    expect(output).toContain('is valid prometheus config file syntax');
    expect(output).toContain('SUCCESS: 3 rules found');
    expect(result.status).toBe(0);
  });

  it('alerts and charts only metrics the service really exports', () => {
    const known = metricNamesInCode();
    const rules = read<AlertRules>('deploy/prometheus/alerts.yml').groups[0].rules;
    expect(rules.map((r) => r.alert)).toEqual(['ModelDriftDetected', 'HighErrorRate', 'HighP99Latency']);
    const panelExprs = dashboard().panels.flatMap((p) => p.targets.map((t) => t.expr));
    const exprs = [...rules.map((r) => r.expr), ...panelExprs];
    for (const expr of exprs) {
      const used = metricsIn(expr);
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(known).toContain(name);
    }
    const promql = promtoolAcceptsExpressions(panelExprs);
    expect(promql.output).toContain('SUCCESS');
    expect(promql.status).toBe(0);
  });

  it('provisions Grafana with the Prometheus data source the dashboard uses', () => {
    const grafana = compose.services.grafana;
    expect(grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const datasource = read<{ datasources: Array<{ uid: string }> }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    ).datasources[0];
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const provider = read<{ providers: Array<{ options: { path: string } }> }>(
      'deploy/grafana/provisioning/dashboards/dashboards.yml',
    ).providers[0];
    expect(grafana.volumes).toContain(`./deploy/grafana/dashboards:${provider.options.path}:ro`);
    for (const panel of dashboard().panels) expect(panel.datasource.uid).toBe(datasource.uid);
  });
});
