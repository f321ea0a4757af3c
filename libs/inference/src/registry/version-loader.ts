import { Injectable, Logger } from '@nestjs/common';
import { ModelCatalog, type ModelSource } from '../catalog';
import { InferenceRunner } from '../inference-runner';
import { ModelRefusedError, ParityGate } from '../validation/parity-gate';
import { ModelLoadError, type ServedModel } from './served-model';

/**
 * Opens one model version for serving, in the order that keeps a bad version away from traffic: the catalog reads
 * and adapts its graph, the parity gate runs its validation.json, and only then does the runner give it a session
 * and a queue. Each open is a new instance, so a version whose files changed never shares a queue with its old load.
 */
@Injectable()
export class VersionLoader {
  private readonly logger = new Logger(VersionLoader.name);
  private instances = 0;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly gate: ParityGate,
    private readonly runner: InferenceRunner,
  ) {}

  async open(source: ModelSource): Promise<ServedModel> {
    const fail = (error: unknown): never => {
      throw new ModelLoadError(source, error instanceof Error ? error.message : String(error));
    };
    const adapted = await this.catalog.describe(source).catch(fail);
    // Before the runner sees it: a refused version gets no session, queue or worker, and takes no traffic. At start
    // nothing else serves its name, so the refusal stops the start like a corrupt file (ModelRefusedError passes
    // through as it is: its message already names the model, the version and the worst row).
    const report = await this.gate
      .admit(source, adapted)
      .catch((error: unknown) => (error instanceof ModelRefusedError ? Promise.reject(error) : fail(error)));
    const instance = `${source.name}@${source.version}#${++this.instances}`;
    const runtime = await this.runner.open({ ...source, ...adapted, instance }).catch(fail);
    return {
      ...source,
      signature: adapted.signature,
      runtime,
      loadedAt: new Date(),
      instance,
      ...(report ? { validatedRows: report.rows } : {}),
    };
  }

  /** The line that says a version serves, with what the runner made of it. */
  logLoaded(model: ServedModel, loadMs: number): void {
    const { head, featureCount, fixedBatchSize } = model.signature;
    this.logger.log(
      {
        // `version` on every line is the service's own; the model's goes under another key.
        model: model.name,
        modelVersion: model.version,
        path: model.path,
        task: head.task,
        features: featureCount,
        ...(head.task === 'classification'
          ? { labels: head.labels, scores: head.scoreKind }
          : { targets: head.targets }),
        ...(fixedBatchSize ? { fixedBatchSize } : {}),
        ...(model.validatedRows !== undefined ? { validatedRows: model.validatedRows } : {}),
        ...model.runtime,
        loadMs,
      },
      `model ${model.name} v${model.version} loaded`,
    );
  }
}
