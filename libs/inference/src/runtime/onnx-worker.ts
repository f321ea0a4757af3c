import { InferenceSession } from 'onnxruntime-node';
import { workerData } from 'node:worker_threads';
import { openSession, runSession, SessionSettings, SessionSpec } from './session';
import { InputArray, OutputTensors, toInputArray } from './tensors';

/*
 * A worker thread of the inference pool: it opens its own session for every model placed on the workers, warms
 * each up once, and then runs batches handed to it. Its event loop is the one that blocks during a run, not the
 * server's.
 */

export interface WorkerModel extends SessionSpec {
  key: string;
  bytes: Uint8Array;
}

export interface WorkerData {
  models: WorkerModel[];
  settings: SessionSettings;
}

export interface RunTask {
  key: string;
  data: InputArray;
  rows: number;
}

const { models, settings } = workerData as WorkerData;

const sessions: Promise<Map<string, { session: InferenceSession; spec: SessionSpec }>> = (async () => {
  const opened = new Map<string, { session: InferenceSession; spec: SessionSpec }>();
  for (const model of models) {
    const { session } = await openSession(model.bytes, settings);
    // The first run allocates and plans; doing it here keeps it off the first request.
    const zeros = toInputArray(
      model.inputType,
      [new Array<number>(model.featureCount).fill(0)],
      model.featureCount,
    );
    await runSession(session, model, zeros, 1);
    opened.set(model.key, { session, spec: model });
  }
  return opened;
})();

export default async function run(task: RunTask): Promise<OutputTensors> {
  const entry = (await sessions).get(task.key);
  if (!entry) throw new Error(`model ${task.key} is not loaded in this worker`);
  return runSession(entry.session, entry.spec, task.data, task.rows);
}
