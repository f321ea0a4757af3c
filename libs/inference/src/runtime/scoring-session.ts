import type { ModelSignature, Prediction } from '../model-signature';
import { type AdaptedModel, interpretOutputs } from '../onnx';
import { openSession, runSession, type SessionSettings, type SessionSpec } from './session';
import { concatRows, type OutputTensors, toInputArray } from './tensors';

/**
 * One model version on one session of its own, for a command that scores a file (the reference profile): no queue,
 * no worker pool, no registry, and none of the other models opened. The same session options, input tensors and
 * reading of the outputs as the server, so the answers are the server's.
 */
export interface ScoringSession {
  readonly signature: ModelSignature;
  /** Rows already in the model's feature order (checked with toFeatureRows). */
  predict(rows: number[][]): Promise<Prediction[]>;
  release(): Promise<void>;
}

export async function openScoringSession(
  { bytes, signature }: AdaptedModel,
  settings: SessionSettings,
): Promise<ScoringSession> {
  const { session } = await openSession(bytes, settings);
  const spec: SessionSpec = {
    inputName: signature.input.name,
    inputType: signature.input.type,
    featureCount: signature.featureCount,
    fixedBatchSize: signature.fixedBatchSize,
  };
  return {
    signature,
    async predict(rows) {
      // A graph with a fixed batch dimension takes that many rows a run, as the runner feeds it.
      const chunk = signature.fixedBatchSize ?? Math.max(rows.length, 1);
      const runs: OutputTensors[] = [];
      for (let start = 0; start < rows.length; start += chunk) {
        const part = rows.slice(start, start + chunk);
        runs.push(
          await runSession(session, spec, toInputArray(spec.inputType, part, spec.featureCount), part.length),
        );
      }
      return runs.length === 0 ? [] : interpretOutputs(signature, concatRows(runs), rows.length);
    },
    release: () => session.release(),
  };
}
