import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ROOT } from './support/helm';

/** What this spec reads of a GitHub Actions workflow file. */
interface Workflow {
  on: { push: { branches: string[] }; pull_request?: unknown };
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

interface Job {
  container?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

/**
 * The GitHub Actions workflow, structurally: it cannot run here, so this checks that it parses and that the
 * jobs and steps CI relies on exist, in order, with the settings that matter.
 */
describe('GitHub Actions workflow .github/workflows/ci.yml', () => {
  const dir = join(ROOT, '.github/workflows');
  const doc = parseDocument(readFileSync(join(dir, 'ci.yml'), 'utf8'));
  const workflow = doc.toJS() as Workflow;
  const steps = (job: string) => workflow.jobs[job].steps;
  const indexOf = (job: string, predicate: (step: Step) => boolean) => steps(job).findIndex(predicate);
  const runs = (command: string) => (step: Step) =>
    typeof step.run === 'string' && step.run.includes(command);
  const uses = (action: string) => (step: Step) =>
    typeof step.uses === 'string' && step.uses.startsWith(`${action}@`);

  it('is valid YAML, like every workflow file', () => {
    expect(doc.errors).toEqual([]);
    for (const file of readdirSync(dir)) {
      expect(parseDocument(readFileSync(join(dir, file), 'utf8')).errors).toEqual([]);
      expect(file).toMatch(/\.ya?ml$/);
    }
  });

  it('runs on pull requests and on pushes to main', () => {
    expect(workflow.on).toHaveProperty('pull_request');
    expect(workflow.on.push.branches).toEqual(['main']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('installs without onnxruntime’s CUDA download, then lints, tests and lints the chart', () => {
    expect(workflow.env.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    const order = [
      indexOf('test', uses('actions/checkout')),
      indexOf('test', uses('actions/setup-node')),
      indexOf('test', runs('npm ci')),
      indexOf('test', runs('scripts/test-tools.sh')),
      indexOf('test', runs('npm run lint')),
      indexOf('test', runs('npm test')),
      indexOf('test', runs('npm run helm:lint')),
    ];
    for (const index of order) expect(index).toBeGreaterThanOrEqual(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(steps('test')[order[1]].with?.['node-version']).toBe(24);
    // Debian, so scripts/test-tools.sh can apt-get promtool and Chromium as on the developers' machines.
    expect(workflow.jobs.test.container).toBe('node:24-bookworm');
    expect(workflow.jobs.test.if).toBeUndefined();
  });

  it('has the scripts the workflow calls', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const script of ['lint', 'test', 'helm:lint', 'helm']) expect(scripts).toHaveProperty([script]);
  });

  it('builds, smoke-tests and pushes the image to GHCR only on pushes, after the tests pass', () => {
    const image = workflow.jobs.image;
    expect(image.needs).toBe('test');
    expect(image.if).toBe("github.event_name == 'push'");
    expect(image.permissions).toEqual({ contents: 'read', packages: 'write' });
    const login = steps('image')[indexOf('image', uses('docker/login-action'))];
    expect(login.with?.registry).toBe('ghcr.io');
    const meta = steps('image')[indexOf('image', uses('docker/metadata-action'))];
    expect(meta.with?.images).toBe('ghcr.io/${{ github.repository }}');
    const tags = (meta.with?.tags as string).split('\n').map((t) => t.trim());
    expect(tags).toContain('type=raw,value=${{ github.sha }}');
    expect(tags).toContain('type=raw,value=latest,enable={{is_default_branch}}');

    const builds = steps('image').filter(uses('docker/build-push-action'));
    expect(builds).toHaveLength(2);
    const [build, push] = builds;
    expect(build.with?.load).toBe(true);
    expect(push.with?.push).toBe(true);
    expect(push.with?.tags).toBe('${{ steps.meta.outputs.tags }}');
    for (const step of builds) {
      expect(step.with?.['cache-from']).toBe('type=gha');
      expect(step.with?.['cache-to']).toBe('type=gha,mode=max');
      expect(step.with?.platforms).toBe('linux/amd64');
      expect(step.with?.['build-args']).toContain('REVISION=${{ github.sha }}');
    }
    const smoke = indexOf('image', runs('docker run'));
    expect(smoke).toBeGreaterThan(indexOf('image', (s) => s === build));
    expect(smoke).toBeLessThan(indexOf('image', (s) => s === push));
    expect(steps('image')[smoke].run).toContain('/predict');
  });

  it('pins every action to a major version', () => {
    for (const job of Object.keys(workflow.jobs))
      for (const step of steps(job)) if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });
});
