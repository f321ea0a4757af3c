/**
 * The prediction log end to end on real files (DiskLogStore): what it writes, how its summaries and the readers
 * agree, and how it rides out a disk that goes away. Longer than ~300 lines on purpose: every scenario shares the
 * set-up below and reads the files back as an operator would, and they prove the real store. The log's logic
 * piece by piece, on a MemoryLogStore, is in prediction-log.in-memory.spec.ts, day-counts.spec.ts and
 * log-store.spec.ts.
 */
import { AppConfig, validateEnvironment } from '@app/config';
import { AnsweredBatch } from '@app/inference';
import { ConfigService } from '@nestjs/config';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleRows, seedTrainingRows, shiftFeatures } from '../../../test/support/monitoring-data';
import { BinCounter, countsKey, readCountSummary } from './count-summary';
import { buildDriftReport, DriftInputs } from './drift-report';
import type { ReferenceLookup } from './day-counts';
import { countsFileName, dayOf, logFileName } from './log-files';
import { parseRecords } from './log-record';
import { DiskLogStore } from './log-store';
import { FLUSH_AT_ROWS, MAX_PENDING_ROWS, PredictionLog, PredictionLogMetrics } from './prediction-log';
import { SEGMENT_ROWS } from './recorded-rows';
import { countLogDays } from './prediction-log-reader';
import { parseReferenceProfile } from './reference-profile';
import { LoadedReference } from './reference-profile-store';
import { answeredFeatures } from '../../../test/support/feature-values';

const REFERENCE_PATH = resolve(__dirname, '../../../models/seed_gbc/1/reference.json');
const profile = parseReferenceProfile(readFileSync(REFERENCE_PATH, 'utf8'), REFERENCE_PATH);
const reference: LoadedReference = { path: REFERENCE_PATH, profile, counter: new BinCounter(profile) };
const TODAY = dayOf(new Date());

/** The app's own configuration, validated as at boot, from these variables. */
function config(env: Record<string, unknown>): AppConfig {
  const values: Record<string, unknown> = {
    PREDICTION_LOG_ENABLED: true,
    PREDICTION_LOG_FLUSH_MS: 60000,
    PREDICTION_LOG_RETENTION_DAYS: 30,
    ...env,
  };
  const variables = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)]));
  return new AppConfig(new ConfigService(validateEnvironment(variables)));
}

function fakeMetrics() {
  const seen = { written: 0, errors: 0, dropped: 0, deletedBytes: 0, diskBytes: -1 };
  const metrics: PredictionLogMetrics = {
    recordsWritten: (n) => void (seen.written += n),
    writeFailed: () => void seen.errors++,
    recordsDropped: (n) => void (seen.dropped += n),
    logDeleted: (bytes) => void (seen.deletedBytes += bytes),
    logFolderMeasured: (bytes) => void (seen.diskBytes = bytes),
  };
  return { metrics, seen };
}

/** A reference that can appear (or change) while the log runs. */
function profiles(current: { value?: LoadedReference }): ReferenceLookup {
  return { forModel: () => Promise.resolve(current.value) };
}

function batch(rows: number[][], at = new Date(), requestId = 'req-1'): AnsweredBatch {
  return {
    model: 'seed_gbc',
    version: '1',
    requestId,
    at,
    ...answeredFeatures(rows),
    predictions: rows.map((row) => ({
      task: 'classification' as const,
      label: row[0] > 0 ? 1 : 0,
      probability: 0.5 + Math.min(0.49, Math.abs(row[1]) / 10),
      probabilities: {},
    })),
  };
}

function startLog(
  dir: string,
  host: string,
  ref: { value?: LoadedReference } = { value: reference },
  env = {},
) {
  const { metrics, seen } = fakeMetrics();
  const log = new PredictionLog(
    config({ PREDICTION_LOG_DIR: dir, ...env }),
    metrics,
    profiles(ref),
    new DiskLogStore(dir),
    host,
  );
  return { log, seen };
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
/** The logged rows of a file, each with its request's fields. */
const rows = (path: string) => lines(path).flatMap(parseRecords);
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

const inputs: DriftInputs = {
  model: 'seed_gbc',
  version: '1',
  window: { from: TODAY, to: TODAY, days: [TODAY] },
  reference: { kind: 'reference.json' },
  thresholds: { warn: 0.1, alert: 0.2, min_samples: 10 },
  sources: { summaries: 0, tails: 0, raw_files: 0 },
  generatedAt: new Date(),
  sampleRate: 1,
  durationMs: 0,
};

describe('PredictionLog', () => {
  const training = seedTrainingRows();
  // Traffic with a shifted f3, so the PSIs compared below are not all near zero.
  const traffic = shiftFeatures(sampleRows(training, 400, 7), [3], 1, training);

  it('records in memory only, then writes one JSON line per request with its rows as columns', async () => {
    const dir = join(tmp('plog-'), 'predictions');
    const { log, seen } = startLog(dir, 'replica-a');
    log.record(batch(traffic.slice(0, 3), new Date('2026-11-24T10:00:00Z'), 'abc'));
    log.record(batch(traffic.slice(3, 4), new Date('2026-11-24T10:00:01Z'), 'def'));
    expect(existsSync(dir)).toBe(false);
    await log.flush();
    const written = lines(join(dir, logFileName('2026-11-24', 'replica-a'))).map(
      (l) => JSON.parse(l) as unknown,
    );
    expect(written).toHaveLength(2);
    expect(written[0]).toEqual({
      ts: '2026-11-24T10:00:00.000Z',
      model: 'seed_gbc',
      version: '1',
      request_id: 'abc',
      features: traffic.slice(0, 3),
      predictions: traffic.slice(0, 3).map((features) => (features[0] > 0 ? 1 : 0)),
      probabilities: [expect.any(Number), expect.any(Number), expect.any(Number)],
    });
    expect(written[1]).toMatchObject({ request_id: 'def', features: [traffic[3]] });
    expect(seen.written).toBe(4);
  });

  it('cuts a torn last line back to the last newline when it opens a file again', async () => {
    const dir = tmp('plog-');
    const path = join(dir, logFileName(TODAY, 'replica-a'));
    const first = startLog(dir, 'replica-a').log;
    first.record(batch(traffic.slice(0, 2)));
    await first.flush();
    // kill -9 in the middle of an append:
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"ts":"2026-11-24T10:00:0`);
    expect(parseRecords(lines(path)[1])).toEqual([]);

    const second = startLog(dir, 'replica-a').log;
    second.record(batch(traffic.slice(2, 4)));
    await second.flush();
    expect(lines(path)).toHaveLength(2);
    expect(rows(path)).toHaveLength(4);
    const summary = await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a')));
    expect(summary?.models[0].n).toBe(4);
  });

  it('merges two replicas exactly: the same counts and PSI as one replica that saw every row', async () => {
    const shared = tmp('plog-shared-');
    const single = tmp('plog-single-');
    const a = startLog(shared, 'replica-a').log;
    const b = startLog(shared, 'replica-b').log;
    const one = startLog(single, 'replica-c').log;
    traffic.forEach((row, i) => {
      (i % 3 === 0 ? a : b).record(batch([row]));
      one.record(batch([row]));
    });
    await Promise.all([a.flush(), b.flush(), one.flush()]);

    const merged = await countLogDays(shared, 'seed_gbc', '1', reference.counter, [TODAY]);
    const alone = await countLogDays(single, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(merged.sources).toEqual({ summaries: 2, tails: 0, raw_files: 0 });
    expect(merged.counts).toEqual(alone.counts);
    expect(merged.counts.n).toBe(traffic.length);
    const psis = (counts: typeof merged.counts) =>
      buildDriftReport(profile, counts, inputs).features.map((f) => [f.name, f.psi]);
    expect(psis(merged.counts)).toEqual(psis(alone.counts));
    expect(buildDriftReport(profile, merged.counts, inputs).drifted_features).toEqual(['f3']);

    // Without the summaries the raw lines give the very same counts.
    for (const name of readdirSync(shared).filter((n) => n.endsWith('.counts.json')))
      rmSync(join(shared, name));
    const raw = await countLogDays(shared, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(raw.sources).toEqual({ summaries: 0, tails: 0, raw_files: 2 });
    expect(raw.counts).toEqual(merged.counts);
  });

  describe('sampled (PREDICTION_LOG_SAMPLE_RATE 0.1)', () => {
    /** 1,000 requests of 1 to 4 rows, the first 50 before any flush (the bins are not known yet). */
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const start = (i * 7) % (traffic.length - 4);
      return { id: `req-${i}`, rows: traffic.slice(start, start + 1 + (i % 4)) };
    });
    const rowCount = requests.reduce((n, r) => n + r.rows.length, 0);

    async function serve(rate: number) {
      const dir = tmp(`plog-rate-${rate}-`);
      const { log, seen } = startLog(
        dir,
        'replica-a',
        { value: reference },
        { PREDICTION_LOG_SAMPLE_RATE: rate },
      );
      for (const [i, r] of requests.entries()) {
        log.record(batch(r.rows, new Date(), r.id));
        if (i === 49 || i % 200 === 199) await log.flush();
      }
      await log.flush();
      return { dir, seen };
    }

    it('logs about a tenth of the requests, each whole, and counts every row exactly as a full log does', async () => {
      const [full, sampled] = [await serve(1), await serve(0.1)];
      const logPath = (dir: string) => join(dir, logFileName(TODAY, 'replica-a'));
      const lines = (dir: string) => readFileSync(logPath(dir), 'utf8').split('\n').filter(Boolean);
      expect(lines(full.dir)).toHaveLength(requests.length);
      // Binomial(1000, 0.1): mean 100, standard deviation 9.5; these bounds are more than 4 of them away.
      const logged = lines(sampled.dir).map(
        (line) => JSON.parse(line) as { request_id: string; features: unknown[] },
      );
      expect(logged.length).toBeGreaterThan(60);
      expect(logged.length).toBeLessThan(140);
      const sent = new Map(requests.map((r) => [r.id, r.rows.length]));
      for (const line of logged) expect(line.features).toHaveLength(sent.get(line.request_id)!);
      const loggedRows = logged.reduce((n, line) => n + line.features.length, 0);
      expect(sampled.seen.written).toBe(loggedRows);

      // Every row counted, on both sides; only `logged` tells them apart.
      const summary = async (dir: string) =>
        (await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a'))))!.models[0];
      const [fullCounts, sampledCounts] = [await summary(full.dir), await summary(sampled.dir)];
      expect(fullCounts).toMatchObject({ n: rowCount, logged: rowCount });
      expect(sampledCounts).toEqual({ ...fullCounts, logged: loggedRows });

      const read = async (dir: string) => countLogDays(dir, 'seed_gbc', '1', reference.counter, [TODAY]);
      const [fullWindow, sampledWindow] = [await read(full.dir), await read(sampled.dir)];
      const report = (counts: typeof fullWindow.counts, sampleRate: number) =>
        buildDriftReport(profile, counts, { ...inputs, sampleRate });
      const psis = (r: ReturnType<typeof report>) => r.features.map((f) => [f.name, f.psi]);
      expect(psis(report(sampledWindow.counts, 0.1))).toEqual(psis(report(fullWindow.counts, 1)));
      expect(report(sampledWindow.counts, 0.1).n_cur).toBe(rowCount);
      expect(report(sampledWindow.counts, 0.1).logging).toEqual({
        sample_rate: 0.1,
        rows_counted: rowCount,
        rows_logged: loggedRows,
        from_sample: false,
      });
    });

    it('says the counts come from a sample when only the sampled lines can give them', async () => {
      const { dir } = await serve(0.1);
      // A reader on other bins cannot use the summary: it counts the lines, which hold a sample.
      const first = {
        ...profile.features[0],
        kind: 'numeric' as const,
        edges: [0],
        counts: [1, 1],
        shares: [0.5, 0.5],
      };
      const otherBins = new BinCounter({ ...profile, features: [first, ...profile.features.slice(1)] });
      const raw = await countLogDays(dir, 'seed_gbc', '1', otherBins, [TODAY]);
      expect(raw.sources).toEqual({ summaries: 0, tails: 0, raw_files: 1 });
      expect(raw.counts.n).toBeLessThan(rowCount);
      expect(raw.counts.from_sample).toBe(true);
      const report = buildDriftReport(otherBins.profile, raw.counts, { ...inputs, sampleRate: 0.1 });
      expect(report.logging.from_sample).toBe(true);
      expect(report.summary).toMatch(/from a sample of the prediction log/);

      // The writer, after the reference changes, counts the day again from its lines: a sample too.
      const changed: { value?: LoadedReference } = {
        value: { ...reference, profile: otherBins.profile, counter: otherBins },
      };
      const log = startLog(dir, 'replica-a', changed, { PREDICTION_LOG_SAMPLE_RATE: 0.1 }).log;
      log.record(batch(traffic.slice(0, 2)));
      await log.flush();
      const summary = (await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a'))))!.models[0];
      expect(summary.bins).toBe(changed.value!.counter.hash);
      expect(summary.from_sample).toBe(true);
    });

    it('keeps copies of rows recorded before the first flush, not the request’s own objects', async () => {
      // Holding a request's objects until the flush made V8 allocate later requests' objects in the old generation.
      const dir = tmp('plog-copies-');
      const { log } = startLog(dir, 'replica-a', { value: reference }, { PREDICTION_LOG_SAMPLE_RATE: 0 });
      const rows = traffic.slice(0, 5).map((row) => [...row]);
      const answered = batch(rows);
      log.record(answered);
      const expected = reference.counter.empty('seed_gbc', '1');
      rows.forEach((row, i) => {
        const p = answered.predictions[i];
        const label = p.task === 'classification' ? p.label : NaN;
        const probability = p.task === 'classification' ? p.probability : undefined;
        reference.counter.add(expected, row, { prediction: label, probability }, false);
      });
      // The request's values (and its predictions' objects) are reused or changed once answered: the counts must
      // not see it.
      answered.features.fill(1e9);
      for (const p of answered.predictions) if (p.task === 'classification') p.probability = 0;
      await log.flush();
      const counts = (await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a'))))!.models[0];
      expect(counts).toEqual(expected);
    });

    it('at rate 0 writes no line and still counts every row', async () => {
      const { dir, seen } = await serve(0);
      expect(readFileSync(join(dir, logFileName(TODAY, 'replica-a')), 'utf8')).toBe('');
      expect(seen.written).toBe(0);
      const counts = (await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a'))))!.models[0];
      expect(counts).toMatchObject({ n: rowCount, logged: 0 });
    });
  });

  it('stays correct when the reference appears after rows were logged, for readers and for the writer', async () => {
    const dir = tmp('plog-late-');
    const current: { value?: LoadedReference } = {};
    const log = startLog(dir, 'replica-a', current).log;
    log.record(batch(traffic.slice(0, 100)));
    await log.flush();
    const summaryPath = join(dir, countsFileName(TODAY, 'replica-a'));
    expect((await readCountSummary(summaryPath))?.models[0]).toMatchObject({ bins: null, n: 100 });

    // A reader with a profile cannot use a summary made without it: it reads the raw log.
    const early = await countLogDays(dir, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(early.sources).toEqual({ summaries: 0, tails: 0, raw_files: 1 });
    expect(early.counts.n).toBe(100);

    // The writer sees the new reference and recounts the day's rows on its bins.
    current.value = reference;
    log.record(batch(traffic.slice(100, 150)));
    await log.flush();
    expect((await readCountSummary(summaryPath))?.models[0]).toMatchObject({
      bins: reference.counter.hash,
      n: 150,
    });
    const late = await countLogDays(dir, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(late.sources).toEqual({ summaries: 1, tails: 0, raw_files: 0 });

    const control = tmp('plog-control-');
    const all = startLog(control, 'replica-a').log;
    all.record(batch(traffic.slice(0, 150)));
    await all.flush();
    expect(late.counts).toEqual(
      (await countLogDays(control, 'seed_gbc', '1', reference.counter, [TODAY])).counts,
    );
  });

  it('counts rows when they are recorded, on the bins the last flush found, as counting the lines would', async () => {
    const dir = tmp('plog-counted-');
    const current: { value?: LoadedReference } = { value: reference };
    const log = startLog(dir, 'replica-a', current).log;
    const summaryPath = join(dir, countsFileName(TODAY, 'replica-a'));
    const linesCountedOn = (counter: BinCounter) => {
      const counts = counter.empty('seed_gbc', '1');
      for (const record of rows(join(dir, logFileName(TODAY, 'replica-a'))))
        counter.add(counts, record.features, record);
      return counts;
    };
    log.record(batch(traffic.slice(0, 10)));
    await log.flush();
    // From here on the bins are known when a row is recorded: its counts are made there and then.
    for (let i = 10; i < 200; i += 10) log.record(batch(traffic.slice(i, i + 10)));
    expect(log['recorded']['current']?.counts.get(countsKey('seed_gbc', '1'))?.counts?.n).toBe(190);
    await log.flush();
    expect((await readCountSummary(summaryPath))?.models).toEqual([linesCountedOn(reference.counter)]);

    // A new reference between recording and writing: the rows counted on the old bins are counted again.
    const edges = profile.features[0].kind === 'numeric' ? profile.features[0].edges : [];
    const moved = parseReferenceProfile(
      JSON.stringify({
        ...profile,
        features: profile.features.map((feature, i) =>
          i === 0 ? { ...feature, edges: edges.map((edge) => edge + 0.25) } : feature,
        ),
      }),
      REFERENCE_PATH,
    );
    const other: LoadedReference = { path: REFERENCE_PATH, profile: moved, counter: new BinCounter(moved) };
    expect(other.counter.hash).not.toBe(reference.counter.hash);
    for (let i = 200; i < 300; i += 10) log.record(batch(traffic.slice(i, i + 10)));
    current.value = other;
    await log.flush();
    const summary = await readCountSummary(summaryPath);
    expect(summary?.models).toEqual([linesCountedOn(other.counter)]);
    expect(summary?.models[0].n).toBe(300);
  });

  it('counts lines written after the last summary (a crash between the two writes)', async () => {
    const dir = tmp('plog-tail-');
    const log = startLog(dir, 'replica-a').log;
    log.record(batch(traffic.slice(0, 20)));
    await log.flush();
    const path = join(dir, logFileName(TODAY, 'replica-a'));
    const extraDir = tmp('plog-x-');
    const extra = startLog(extraDir, 'replica-a').log;
    extra.record(batch(traffic.slice(20, 30)));
    await extra.flush();
    writeFileSync(
      path,
      readFileSync(path, 'utf8') + readFileSync(join(extraDir, logFileName(TODAY, 'replica-a')), 'utf8'),
    );

    const read = await countLogDays(dir, 'seed_gbc', '1', reference.counter, [TODAY]);
    expect(read.sources).toEqual({ summaries: 1, tails: 1, raw_files: 0 });
    expect(read.counts.n).toBe(30);
    // The next process catches its summary up before appending.
    const next = startLog(dir, 'replica-a').log;
    next.record(batch(traffic.slice(30, 31)));
    await next.flush();
    expect((await readCountSummary(join(dir, countsFileName(TODAY, 'replica-a'))))?.models[0].n).toBe(31);
  });

  it('keeps rows through a disk failure, bounded, and writes them once the disk is back', async () => {
    const base = tmp('plog-fail-');
    const blocker = join(base, 'not-a-dir');
    writeFileSync(blocker, 'a file where the log folder should be');
    const dir = join(blocker, 'predictions');
    const { log, seen } = startLog(dir, 'replica-a');
    log.record(batch(traffic.slice(0, 10)));
    await log.flush();
    await log.flush();
    expect(seen.errors).toBeGreaterThanOrEqual(1);
    expect(seen.written).toBe(0);

    rmSync(blocker);
    mkdirSync(blocker);
    log.record(batch(traffic.slice(10, 15)));
    await log.flush();
    expect(seen.written).toBe(15);
    expect(rows(join(dir, logFileName(TODAY, 'replica-a')))).toHaveLength(15);

    // Memory stays bounded while the disk is gone: the oldest rows go, a segment at a time, and are counted.
    rmSync(blocker, { recursive: true });
    writeFileSync(blocker, 'gone again');
    const chunk = traffic.slice(0, 100);
    for (let i = 0; i < MAX_PENDING_ROWS / 100 + 5; i++) log.record(batch(chunk, new Date(), `gone-${i}`));
    expect(seen.dropped).toBeGreaterThanOrEqual(500);
    expect(seen.dropped).toBeLessThanOrEqual(500 + SEGMENT_ROWS + chunk.length);
    const dropped = seen.dropped;
    rmSync(blocker);
    mkdirSync(blocker);
    await log.flush();
    expect(seen.dropped).toBe(dropped);
    // What is kept is the newest rows, in order, none twice (the folder, and its first 15 rows, went with the disk).
    const ids = rows(join(dir, logFileName(TODAY, 'replica-a'))).map((record) => record.request_id);
    expect(ids).toHaveLength(MAX_PENDING_ROWS + 500 - dropped);
    const kept = [...new Set(ids)];
    expect(kept).toEqual(
      Array.from({ length: kept.length }, (_, k) => `gone-${MAX_PENDING_ROWS / 100 + 5 - kept.length + k}`),
    );
  });

  it('writes as fast as rows come on a healthy disk: flushes early, drops nothing', async () => {
    const dir = tmp('plog-busy-');
    // The timer alone (60 s here) would let the buffer pass MAX_PENDING_ROWS and drop rows.
    const { log, seen } = startLog(dir, 'replica-a');
    const chunk = traffic.slice(0, 100);
    const total = 2 * MAX_PENDING_ROWS;
    for (let i = 0; i < total / chunk.length; i++) {
      log.record(batch(chunk));
      // 2,000 rows every 10 ms: 200,000 rows a second, more than one process answers.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await log.flush();
    expect(seen.dropped).toBe(0);
    expect(seen.written).toBe(total);
    expect(rows(join(dir, logFileName(TODAY, 'replica-a')))).toHaveLength(total);
  });

  it('retries a failing disk on the timer, not after every request', async () => {
    const base = tmp('plog-failing-');
    const blocker = join(base, 'not-a-dir');
    writeFileSync(blocker, 'a file where the log folder should be');
    const { log, seen } = startLog(join(blocker, 'predictions'), 'replica-a');
    const chunk = traffic.slice(0, 100);
    for (let i = 0; i < (3 * FLUSH_AT_ROWS) / chunk.length; i++) {
      log.record(batch(chunk));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(seen.errors).toBe(1);
    expect(seen.dropped).toBe(0);
  });

  it('keeps the folder within PREDICTION_LOG_MAX_BYTES, oldest days first, and drift over them stays exact', async () => {
    const dir = tmp('plog-cap-');
    const days = [9, 8, 7, 1, 0].map((ago) => new Date(Date.now() - ago * 86_400_000));
    const writer = startLog(dir, 'replica-a').log;
    days.forEach((at, i) => writer.record(batch(traffic.slice(i * 50, i * 50 + 50), at)));
    await writer.flush();
    const dayNames = days.map(dayOf);
    const before = await countLogDays(dir, 'seed_gbc', '1', reference.counter, dayNames);
    const logBytes = (day: string) => readFileSync(join(dir, logFileName(day, 'replica-a'))).length;
    const total = readdirSync(dir).reduce((sum, name) => sum + readFileSync(join(dir, name)).length, 0);
    // Room for all but the two oldest days' logs.
    const cap = total - logBytes(dayNames[0]) - logBytes(dayNames[1]);

    const { log, seen } = startLog(
      dir,
      'replica-a',
      { value: reference },
      {
        PREDICTION_LOG_MAX_BYTES: String(cap),
        PREDICTION_LOG_FLUSH_MS: 10,
      },
    );
    log.onApplicationBootstrap();
    // Until the cap is met and the closed days kept are compressed, each in one form: nothing left to do (a fixed
    // wait made the spec fail on a loaded machine).
    const settled = () => {
      const names = readdirSync(dir);
      return (
        seen.deletedBytes >= total - cap &&
        seen.diskBytes >= 0 &&
        dayNames
          .slice(2, 4)
          .every(
            (day) => names.filter((name) => name.startsWith(logFileName(day, 'replica-a'))).length === 1,
          ) &&
        dayNames.slice(2, 4).every((day) => names.includes(`${logFileName(day, 'replica-a')}.gz`))
      );
    };
    for (let i = 0; i < 250 && !settled(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await log.onApplicationShutdown();

    const left = readdirSync(dir);
    expect(left).not.toContain(logFileName(dayNames[0], 'replica-a'));
    expect(left).not.toContain(logFileName(dayNames[1], 'replica-a'));
    // The days kept have their log, plain or (closed days, compressed meanwhile) compressed.
    for (const day of dayNames.slice(2)) {
      expect(left.filter((name) => name.startsWith(logFileName(day, 'replica-a')))).toHaveLength(1);
    }
    for (const day of dayNames) expect(left).toContain(countsFileName(day, 'replica-a'));
    expect(seen.deletedBytes).toBe(total - cap);
    expect(seen.diskBytes).toBeLessThanOrEqual(cap);
    // The deleted days' summaries still give the same counts.
    const after = await countLogDays(dir, 'seed_gbc', '1', reference.counter, dayNames);
    expect(after.counts).toEqual(before.counts);
    expect(after.counts.n).toBe(250);
  });

  it('compresses closed days by itself, drift over them unchanged, and takes a late row for one', async () => {
    const dir = tmp('plog-gz-');
    const days = [3, 2, 0].map((ago) => new Date(Date.now() - ago * 86_400_000));
    const dayNames = days.map(dayOf);
    const writer = startLog(dir, 'replica-a').log;
    days.forEach((at, i) => writer.record(batch(traffic.slice(i * 40, i * 40 + 40), at)));
    await writer.flush();
    const before = await countLogDays(dir, 'seed_gbc', '1', reference.counter, dayNames);
    const rawLines = (day: string) => lines(join(dir, logFileName(day, 'replica-a')));
    const closedLines = dayNames.slice(0, 2).map(rawLines);

    const { log } = startLog(dir, 'replica-a', { value: reference }, { PREDICTION_LOG_FLUSH_MS: 10 });
    log.onApplicationBootstrap();
    // A compression renames its compressed form into place before it removes the plain one: a day is done once
    // only the compressed form is left.
    const compressed = (day: string) => {
      const names = readdirSync(dir);
      return (
        names.includes(`${logFileName(day, 'replica-a')}.gz`) &&
        !names.includes(logFileName(day, 'replica-a'))
      );
    };
    for (let i = 0; i < 100 && !(compressed(dayNames[0]) && compressed(dayNames[1])); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(
      readdirSync(dir)
        .filter((name) => name.includes('.jsonl'))
        .sort(),
    ).toEqual(
      [
        `${logFileName(dayNames[0], 'replica-a')}.gz`,
        `${logFileName(dayNames[1], 'replica-a')}.gz`,
        logFileName(dayNames[2], 'replica-a'),
      ].sort(),
    );
    // Summaries and raw lines alike give what the plain files gave.
    expect((await countLogDays(dir, 'seed_gbc', '1', reference.counter, dayNames)).counts).toEqual(
      before.counts,
    );
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.counts.json'))) rmSync(join(dir, name));
    const raw = await countLogDays(dir, 'seed_gbc', '1', reference.counter, dayNames);
    expect(raw.sources).toEqual({ summaries: 0, tails: 0, raw_files: 3 });
    expect(raw.counts).toEqual(before.counts);

    // A row for a compressed day (it waited out a failing disk): the day is restored and the row appended.
    log.record(batch(traffic.slice(200, 201), days[0], 'late'));
    await log.flush();
    await log.onApplicationShutdown();
    const restored = rawLines(dayNames[0]);
    expect(restored.slice(0, -1)).toEqual(closedLines[0]);
    expect(parseRecords(restored[restored.length - 1])[0]?.request_id).toBe('late');
    expect(readdirSync(dir)).not.toContain(`${logFileName(dayNames[0], 'replica-a')}.gz`);
  });

  it('deletes files older than the retention at start, and writes nothing when disabled', async () => {
    const dir = tmp('plog-retention-');
    const old = new Date(Date.now() - 40 * 86400000).toISOString().slice(0, 10);
    const recent = new Date(Date.now() - 3 * 86400000).toISOString().slice(0, 10);
    for (const day of [old, recent]) {
      writeFileSync(join(dir, logFileName(day, 'other')), '');
      writeFileSync(join(dir, countsFileName(day, 'other')), '{}');
    }
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    const { log } = startLog(dir, 'replica-a');
    log.onApplicationBootstrap();
    await log.flush();
    await log.onApplicationShutdown();
    expect(readdirSync(dir).sort()).toEqual(
      [countsFileName(recent, 'other'), logFileName(recent, 'other'), 'notes.txt'].sort(),
    );

    const off = tmp('plog-off-');
    const disabled = startLog(off, 'replica-a', { value: reference }, { PREDICTION_LOG_ENABLED: false }).log;
    disabled.onApplicationBootstrap();
    disabled.record(batch(traffic.slice(0, 5)));
    await disabled.onApplicationShutdown();
    expect(readdirSync(off)).toEqual([]);
  });
});
