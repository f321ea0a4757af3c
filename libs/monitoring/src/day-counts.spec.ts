import { AnsweredBatch } from '@app/inference';
import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sampleRows, seedTrainingRows } from '../../../test/support/monitoring-data';
import { BinCounter, COUNTS_FORMAT, CountSummaryFile, ModelCounts, unbinned } from './count-summary';
import { countRow, DayCounts, DayFile, fromSample, summaryCovers } from './day-counts';
import { parseRecords, recordLine } from './log-record';
import { MemoryLogStore } from './memory-log-store';
import { RecordedRows, SEGMENT_ROWS } from './recorded-rows';
import { parseReferenceProfile, ReferenceProfile } from './reference-profile';
import { LoadedReference } from './reference-profile-store';
import { answeredFeatures } from '../../../test/support/feature-values';

const REFERENCE_PATH = resolve(__dirname, '../../../models/seed_gbc/1/reference.json');
const profile = parseReferenceProfile(readFileSync(REFERENCE_PATH, 'utf8'), REFERENCE_PATH);
const loaded = (p: ReferenceProfile): LoadedReference => ({
  path: REFERENCE_PATH,
  profile: p,
  counter: new BinCounter(p),
});
const reference = loaded(profile);
/** The same profile with the first feature's edges moved: other bins. */
const moved = loaded({
  ...profile,
  features: profile.features.map((feature, i) =>
    i === 0 && feature.kind === 'numeric'
      ? { ...feature, edges: feature.edges.map((e) => e + 0.25) }
      : feature,
  ),
});
const traffic = sampleRows(seedTrainingRows(), 120, 5);
const DAY = '2026-11-30';

function batch(requestId: string, rows: number[][], model = 'seed_gbc', version = '1'): AnsweredBatch {
  return {
    model,
    version,
    requestId,
    at: new Date(`${DAY}T12:00:00Z`),
    ...answeredFeatures(rows),
    predictions: rows.map((row) => ({
      task: 'classification' as const,
      label: row[0] > 0 ? 1 : 0,
      probability: 0.6,
      probabilities: {},
    })),
  };
}

const dayFile = (): DayFile => ({
  day: DAY,
  logName: `${DAY}.a.jsonl`,
  countsName: `${DAY}.a.counts.json`,
  bytes: 0,
  counts: new Map(),
  dirty: false,
});

/** What counting the file's lines on `counter`'s bins gives: what every summary must say. */
function countedFromLines(store: MemoryLogStore, file: DayFile, counter: BinCounter): ModelCounts {
  const counts = counter.empty('seed_gbc', '1');
  for (const line of store.text(file.logName)!.split('\n'))
    for (const record of parseRecords(line)) counter.add(counts, record.features, record);
  return counts;
}

function setUp(current: { value?: LoadedReference } = { value: reference }) {
  const store = new MemoryLogStore();
  const logger = new Logger('spec');
  const forModel = () => Promise.resolve(current.value);
  const counts = new DayCounts({ forModel }, 'a', logger, store);
  return { store, counts, logger };
}

/** What PredictionLog does for one day: targets, the append, the counts added, the summary saved. */
async function write(counts: DayCounts, store: MemoryLogStore, file: DayFile, rows: RecordedRows) {
  counts.beginFlush();
  const segments = rows.takeAll();
  const targets = await counts.targetsFor(file, segments);
  const start = file.bytes;
  await store.append(
    file.logName,
    segments.flatMap((s) => s.chunks.map((c) => c.bytes)),
  );
  file.bytes += segments.reduce((n, s) => n + s.bytes, 0);
  rows.written(segments);
  await counts.addWritten(file, segments, targets, start);
  for (const { entry, counter } of targets.values())
    rows.countOn(entry.model, entry.version, counter ?? null);
  await counts.save(file);
}

describe('DayCounts', () => {
  it('adds the rows counted when recorded, and those recorded before the bins were known, as the lines count', async () => {
    const { store, counts } = setUp();
    const file = dayFile();
    await counts.load(file, 0);
    const rows = new RecordedRows();
    rows.record(batch('first', traffic.slice(0, 30)));
    await write(counts, store, file, rows);
    // The bins are known now: these rows are counted as they are recorded.
    rows.record(batch('second', traffic.slice(30, 70)));
    await write(counts, store, file, rows);

    const summary = await store.readSummary(file.countsName);
    expect(summary).toMatchObject({ format: COUNTS_FORMAT, day: DAY, host: 'a', log_bytes: file.bytes });
    expect(summary?.models).toEqual([countedFromLines(store, file, reference.counter)]);
    expect(summary?.models[0].n).toBe(70);
  });

  it('counts rows recorded before the bins were known once, when the same flush counts their version again from its lines', async () => {
    const current = { value: reference };
    const { store, counts } = setUp(current);
    const file = dayFile();
    await counts.load(file, 0);
    const rows = new RecordedRows();
    // A full segment of rows recorded before any bins were known: kept to be counted at the flush.
    rows.record(
      batch(
        'early',
        Array.from({ length: SEGMENT_ROWS }, (_, i) => traffic[i % traffic.length]),
      ),
    );
    // The bins became known meanwhile (another day's append, before this day's failed): later rows are counted.
    rows.countOn('seed_gbc', '1', reference.counter);
    rows.record(batch('late', traffic.slice(0, 10)));
    // The reference changed before this flush: the version's rows are counted again from the lines just written,
    // the early rows' among them.
    current.value = moved;
    await write(counts, store, file, rows);
    const models = (await store.readSummary(file.countsName))!.models;
    expect(models).toEqual([countedFromLines(store, file, moved.counter)]);
    expect(models[0].n).toBe(SEGMENT_ROWS + 10);
  });

  it('counts the file again from its lines when the reference changes, a sample’s counts when sampled', async () => {
    const current = { value: reference };
    const { store, counts } = setUp(current);
    const file = dayFile();
    await counts.load(file, 0);
    // Sampling at 0.5, with a fixed choice: every other request is logged.
    let draw = 0;
    const rows = new RecordedRows(0.5, () => (draw++ % 2 === 0 ? 0 : 0.9));
    for (let i = 0; i < 6; i++) rows.record(batch(`r${i}`, traffic.slice(i * 10, i * 10 + 10)));
    await write(counts, store, file, rows);
    expect((await store.readSummary(file.countsName))?.models[0]).toMatchObject({ n: 60, logged: 30 });

    current.value = moved;
    rows.record(batch('after', traffic.slice(60, 70)));
    await write(counts, store, file, rows);
    const models = (await store.readSummary(file.countsName))!.models;
    expect(models).toEqual([{ ...countedFromLines(store, file, moved.counter), from_sample: true }]);
  });

  it('takes its own summary and counts the lines written after it; another host’s summary is not its own', async () => {
    const { store, counts } = setUp();
    const first = recordLine(batch('x', traffic.slice(0, 4)));
    const second = recordLine(batch('y', traffic.slice(4, 10)));
    store.put(`${DAY}.a.jsonl`, first + second);
    const summary: CountSummaryFile = {
      format: COUNTS_FORMAT,
      day: DAY,
      host: 'a',
      log_bytes: Buffer.byteLength(first),
      updated_at: `${DAY}T12:00:00Z`,
      // Counts that the lines do not hold: only a summary taken as it is gives them.
      models: [{ ...reference.counter.empty('seed_gbc', '1'), n: 100, logged: 100 }],
    };
    await store.writeSummary(`${DAY}.a.counts.json`, summary);
    const own = dayFile();
    await counts.load(own, Buffer.byteLength(first + second));
    expect(own.bytes).toBe(Buffer.byteLength(first + second));
    expect(own.counts.get(`seed_gbc\u00001`)?.n).toBe(106);
    expect((await store.readSummary(own.countsName))?.log_bytes).toBe(own.bytes);

    await store.writeSummary(`${DAY}.a.counts.json`, { ...summary, host: 'b' });
    const copied = dayFile();
    await counts.load(copied, Buffer.byteLength(first + second));
    expect(copied.counts.get(`seed_gbc\u00001`)?.n).toBe(10);
  });

  it('says whether the saved summary covers the whole log', async () => {
    const { store, counts } = setUp();
    const file = dayFile();
    store.put(file.logName, recordLine(batch('x', traffic.slice(0, 3))));
    await counts.load(file, Buffer.byteLength(store.text(file.logName)!));
    expect(await counts.coverWholeLog(file)).toBe(true);
    await store.append(file.logName, [Buffer.from(recordLine(batch('y', traffic.slice(3, 4))))]);
    expect(await counts.coverWholeLog(file)).toBe(false);
  });

  it('counts rows only in `n` when the reference cannot be read, and says so once', async () => {
    const store = new MemoryLogStore();
    const logger = new Logger('spec');
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const forModel = () => Promise.reject(new Error('reference.json: not a reference profile'));
    const counts = new DayCounts({ forModel }, 'a', logger, store);
    const file = dayFile();
    await counts.load(file, 0);
    const rows = new RecordedRows();
    for (let i = 0; i < 3; i++) {
      rows.record(batch(`r${i}`, traffic.slice(i * 5, i * 5 + 5)));
      await write(counts, store, file, rows);
    }
    expect((await store.readSummary(file.countsName))?.models).toEqual([
      { model: 'seed_gbc', version: '1', bins: null, n: 15, logged: 15, features: [], labels: [], score: [] },
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      'reference.json: not a reference profile; predictions of seed_gbc are logged without bin counts',
    );
  });

  it('marks counts as a sample’s when rows left out of the log were counted on the old bins', async () => {
    const current = { value: reference };
    const { store, counts } = setUp(current);
    const file = dayFile();
    await counts.load(file, 0);
    // Sampling at 0.5: the first and last requests are logged, the one between is not.
    const draws = [0, 0.9, 0];
    const rows = new RecordedRows(0.5, () => draws.shift()!);
    rows.record(batch('logged', traffic.slice(0, 10)));
    await write(counts, store, file, rows);
    const whole = (await store.readSummary(file.countsName))!.models[0];
    expect(whole).toMatchObject({ n: 10, logged: 10 });
    expect(whole.from_sample).toBeUndefined();

    // The file's own rows are all in its lines; those waiting were counted on the old bins, a full segment of
    // them left out of the log, and then a segment of logged ones.
    current.value = moved;
    const many = Array.from({ length: SEGMENT_ROWS }, (_, i) => traffic[i % traffic.length]);
    rows.record(batch('left out', many));
    rows.record(batch('kept', traffic.slice(10, 15)));
    await write(counts, store, file, rows);
    expect((await store.readSummary(file.countsName))!.models).toEqual([
      { ...countedFromLines(store, file, moved.counter), from_sample: true },
    ]);
  });

  it('counts again only the lines of the model version whose reference changed, and looks references up once a flush', async () => {
    const current = { value: reference };
    const store = new MemoryLogStore();
    const lookups: string[] = [];
    const forModel = (model: string, version: string) => {
      lookups.push(`${model}@${version}`);
      return Promise.resolve(model === 'seed_gbc' && version === '1' ? current.value : undefined);
    };
    const counts = new DayCounts({ forModel }, 'a', new Logger('spec'), store);
    const file = dayFile();
    store.put(
      file.logName,
      recordLine(batch('x', traffic.slice(0, 6))) +
        recordLine(batch('y', traffic.slice(6, 10), 'seed_gbc', '2')) +
        recordLine(batch('z', traffic.slice(10, 13), 'other', '1')) +
        recordLine(batch('w', traffic.slice(13, 15))),
    );
    await counts.load(file, Buffer.byteLength(store.text(file.logName)!));
    // One look-up per model version, not per row.
    expect(lookups).toEqual(['seed_gbc@1', 'seed_gbc@2', 'other@1']);
    expect([...file.counts.values()].map(({ model, version, n }) => [model, version, n])).toEqual([
      ['seed_gbc', '1', 8],
      ['seed_gbc', '2', 4],
      ['other', '1', 3],
    ]);

    current.value = moved;
    const rows = new RecordedRows();
    rows.record(batch('v', traffic.slice(15, 17)));
    await write(counts, store, file, rows);
    // The next flush looks the reference up again, and finds it changed.
    expect(lookups).toEqual(['seed_gbc@1', 'seed_gbc@2', 'other@1', 'seed_gbc@1']);
    const expected = moved.counter.empty('seed_gbc', '1');
    for (const line of store.text(file.logName)!.split('\n'))
      for (const record of parseRecords(line))
        if (record.model === 'seed_gbc' && record.version === '1')
          moved.counter.add(expected, record.features, record);
    expect(expected.n).toBe(10);
    const summary = await store.readSummary(file.countsName);
    expect(summary?.models).toEqual([
      expected,
      { ...unbinned('seed_gbc', '2'), n: 4, logged: 4 },
      { ...unbinned('other', '1'), n: 3, logged: 3 },
    ]);
  });

  it('keeps a sample’s mark when the reference changes before any line of the day was written', async () => {
    const { store, counts } = setUp({ value: moved });
    // Rows counted on the old bins, none logged (sampling): the log holds no byte, and is not there.
    await store.writeSummary(`${DAY}.a.counts.json`, {
      format: COUNTS_FORMAT,
      day: DAY,
      host: 'a',
      log_bytes: 0,
      updated_at: `${DAY}T12:00:00Z`,
      models: [{ ...reference.counter.empty('seed_gbc', '1'), n: 4, logged: 0 }],
    });
    const file = dayFile();
    await counts.load(file, 0);
    expect(file.counts.get('seed_gbc\u00001')?.n).toBe(4);

    const rows = new RecordedRows();
    rows.record(batch('late', traffic.slice(0, 2)));
    await write(counts, store, file, rows);
    // The 4 rows cannot be binned again: the counts on the new bins are those of a sample.
    expect((await store.readSummary(file.countsName))?.models).toEqual([
      { ...countedFromLines(store, file, moved.counter), from_sample: true },
    ]);
  });
});

describe('counting helpers', () => {
  it('counts a row without bins in `n`, and in `logged` only when its line was written', () => {
    const entry = unbinned('m', '1');
    countRow({ entry }, [1, 2], { prediction: 1, probability: 0.5 }, false);
    countRow({ entry }, [1, 2], { prediction: 1, probability: 0.5 });
    expect(entry).toMatchObject({ n: 2, logged: 1, features: [], score: [] });
  });

  it('takes counts for a sample’s when fewer rows were logged than counted, or when marked so', () => {
    const counts = unbinned('m', '1');
    expect(fromSample({ ...counts, n: 3, logged: 3 })).toBe(false);
    expect(fromSample({ ...counts, n: 3, logged: 2 })).toBe(true);
    expect(fromSample({ ...counts, n: 3, logged: 3, from_sample: true })).toBe(true);
  });

  it('takes a summary only for its own day and host, covering no more than the log holds', () => {
    const summary: CountSummaryFile = {
      format: COUNTS_FORMAT,
      day: DAY,
      host: 'a',
      log_bytes: 100,
      updated_at: `${DAY}T12:00:00Z`,
      models: [],
    };
    expect(summaryCovers(summary, DAY, 'a', 100)).toBe(true);
    expect(summaryCovers(summary, DAY, 'a', 101)).toBe(true);
    expect(summaryCovers(summary, DAY, 'a', 99)).toBe(false);
    // A compressed log: covered whole.
    expect(summaryCovers(summary, DAY, 'a', undefined)).toBe(true);
    expect(summaryCovers(summary, '2026-11-29', 'a', 100)).toBe(false);
    expect(summaryCovers(summary, DAY, 'b', 100)).toBe(false);
    expect(summaryCovers(undefined, DAY, 'a', 100)).toBe(false);
  });
});
