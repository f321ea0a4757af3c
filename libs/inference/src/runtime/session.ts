import { InferenceSession, Tensor } from 'onnxruntime-node';
import { InputArray, OutputTensors } from './tensors';

/** What a thread needs to run a model: shared by the main thread and the workers. */
export interface SessionSpec {
  inputName: string;
  inputType: string;
  featureCount: number;
  fixedBatchSize?: number;
}

export interface SessionSettings {
  /** ONNX Runtime intra-op threads for this session. */
  threads: number;
  /** Execution providers in order of preference; CPU is always the last resort. */
  providers: readonly string[];
}

export interface OpenedSession {
  session: InferenceSession;
  /** The provider list the session was created with; [..., 'cpu'] unless a fallback happened. */
  providers: string[];
  /** Why the preferred providers were not used, when they were not. */
  fallback?: string;
}

/**
 * Opens a session with the preferred execution providers, falling back to CPU alone when they are not available
 * here (a CUDA provider on a machine without CUDA fails at creation, not later).
 */
export async function openSession(bytes: Uint8Array, settings: SessionSettings): Promise<OpenedSession> {
  const base: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
  };
  const preferred = [...new Set([...settings.providers.filter((p) => p !== 'cpu'), 'cpu'])];
  if (preferred.length > 1) {
    try {
      const session = await InferenceSession.create(bytes, { ...base, executionProviders: preferred });
      return { session, providers: preferred };
    } catch (error) {
      const session = await InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
      return {
        session,
        providers: ['cpu'],
        fallback: error instanceof Error ? error.message : String(error),
      };
    }
  }
  return {
    session: await InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] }),
    providers: ['cpu'],
  };
}

function elementType(type: string): 'float32' | 'float64' | 'int32' | 'int64' {
  if (type === 'float32' || type === 'float64' || type === 'int32' || type === 'int64') return type;
  throw new Error(`input element type ${type} is not supported`);
}

/**
 * One run over `rows` rows of `data`. A graph whose batch dimension is fixed gets exactly that many rows: the data
 * is padded with zero rows and the outputs cut back, so callers never see the padding.
 */
export async function runSession(
  session: InferenceSession,
  spec: SessionSpec,
  data: InputArray,
  rows: number,
): Promise<OutputTensors> {
  const fixed = spec.fixedBatchSize;
  let fed = data;
  if (fixed && rows < fixed) {
    fed = new (data.constructor as new (length: number) => InputArray)(fixed * spec.featureCount);
    fed.set(data as never);
  }
  const batch = fixed ?? rows;
  const tensor = new Tensor(elementType(spec.inputType), fed as Float32Array, [batch, spec.featureCount]);
  const results = await session.run({ [spec.inputName]: tensor });
  const outputs: OutputTensors = {};
  for (const [name, value] of Object.entries(results)) {
    const perRow = value.dims.slice(1).reduce((a, b) => a * b, 1);
    const data = value.data as OutputTensors[string]['data'];
    outputs[name] =
      batch === rows
        ? { data, dims: value.dims }
        : {
            data: ArrayBuffer.isView(data)
              ? (data as unknown as Float32Array).slice(0, rows * perRow)
              : Array.prototype.slice.call(data, 0, rows * perRow),
            dims: [rows, ...value.dims.slice(1)],
          };
  }
  return outputs;
}
