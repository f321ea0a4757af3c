import {
  jsonNumber,
  jsonNumbers,
  jsonScalar,
  ModelRegistry,
  ModelStatus,
  PredictionResult,
  PredictionService,
  rowPaths,
} from '@app/inference';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequestId } from '../request-id.decorator';
import { ProblemResponses, RequiresApiKey } from '../openapi';
import { KServePredictRequest, KServePredictResponse, ModelDescription, ModelList } from './kserve.dto';

/** KServe V1 protocol: model metadata and batch prediction on a named model. */
@ApiTags('models (KServe V1)')
@RequiresApiKey()
@Controller('v1/models')
export class ModelsController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly predictions: PredictionService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the served models' })
  @ApiOkResponse({ type: ModelList })
  @ProblemResponses(401)
  list(): ModelList {
    const byName = new Map<string, ModelStatus[]>();
    for (const status of this.registry.list())
      byName.set(status.name, [...(byName.get(status.name) ?? []), status]);
    return { models: [...byName.values()].map(describeModel) };
  }

  @Get(':name')
  @ApiOperation({
    summary:
      'Describe one model at its default version: inputs, outputs, task, features and labels; every version served',
  })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse({ type: ModelDescription })
  @ProblemResponses(401, 404)
  describe(@Param('name') name: string): ModelDescription {
    return describeModel(this.registry.versions(name));
  }

  // `:` inside a path segment is escaped for Express 5's path-to-regexp.
  @Post(':name\\:predict')
  @HttpCode(200)
  @ApiOperation({ summary: 'Predict a batch of rows with a named model' })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse({ type: KServePredictResponse })
  @ProblemResponses(400, 401, 404, 413, 422, 503)
  async predict(
    @Param('name') name: string,
    @Body() body: KServePredictRequest,
    @RequestId() requestId: string,
  ): Promise<KServePredictResponse> {
    return kservePredictResponse(
      await this.predictions.predict(name, body.instances, instancePaths(body.instances), requestId),
    );
  }
}

/** How each instance is named in error messages. */
export function instancePaths(instances: readonly unknown[]): string[] {
  return rowPaths('instances', instances.length);
}

/** The KServe V1 answer; the fast lane answers with it too. */
export function kservePredictResponse({ model, predictions }: PredictionResult): KServePredictResponse {
  return {
    predictions: predictions.map((p) =>
      p.task === 'classification'
        ? { label: p.label, probability: p.probability, probabilities: p.probabilities }
        : { value: p.value },
    ),
    model_name: model.name,
    model_version: model.version,
  };
}

/** Labels JSON writes between quotes as they are. */
const PLAIN_KEY = /^[\w.-]*$/;

/**
 * `kservePredictResponse` as JSON: the text `JSON.stringify` gives it (the spec holds it to that), written directly
 * because at 32 rows a request the generic path over the label-keyed probability objects costs about half as much
 * as the inference. The fast lane answers with it.
 */
export function kservePredictResponseJson({ model, predictions }: PredictionResult): string {
  // Every row's probabilities have the model's labels as keys, in the same order: quoted once per request.
  const first = predictions[0];
  const labels = first?.task === 'classification' ? Object.keys(first.probabilities) : [];
  const quoted = labels.map((label) => (PLAIN_KEY.test(label) ? `"${label}":` : `${JSON.stringify(label)}:`));
  // One string per row, joined once: appending row after row made a chain of partial strings to flatten.
  const rows = new Array<string>(predictions.length);
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    if (p.task === 'regression') {
      rows[i] = `{"value":${typeof p.value === 'number' ? jsonNumber(p.value) : jsonNumbers(p.value)}}`;
      continue;
    }
    let probabilities = '';
    for (let j = 0; j < labels.length; j++) {
      probabilities += `${j === 0 ? '' : ','}${quoted[j]}${jsonNumber(p.probabilities[labels[j]])}`;
    }
    rows[i] =
      `{"label":${jsonScalar(p.label)},"probability":${jsonNumber(p.probability)},"probabilities":{${probabilities}}}`;
  }
  return `{"predictions":[${rows.join(',')}],"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)}}`;
}

/**
 * A model as its default version describes it (what the unversioned routes serve), with every version it serves
 * and which of them is the default.
 */
function describeModel(statuses: readonly ModelStatus[]): ModelDescription {
  const head = statuses.find((s) => s.default) ?? statuses[statuses.length - 1];
  const { name, version, ready, model } = head;
  const versions = statuses.map((s) => ({ version: s.version, ready: s.ready, default: s.default }));
  if (!model) return { name, version, ready, default_version: version, versions };
  const { signature } = model;
  const task = signature.head;
  return {
    name,
    version,
    ready,
    default_version: version,
    versions,
    task: task.task,
    features: signature.features,
    ...(task.task === 'classification' ? { labels: task.labels, scores: task.scoreKind } : {}),
    fixed_batch_size: signature.fixedBatchSize,
    placement: model.runtime.placement,
    execution_providers: model.runtime.providers,
    inputs: [{ name: signature.input.name, datatype: signature.input.type, shape: signature.input.shape }],
    outputs: signature.outputs.map((o) => ({ name: o.name, datatype: o.type, shape: o.shape })),
  };
}
