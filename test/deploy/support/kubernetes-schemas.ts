import {
  ServiceMonitor,
  PrometheusRule,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { Manifest, ROOT } from './helm';

/**
 * Validators generated from the official Kubernetes OpenAPI documents (npm `kubernetes-models`) and from the
 * Prometheus Operator's CRDs (`@kubernetes-models/prometheus-operator`): required fields, types, enums and
 * formats, offline. Like the API server's own schemas they allow unknown fields: `unknownFields` below finds
 * those.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/CronJob': CronJob,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Throws, naming the object and the failing paths, unless the manifest matches its kind's schema. */
export function validateManifest(manifest: Manifest): void {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const Kind = MODELS[key];
  if (!Kind) throw new Error(`no schema for ${key}: add it to test/deploy/support/kubernetes-schemas.ts`);
  try {
    new Kind(manifest).validate();
  } catch (error) {
    throw new Error(`${key} ${manifest.metadata?.name}: ${(error as Error).message}`, { cause: error });
  }
}

/** Where each kind's TypeScript interface lives: `I<Kind>` in `<module>/<Kind>`. */
const TYPE_MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/**
 * Unknown fields, which the API schemas (and so `validateManifest`) let through and the API server silently
 * drops: a `readinesProbe` typo would ship a pod without its probe. The same package's TypeScript interfaces
 * are exact, so each manifest is compiled as an object literal of its kind's type and TypeScript's excess
 * property check names every field that does not exist. Returns the compiler's messages; none means clean.
 */
export function unknownFields(manifests: Manifest[]): string[] {
  const dir = join(ROOT, 'node_modules/.cache/deploy-typecheck');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `manifests-${process.pid}-${Date.now()}.ts`);
  const lines = manifests.map((m, i) => {
    const module = TYPE_MODULES[m.apiVersion];
    if (!module) throw new Error(`no TypeScript types for ${m.apiVersion}`);
    return `export const m${i}: import('${module}/${m.kind}').I${m.kind} = ${JSON.stringify(m)};`;
  });
  writeFileSync(file, lines.join('\n'));
  try {
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
      const manifest = manifests[where];
      const name = manifest ? `${manifest.kind} ${manifest.metadata.name}: ` : '';
      return name + ts.flattenDiagnosticMessageText(d.messageText, ' ');
    });
  } finally {
    rmSync(file, { force: true });
  }
}
