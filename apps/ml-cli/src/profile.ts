import { ModelRegistry, Prediction, PredictionService } from '@app/inference';
import {
  binCount,
  ObservedOutput,
  readTrainingData,
  ReferenceProfile,
  ReferenceProfileBuilder,
  referencePathOf,
  TrainingRow,
} from '@app/monitoring';
import { AppConfig } from '@app/config';
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCliContext, ProgressBar, UsageError } from './cli-support';

export const PROFILE_USAGE = `profile --model <name> --data <train.csv|train.jsonl> [--label-column label] [--out <path>]
    Builds the model's reference profile from its training data (CSV with a header, or JSON lines) and writes it
    beside model.onnx as reference.json (or to --out). The model is run over every row for the output profile.`;

function outputOf(prediction: Prediction): ObservedOutput {
  return prediction.task === 'classification'
    ? { prediction: prediction.label, probability: prediction.probability }
    : { prediction: prediction.value };
}

/** `profile`: exit 0 when the profile is written, 2 on any error. */
export async function profileCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      'label-column': { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (!values.model || !values.data)
    throw new UsageError(`--model and --data are required\n\n${PROFILE_USAGE}`);
  const data = resolve(values.data);

  const app = await createCliContext();
  try {
    const registry = app.get(ModelRegistry);
    await registry.loadAll();
    const model = registry.get(values.model);
    const predictions = app.get(PredictionService);
    const batchSize = app.get(AppConfig).get('MAX_BATCH_SIZE');
    const builder = ReferenceProfileBuilder.forModel(model);

    const progress = new ProgressBar(`profiling ${basename(data)}`);
    let rows = 0;
    let batch: TrainingRow[] = [];
    const run = async () => {
      if (batch.length === 0) return;
      const rowsIn = batch;
      batch = [];
      const result = await predictions.predict(
        model.name,
        rowsIn.map((row) => row.values),
        rowsIn.map((row) => `${basename(data)} line ${row.line}`),
        'reference-profile',
      );
      result.predictions.forEach((p, i) => builder.addRow(rowsIn[i].values as number[], outputOf(p)));
    };
    for await (const row of readTrainingData(data, {
      features: model.signature.features,
      featureCount: model.signature.featureCount,
      labelColumn: values['label-column'],
      onProgress: (read, total) => progress.update(read, total, rows),
    })) {
      rows++;
      if (row.values.some((value) => value === null)) builder.addIncompleteRow(row.values);
      else batch.push(row);
      if (batch.length >= batchSize) await run();
    }
    await run();
    progress.done();
    if (rows === 0) throw new UsageError(`${data} holds no rows`);

    const profile = builder.build({ file: basename(data), labelColumn: values['label-column'] ?? 'label' });
    const out = resolve(values.out ?? referencePathOf(model.path));
    const temporary = `${out}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, profileJson(profile));
    await rename(temporary, out);
    process.stdout.write(describeProfile(profile, out));
    return 0;
  } finally {
    await app.close();
  }
}

/** Indented JSON with each list of numbers on one line, so a person can read the file and a diff of it. */
function profileJson(profile: ReferenceProfile): string {
  return `${JSON.stringify(profile, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`)}\n`;
}

function describeProfile(profile: ReferenceProfile, path: string): string {
  const numeric = profile.features.filter((f) => f.kind === 'numeric').length;
  const f = (value: number | null) => (value === null ? '—' : value.toFixed(3));
  const lines = [
    `wrote ${path}`,
    `${profile.model} v${profile.version}: ${profile.source.rows} rows (${profile.source.skipped_rows} with missing values left out of the output profile), ` +
      `${profile.features.length} features (${numeric} numeric, ${profile.features.length - numeric} categorical)`,
    '',
    `${'feature'.padEnd(16)} ${'kind'.padEnd(12)} bins ${'mean'.padStart(9)} ${'std'.padStart(9)} ${'min'.padStart(9)} ${'max'.padStart(9)} nulls`,
    ...profile.features.map(
      (d) =>
        `${d.name.padEnd(16)} ${d.kind.padEnd(12)} ${String(binCount(d)).padStart(4)} ${f(d.mean).padStart(9)} ${f(d.std).padStart(9)} ${f(d.min).padStart(9)} ${f(d.max).padStart(9)} ${d.nulls}`,
    ),
  ];
  const { labels, score } = profile.prediction;
  if (labels?.kind === 'categorical') {
    lines.push(
      '',
      `predicted labels: ${labels.categories.map((c, i) => `${c} ${(labels.shares[i] * 100).toFixed(1)}%`).join(', ')}`,
    );
  }
  lines.push(`${score.name}: mean ${f(score.mean)}, ${binCount(score)} bins`);
  return `${lines.join('\n')}\n`;
}
