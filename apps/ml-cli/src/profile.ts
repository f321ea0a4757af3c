import {
  ModelCatalog,
  openScoringSession,
  Prediction,
  type ScoringSession,
  toFeatureRows,
} from '@app/inference';
import {
  binCount,
  ObservedOutput,
  readTrainingData,
  ReferenceProfile,
  ReferenceProfileBuilder,
  TrainingRow,
  BOUNDED_SEARCH,
  ValueSpool,
} from '@app/monitoring';
import { AppConfig } from '@app/config';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCliContext, ProgressBar, UsageError } from './cli-support';

export const PROFILE_USAGE = `profile --model <name> [--version <v>] --data <train.csv|train.jsonl> [--label-column label] [--out <path>]
    Builds the reference profile of a version of the model (default: the one its unversioned routes serve) from its
    training data (CSV with a header, or JSON lines) and writes it beside that version's model.onnx as
    reference.json (or to --out). That version alone is opened, on one session, and run over every row for the
    output profile.
    Memory stays the same whatever the file's size: a file of more than 32 768 rows is read again (usually once)
    to pin the deciles down exactly, and the model's scores wait in a temporary file (8 bytes a row) meanwhile.`;

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
      version: { type: 'string' },
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
  // The scores of the first pass, for the passes after it: reading them back is much cheaper than running the
  // model over every row again.
  let spoolDir: string | undefined;
  let spool: ValueSpool | undefined;
  let session: ScoringSession | undefined;
  try {
    spoolDir = await mkdtemp(join(tmpdir(), 'ml-profile-'));
    const scores = await ValueSpool.create(join(spoolDir, 'scores.f64'));
    spool = scores;
    const catalog = app.get(ModelCatalog);
    const { source } = await catalog.find(values.model, values.version);
    const config = app.get(AppConfig);
    const threads = config.get('INFERENCE_THREADS');
    // The server's main-thread session options, so the scores are those the server computes.
    const scoring = await openScoringSession(await catalog.describe(source), {
      threads: threads > 0 ? threads : 1,
      providers: config.get('ORT_EXECUTION_PROVIDERS'),
    });
    session = scoring;
    const model = { name: source.name, version: source.version, signature: scoring.signature };
    const batchSize = config.get('MAX_BATCH_SIZE');
    // Bounded memory: the deciles come from order statistics found in passes, not from every value held.
    const builder = ReferenceProfileBuilder.forModel(model, BOUNDED_SEARCH);
    const reading = {
      features: model.signature.features,
      featureCount: model.signature.featureCount,
      labelColumn: values['label-column'],
    };

    const progress = new ProgressBar(`profiling ${basename(data)}`);
    let rows = 0;
    let batch: TrainingRow[] = [];
    const run = async () => {
      if (batch.length === 0) return;
      const rowsIn = batch;
      batch = [];
      const predictions = await scoring.predict(
        toFeatureRows(
          rowsIn.map((row) => row.values),
          scoring.signature,
          rowsIn.map((row) => `${basename(data)} line ${row.line}`),
        ),
      );
      for (let i = 0; i < rowsIn.length; i++) {
        const output = outputOf(predictions[i]);
        builder.addRow(rowsIn[i].values as number[], output);
        const score = builder.scoreOf(output);
        if (score !== undefined) await scores.add(score);
      }
    };
    for await (const row of readTrainingData(data, {
      ...reading,
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

    // Further passes only for columns too large for their first pass to pin the deciles down: the features are
    // read again (not the model), the scores come back from the spool.
    let passes = 1;
    for (let pass = builder.nextPass(); pass; pass = builder.nextPass()) {
      passes = pass.number;
      const again = new ProgressBar(`profiling ${basename(data)}, pass ${pass.number}`);
      let read = 0;
      for await (const row of readTrainingData(data, {
        ...reading,
        onProgress: (done, total) => again.update(done, total, read),
      })) {
        read++;
        pass.addFeatures(row.values);
      }
      again.done();
      if (pass.needsScores) {
        for await (const chunk of scores.chunks()) for (const score of chunk) pass.addScore(score);
      }
    }

    const profile = builder.build({ file: basename(data), labelColumn: values['label-column'] ?? 'label' });
    const out = resolve(values.out ?? source.reference);
    const temporary = `${out}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, profileJson(profile));
    await rename(temporary, out);
    process.stdout.write(describeProfile(profile, out, passes));
    return 0;
  } finally {
    await session?.release();
    await spool?.remove();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
    await app.close();
  }
}

/** Indented JSON with each list of numbers on one line, so a person can read the file and a diff of it. */
function profileJson(profile: ReferenceProfile): string {
  return `${JSON.stringify(profile, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`)}\n`;
}

function describeProfile(profile: ReferenceProfile, path: string, passes: number): string {
  const numeric = profile.features.filter((f) => f.kind === 'numeric').length;
  const f = (value: number | null) => (value === null ? '—' : value.toFixed(3));
  const lines = [
    `wrote ${path}`,
    `${profile.model} v${profile.version}: ${profile.source.rows} rows (${profile.source.skipped_rows} with missing values left out of the output profile), ` +
      `${profile.features.length} features (${numeric} numeric, ${profile.features.length - numeric} categorical); ` +
      `${passes === 1 ? '1 pass' : `${passes} passes`} over the data`,
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
