import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/helm';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = any;

const read = (path: string): Yaml => parse(readFileSync(join(ROOT, path), 'utf8'));

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
  const compose = read('docker-compose.yml');

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
    const config = read('deploy/prometheus/prometheus.yml');
    const job = config.scrape_configs.find((j: Yaml) => j.job_name === 'ml-inference');
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
    const rules = read('deploy/prometheus/alerts.yml').groups[0].rules as Yaml[];
    expect(rules.map((r) => r.alert)).toEqual(['ModelDriftDetected', 'HighErrorRate', 'HighP99Latency']);
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'deploy/grafana/dashboards/ml-inference.json'), 'utf8'),
    );
    const panelExprs = (dashboard.panels as Yaml[]).flatMap((p) =>
      (p.targets as Yaml[]).map((t) => t.expr as string),
    );
    const exprs = [...rules.map((r) => r.expr as string), ...panelExprs];
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
    const datasource = read('deploy/grafana/provisioning/datasources/prometheus.yml').datasources[0];
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const provider = read('deploy/grafana/provisioning/dashboards/dashboards.yml').providers[0];
    expect(grafana.volumes).toContain(`./deploy/grafana/dashboards:${provider.options.path}:ro`);
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'deploy/grafana/dashboards/ml-inference.json'), 'utf8'),
    );
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe(datasource.uid);
  });
});
