import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { linearClassifier, seededRandom, writeModel } from '../test/support/onnx-model-builder';
import { positiveInteger } from './support';

/*
 * `npm run bench:profile`: the `profile` command of the built CLI on a synthetic training file of 10 M rows × 20
 * features, as a child process whose peak resident memory (VmHWM in /proc/<pid>/status) is read every 100 ms.
 * Prints rows, seconds and peak RSS; exits 1 if the profile fails or the peak is above 300 MB. The file (about
 * 1.5 GB) and the model live in a temporary folder that is deleted at the end.
 *
 * The repository's models take 10 features, so the bench writes its own: a 20-feature logistic regression laid
 * out as skl2onnx exports it (test/support/onnx-model-builder, as `npm run bench` builds its heavy model), so the
 * run covers what a real one does, the model's answers and the score's deciles included.
 */

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist/apps/ml-cli/src/main.js');
const ROWS = positiveInteger('BENCH_PROFILE_ROWS', 10_000_000);
const LIMIT_MB = positiveInteger('BENCH_PROFILE_LIMIT_MB', 300);
const FEATURES = Array.from({ length: 20 }, (_, i) => `f${i}`);

/**
 * One way of drawing each feature: the shapes that the deciles must get right at scale (skewed, heavy-tailed,
 * constant, few values, ties, a tiny spread) beside plain ones. Scaled so that most values are of order 1, as
 * standardised training data is: the model's score then spreads over (0, 1) instead of sitting at 0 or 1.
 */
function featureDraws(random: () => number): Array<() => number> {
  const positive = () => random() || 0.5 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(positive())) * Math.cos(2 * Math.PI * random());
  return [
    () => normal(),
    () => 0.3 + 0.5 * normal(),
    () => Math.exp(normal()) / 3, // lognormal
    () => Math.exp(2 * normal()) / 10,
    () => Math.tan(Math.PI * (random() - 0.5)) / 10, // Cauchy
    () => (1 / positive() ** (1 / 1.2) - 1) / 10, // Pareto
    () => random(),
    () => -Math.log(positive()), // exponential
    () => Math.floor(random() * 5) / 4, // 5 values: categorical
    () => Math.floor(40 * random() ** 3) / 40, // 40 values, unequal weights
    () => 0.42, // constant
    () => (random() < 0.6 ? 0 : Math.exp(normal()) / 3), // mostly zeros
    () => Math.round(normal() * 100) / 100, // ties
    () => 1 + random() * 1e-3, // a tiny spread
    () => normal() * 1e-6,
    () => normal() / 10,
    () => (normal() + normal()) / 2,
    () => ((random() < 0.5 ? -1 : 1) * Math.exp(normal())) / 3,
    () => random() * random(),
    () => normal() ** 3 / 10,
  ];
}

async function writeTrainingCsv(path: string, rows: number): Promise<number> {
  const random = seededRandom(20);
  const draws = featureDraws(random);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let chunk = `${[...FEATURES, 'label'].join(',')}\n`;
  for (let row = 0; row < rows; row++) {
    for (const draw of draws) chunk += `${draw().toPrecision(7)},`;
    chunk += random() < 0.5 ? '0\n' : '1\n';
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return statSync(path).size;
}

function readPeakKb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  } catch {
    return undefined; // exited between two looks
  }
}

/** Runs the CLI's `profile`, reading the child's peak RSS (VmHWM, a high-water mark) until it exits. */
async function profileRun(work: string, data: string) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, 'profile', '--model', 'wide_logreg', '--data', data, '--out', join(work, 'reference.json')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        MODEL_REPOSITORY: join(work, 'models'),
        LOG_LEVEL: 'warn',
        TMPDIR: work,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let peakKb = 0;
  const timer = setInterval(() => {
    const kb = child.pid === undefined ? undefined : readPeakKb(child.pid);
    if (kb !== undefined && kb > peakKb) peakKb = kb;
  }, 100);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  return { code, stdout, seconds: (performance.now() - started) / 1000, peakMb: peakKb / 1024 };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ml-inference-profile-bench-'));
  try {
    await writeModel(
      join(work, 'models'),
      linearClassifier({
        name: 'wide_logreg',
        labels: [0, 1],
        featureCount: FEATURES.length,
        zipmap: false,
        manifest: { features: FEATURES },
      }),
    );
    const data = join(work, 'train.csv');
    console.log(
      `bench:profile: writing ${ROWS.toLocaleString('en')} rows × ${FEATURES.length} features to ${data}`,
    );
    const writing = performance.now();
    const bytes = await writeTrainingCsv(data, ROWS);
    console.log(
      `bench:profile: ${(bytes / 1e9).toFixed(2)} GB in ${((performance.now() - writing) / 1000).toFixed(0)} s; profiling`,
    );

    const run = await profileRun(work, data);
    process.stdout.write(run.stdout);
    const passes = /(\d+) pass(es)? over the data/.exec(run.stdout)?.[1] ?? '?';
    console.log(
      `\nbench:profile: ${ROWS.toLocaleString('en')} rows × ${FEATURES.length} features, ${passes} passes, ` +
        `${run.seconds.toFixed(1)} s, peak RSS ${run.peakMb.toFixed(0)} MB (limit ${LIMIT_MB} MB)`,
    );
    if (run.code !== 0) throw new Error(`profile exited with ${run.code}`);
    if (run.peakMb > LIMIT_MB)
      throw new Error(`peak RSS ${run.peakMb.toFixed(0)} MB is above ${LIMIT_MB} MB`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:profile: ${(error as Error).message}`);
    process.exit(1);
  },
);
