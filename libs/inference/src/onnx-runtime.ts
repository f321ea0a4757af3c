import { Injectable } from '@nestjs/common';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/** The output tensors of one run, by output name. */
export type OutputTensors = Record<
  string,
  { data: ArrayLike<number | bigint | string>; dims: readonly number[] }
>;

/** The one seam to onnxruntime-node, so specs can count or replace runs and a worker pool can take over later. */
@Injectable()
export class OnnxRuntime {
  createSession(bytes: Uint8Array): Promise<InferenceSession> {
    return InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  }

  async run(session: InferenceSession, feeds: Record<string, Tensor>): Promise<OutputTensors> {
    const results = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(results).map(([name, value]) => [
        name,
        { data: value.data as ArrayLike<number>, dims: value.dims },
      ]),
    );
  }
}
