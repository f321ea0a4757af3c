import type { InferenceSession } from 'onnxruntime-node';
import { timeBatch } from './inference-runner';

/** A session whose runs take the given times, in order: what a model looks like while other processes start. */
function sessionTaking(runMs: number[]): InferenceSession {
  let run = 0;
  return {
    run: async () => {
      const ms = runMs[Math.min(run++, runMs.length - 1)];
      await new Promise((resolve) => setTimeout(resolve, ms));
      return {};
    },
  } as unknown as InferenceSession;
}

const spec = { inputName: 'x', inputType: 'float32', featureCount: 3 };

describe('timeBatch', () => {
  it('times a model by its fastest warm run, so interference at start-up cannot move it off the main thread', async () => {
    // The untimed first run, then three runs slowed by a neighbour and two at the model's own speed.
    const ms = await timeBatch(sessionTaking([0, 60, 60, 60, 0, 0]), spec, 4);
    expect(ms).toBeLessThan(30);
  });

  it('still sees a model that is slow on every run', async () => {
    expect(await timeBatch(sessionTaking([0, 40, 40, 40, 40, 40]), spec, 4)).toBeGreaterThanOrEqual(35);
  });
});
