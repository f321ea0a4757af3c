import { AppConfig } from '@app/config';
import { InferenceMetrics } from '@app/observability';
import { Injectable, Optional } from '@nestjs/common';
import { TooManyInstancesError } from './errors';
import { checkFloat32Values, type FeatureValues, toFeatureValues } from './feature-rows';
import { InferenceRunner } from './inference-runner';
import { ModelRegistry } from './registry/model-registry';
import type { ServedModel } from './registry/served-model';
import { Prediction } from './model-signature';
import { interpretOutputs } from './onnx';
import type { TensorRows } from './open-inference/inference-request';
import { PredictionSink, type VerbatimRows } from './prediction-sink';
import type { OutputTensors } from './runtime/tensors';

export interface PredictionResult {
  model: ServedModel;
  predictions: Prediction[];
  latencyMs: number;
}

/** A PredictionResult with the tensors it was read from: the Open Inference Protocol answers with tensors. */
export interface TensorPredictionResult extends PredictionResult {
  /** The model's output tensors for these rows, by name, as served (after graph adaptation). */
  outputs: OutputTensors;
}

/** A request checked against its model, ready to run. */
export interface PreparedPrediction {
  model: ServedModel;
  /** The rows' feature values, row-major in the model's feature order. */
  features: FeatureValues;
  rowCount: number;
  /** When checking began (`performance.now()`): `latencyMs` covers checking and predicting. */
  startedAt: number;
  /** The rows as the client wrote them, for the prediction log (see AnsweredBatch). */
  featuresJson?: VerbatimRows;
  /** The rows as the client sent them in binary, for the prediction log (see AnsweredBatch). */
  featuresFloat32?: Uint8Array;
}

/** Validates instances against a model, runs them and turns the outputs into predictions. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly runner: InferenceRunner,
    private readonly metrics: InferenceMetrics,
    private readonly config: AppConfig,
    @Optional() private readonly sink?: PredictionSink,
  ) {}

  /**
   * @param modelName the model to use; undefined for the default model
   * @param rowPaths how each instance is named in error messages (`features`, `instances[3]`)
   * @param requestId the request's id, kept with each logged prediction
   */
  predict(
    modelName: string | undefined,
    instances: readonly unknown[],
    rowPaths: readonly string[],
    requestId: string,
  ): Promise<TensorPredictionResult> {
    return this.run(this.prepare(modelName, instances, rowPaths), requestId);
  }

  /**
   * The synchronous half of `predict`: finds the model (at its default version) and checks the instances against
   * it, throwing the DomainError a client gets (404, 503 while loading, 413, 422) before anything is queued.
   */
  prepare(
    modelName: string | undefined,
    instances: readonly unknown[],
    rowPaths: readonly string[],
  ): PreparedPrediction {
    const startedAt = performance.now();
    const model = modelName === undefined ? this.registry.getDefault() : this.registry.get(modelName);
    return this.check(model, instances, rowPaths, startedAt);
  }

  /**
   * `prepare` for a version already looked up (a route that names one, or that read the model's signature first).
   * Run it in the same turn of the event loop as the lookup: a version swapped out meanwhile answers what it holds
   * and then closes.
   */
  prepareFor(model: ServedModel, input: TensorRows): PreparedPrediction {
    const startedAt = performance.now();
    if (input.float32 === undefined) return this.check(model, input.rows, input.paths, startedAt);
    const { values, paths, float32 } = input;
    const width = model.signature.featureCount;
    const rowCount = values.length / width;
    this.checkRowCount(rowCount);
    checkFloat32Values(values, width, paths);
    return { model, features: values, rowCount, startedAt, featuresFloat32: float32 };
  }

  private check(
    model: ServedModel,
    instances: readonly unknown[],
    rowPaths: readonly string[],
    startedAt: number,
  ): PreparedPrediction {
    this.checkRowCount(instances.length);
    const features = toFeatureValues(instances, model.signature, rowPaths);
    return { model, features, rowCount: instances.length, startedAt };
  }

  private checkRowCount(rows: number): void {
    const max = this.config.get('MAX_BATCH_SIZE');
    if (rows > max) throw new TooManyInstancesError(rows, max);
  }

  /** The asynchronous half: runs prepared rows (batched with other requests), counts and records the answers. */
  async run(
    { model, features, rowCount, startedAt, featuresJson, featuresFloat32 }: PreparedPrediction,
    requestId: string,
  ): Promise<TensorPredictionResult> {
    const outputs = await this.runner.run(model, features, rowCount);
    const predictions = interpretOutputs(model.signature, outputs, rowCount);
    this.countPredictions(model, predictions);
    this.sink?.record({
      model: model.name,
      version: model.version,
      requestId,
      at: new Date(),
      features,
      featureCount: model.signature.featureCount,
      featuresJson,
      featuresFloat32,
      predictions,
    });
    return { model, predictions, outputs, latencyMs: performance.now() - startedAt };
  }

  private countPredictions(model: ServedModel, predictions: Prediction[]): void {
    const perLabel = new Map<string, number>();
    for (const prediction of predictions) {
      const label = prediction.task === 'classification' ? String(prediction.label) : '';
      perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
    }
    for (const [label, count] of perLabel)
      this.metrics.countPredictions(model.name, model.version, label, count);
  }
}
