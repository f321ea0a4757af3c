import { listLogFiles, parseRecords } from '@app/monitoring';
import { parseByteSize } from '@app/observability';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshConnection, workerPids } from './support/fresh-connection';
import { FuzzCase, fuzzCase, FuzzTarget, LANDMARK_COUNT, showBody } from './support/fuzz-requests';
import { freePort, ServerProcess } from './support/server-process';

/*
 * Thousands of seeded hostile bodies against both prediction routes of the built service (`npm run build` first).
 * Replay a run with FUZZ_SEED=<seed>, one case of it with FUZZ_CASE=<index> as well; FUZZ_CASES=<n> sends n cases.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const ONLY = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
const CASES = process.env.FUZZ_CASES === undefined ? undefined : Number(process.env.FUZZ_CASES);
const KEY = 'fuzz-key-0123456789abcdef';
/** The defaults, set explicitly: the generator aims at and just past each. */
const LIMITS = { BODY_LIMIT: '1mb', MAX_BATCH_SIZE: 32, JSON_MAX_DEPTH: 8 };
/** Keep-alive connections per server: enough to keep two cores busy, few enough to leave room for the rest. */
const CONCURRENCY = 8;
const ANSWER_TIMEOUT_MS = 20_000;

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

interface Failure {
  c: FuzzCase;
  lane: 'on' | 'off';
  reason: string;
  answer?: Answer;
}

interface ModelDescription {
  name: string;
  version: string;
  task: string;
  features: string[];
  labels?: Array<number | string>;
}

function send(port: number, agent: Agent, c: FuzzCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-request-id': `fuzz-${c.index}`,
    };
    if (!c.chunked) headers['content-length'] = String(c.body.length);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: c.path, headers, agent });
    req.setTimeout(ANSWER_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (c.chunked) {
      if (c.body.length > 0) req.write(c.body);
      req.end();
    } else {
      req.end(c.body);
    }
  });
}

function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(body.toString()) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const sameKeys = (value: Record<string, unknown>, keys: readonly string[]) =>
  Object.keys(value).sort().join() === [...keys].sort().join();

/** What is wrong with one prediction of the model, or undefined. */
function predictionProblem(
  model: ModelDescription,
  p: Record<string, unknown>,
  label: unknown,
): string | undefined {
  if (model.task !== 'classification') {
    const values = Array.isArray(p.value) ? (p.value as unknown[]) : [p.value];
    return values.every((v) => typeof v === 'number' && Number.isFinite(v))
      ? undefined
      : 'a value that is not finite';
  }
  const labels = model.labels ?? [];
  if (!labels.includes(label as number | string))
    return `label ${JSON.stringify(label)} is not one of the model's`;
  if (!isObject(p.probabilities) || !sameKeys(p.probabilities, labels.map(String))) {
    return 'probabilities not keyed by the labels';
  }
  const probabilities = Object.values(p.probabilities);
  if (!probabilities.every((v) => typeof v === 'number' && v >= 0 && v <= 1))
    return 'a probability outside [0, 1]';
  const sum = (probabilities as number[]).reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-4) return `probabilities sum to ${sum}`;
  if (p.probability !== p.probabilities[String(label)]) return "probability is not the label's";
  if (p.probability !== Math.max(...(probabilities as number[]))) return 'the label is not the most probable';
  return undefined;
}

/** What is wrong with a 200 answer, or undefined. */
function successProblem(model: ModelDescription, c: FuzzCase, answer: Answer): string | undefined {
  if (!/^application\/json\b/.test(answer.contentType)) return `a 200 of type ${answer.contentType}`;
  const body = parseJson(answer.body);
  if (!isObject(body)) return 'a 200 whose body is not a JSON object';
  if (c.path === '/predict') {
    if (!sameKeys(body, ['prediction', 'probability', 'probabilities', 'model', 'version', 'latency_ms'])) {
      if (
        model.task === 'classification' ||
        !sameKeys(body, ['prediction', 'model', 'version', 'latency_ms'])
      ) {
        return `a 200 with the members ${Object.keys(body).join(', ')}`;
      }
    }
    if (body.model !== model.name || body.version !== model.version) return 'a 200 naming another model';
    if (!(typeof body.latency_ms === 'number' && body.latency_ms >= 0)) return 'a 200 without latency_ms';
    const { prediction, ...rest } = body;
    return predictionProblem(model, { ...rest, value: prediction }, prediction);
  }
  if (!sameKeys(body, ['predictions', 'model_name', 'model_version'])) {
    return `a 200 with the members ${Object.keys(body).join(', ')}`;
  }
  if (body.model_name !== model.name || body.model_version !== model.version)
    return 'a 200 naming another model';
  // The server accepted the body, so it is JSON; each instance gets exactly one prediction.
  const sent = parseJson(c.body);
  const instances = isObject(sent) && Array.isArray(sent.instances) ? sent.instances : undefined;
  if (instances === undefined) return 'a 200 for a body without instances';
  const predictions = body.predictions;
  if (!Array.isArray(predictions) || predictions.length !== instances.length) {
    return `${Array.isArray(predictions) ? predictions.length : 'no'} predictions for ${instances.length} instances`;
  }
  for (const p of predictions as unknown[]) {
    if (!isObject(p)) return 'a prediction that is not an object';
    const problem = predictionProblem(model, p, p.label);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** What is wrong with an answer, or undefined: the promises of the README and of its error table. */
function answerProblem(model: ModelDescription, c: FuzzCase, answer: Answer): string | undefined {
  const { status } = answer;
  if (status >= 500) return `a ${status}`;
  if (status === 200) {
    const problem = successProblem(model, c, answer);
    if (problem !== undefined) return problem;
  } else if (status >= 400 && status < 500) {
    if (!/^application\/problem\+json\b/.test(answer.contentType))
      return `a ${status} of type "${answer.contentType}"`;
    const problem = parseJson(answer.body);
    if (!isObject(problem)) return `a ${status} whose body is not a JSON object`;
    if (problem.status !== status) return `a ${status} whose problem says status ${String(problem.status)}`;
    const said = (v: unknown) => typeof v === 'string' && v.trim() !== '';
    if (!said(problem.detail) && !said(problem.title)) return `a ${status} with neither detail nor title`;
    if (c.problem !== undefined && problem.type !== `https://ml-inference.dev/problems/${c.problem}`) {
      return `a problem of type ${String(problem.type)}, not ${c.problem}`;
    }
  } else {
    return `a ${status}`;
  }
  if (c.status !== undefined && status !== c.status) return `a ${status} where the contract says ${c.status}`;
  return undefined;
}

/** An answer as compared with another to the same request: latency is the one member that may differ. */
function comparable(answer: Answer): { status: number; contentType: string; body: unknown } {
  let body = parseJson(answer.body) ?? { hex: answer.body.toString('hex') };
  if (isObject(body) && 'latency_ms' in body) body = { ...body, latency_ms: typeof body.latency_ms };
  return { status: answer.status, contentType: answer.contentType, body };
}

function describeFailure({ c, lane, reason, answer }: Failure): string {
  return [
    `case ${c.index} (${c.kind}), fast lane ${lane}: ${reason}`,
    `  replay: FUZZ_SEED=${SEED} FUZZ_CASE=${c.index} npx jest test/fuzz.e2e-spec.ts`,
    `  POST ${c.path.length > 200 ? `${c.path.slice(0, 200)}… (${c.path.length} characters)` : c.path}` +
      `${c.chunked ? ' (chunked)' : ''}, body ${showBody(c.body)}`,
    ...(answer === undefined
      ? []
      : [`  answer ${answer.status} ${answer.contentType}: ${showBody(answer.body, 300)}`]),
  ].join('\n');
}

/** Runs `task` for each index, at most `concurrency` at a time. */
async function forEachIndex(
  indices: readonly number[],
  concurrency: number,
  task: (index: number) => Promise<void>,
) {
  let next = 0;
  const runner = async () => {
    while (next < indices.length) await task(indices[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, runner));
}

/** A request every run sends before and after the fuzz: the answers must not change. */
const FIXED_ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/** The fixed requests on fresh connections, so in a cluster they reach every worker (the primary alternates). */
async function fixedAnswers(
  base: string,
  model: ModelDescription,
): Promise<Array<ReturnType<typeof comparable>>> {
  const named = Object.fromEntries(model.features.map((name, i) => [name, FIXED_ROW[i]]));
  const requests = [
    { path: '/predict', body: { features: FIXED_ROW } },
    { path: `/v1/models/${model.name}:predict`, body: { instances: [FIXED_ROW, named] } },
  ];
  const answers: Array<ReturnType<typeof comparable>> = [];
  for (let round = 0; round < 4; round++) {
    for (const { path, body } of requests) {
      const answer = await onFreshConnection(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'x-request-id': 'fixed',
        },
        body: JSON.stringify(body),
      });
      answers.push(comparable({ status: answer.status, contentType: '', body: Buffer.from(answer.body) }));
    }
  }
  return answers;
}

/** The rows a request the service answered 200 predicted, in the model's feature order. */
function rowsOf(c: FuzzCase, model: ModelDescription): number[][] {
  const body = JSON.parse(c.body.toString()) as { features?: number[]; instances?: unknown[] };
  if (c.path === '/predict') return [body.features!];
  return body.instances!.map((row) =>
    Array.isArray(row)
      ? (row as number[])
      : model.features.map((name) => (row as Record<string, number>)[name]),
  );
}

/** Rows by request id, as text: JSON writes -0 as 0, and a difference shows as one line. */
type RowsById = Map<string, string>;

/** What the prediction log in `dir` holds by request id (the fixed requests aside), and its unreadable lines. */
async function loggedRows(dir: string): Promise<{ rows: RowsById; unreadable: string[] }> {
  const byId = new Map<string, number[][]>();
  const unreadable: string[] = [];
  for (const file of (await listLogFiles(dir)).filter((f) => f.kind === 'log')) {
    for (const line of readFileSync(join(dir, file.name), 'utf8').split('\n')) {
      if (line === '') continue;
      const records = parseRecords(line);
      if (records.length === 0) unreadable.push(showBody(Buffer.from(line), 300));
      for (const record of records.filter((r) => r.request_id !== 'fixed'))
        byId.set(record.request_id, [...(byId.get(record.request_id) ?? []), record.features]);
    }
  }
  return { rows: new Map([...byId].map(([id, rows]) => [id, JSON.stringify(rows)])), unreadable };
}

/** Request ids whose rows are missing, extra or different in `logged`; the first few of each. */
function rowDifferences(answered: RowsById, logged: RowsById) {
  const first = (ids: string[]) => ids.sort().slice(0, 5);
  return {
    missing: first([...answered.keys()].filter((id) => !logged.has(id))),
    extra: first([...logged.keys()].filter((id) => !answered.has(id))),
    different: first(
      [...answered].filter(([id, rows]) => logged.has(id) && logged.get(id) !== rows).map(([id]) => id),
    ),
  };
}

/** Kills a process that may be gone already. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

// Every case goes to a server with the fast lane on; landmarks and a quarter of the rest also go to one with it off.
const alsoWithoutLane = (index: number) => index < LANDMARK_COUNT || index % 4 === 3;

describe.each([
  { workers: 1, cases: 4000 },
  // A cluster fuzzed more lightly: each worker runs the same code; what is new is two processes sharing a port.
  { workers: 2, cases: 1200 },
])('fuzzing the prediction routes with HTTP_WORKERS=$workers', ({ workers, cases }) => {
  const count = CASES ?? cases;
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
  const servers = new Map<
    'on' | 'off',
    { server: ServerProcess; port: number; base: string; pids: number[] }
  >();
  let model: ModelDescription;
  let target: FuzzTarget;
  const before = new Map<'on' | 'off', Array<ReturnType<typeof comparable>>>();
  /** The rows of every fuzz case each server answered 200, by request id. */
  const predicted = new Map<'on' | 'off', RowsById>([
    ['on', new Map()],
    ['off', new Map()],
  ]);

  beforeAll(async () => {
    for (const lane of ['on', 'off'] as const) {
      const port = freePort();
      const server = ServerProcess.start({
        PORT: String(port),
        MODEL_REPOSITORY: './models',
        API_KEYS: KEY,
        HTTP_WORKERS: String(workers),
        FAST_LANE_ENABLED: String(lane === 'on'),
        BODY_LIMIT: LIMITS.BODY_LIMIT,
        MAX_BATCH_SIZE: String(LIMITS.MAX_BATCH_SIZE),
        JSON_MAX_DEPTH: String(LIMITS.JSON_MAX_DEPTH),
        PREDICTION_LOG_DIR: join(dir, `log-${lane}`),
        DRIFT_REPORT_DIR: join(dir, `reports-${lane}`),
        DRIFT_SCHEDULE_ENABLED: 'false',
      });
      servers.set(lane, { server, port, base: `http://127.0.0.1:${port}`, pids: [server.child.pid!] });
    }
    for (const entry of servers.values()) {
      await entry.server.waitForLog((line) => line.msg === 'ready', 30_000);
      entry.pids.push(...workerPids(entry.server).values());
      expect(entry.pids).toHaveLength(workers === 1 ? 1 : workers + 1);
    }
    const { base } = servers.get('on')!;
    const list = (await (await fetch(`${base}/v1/models`, { headers: { 'x-api-key': KEY } })).json()) as {
      models: ModelDescription[];
    };
    // One model, so it is also the one POST /predict serves.
    expect(list.models).toHaveLength(1);
    model = list.models[0];
    target = {
      model: model.name,
      features: model.features,
      bodyLimitBytes: parseByteSize(LIMITS.BODY_LIMIT),
      maxBatchSize: LIMITS.MAX_BATCH_SIZE,
      jsonMaxDepth: LIMITS.JSON_MAX_DEPTH,
    };
    for (const [lane, { base: url }] of servers) before.set(lane, await fixedAnswers(url, model));
  }, 60_000);

  // The pids seen at the start: a worker restarted since fails the spec, and dies with its primary anyway.
  afterAll(() => {
    for (const { pids } of servers.values()) for (const pid of pids) killQuietly(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${ONLY === undefined ? `${count} seeded bodies` : `case ${ONLY}`} with no 5xx, problem+json for every 4xx, well-formed predictions, and the same answers with the fast lane off`, async () => {
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const indices = ONLY === undefined ? Array.from({ length: count }, (_, i) => i) : [ONLY];
    const agents = new Map(
      [...servers.keys()].map((lane) => [lane, new Agent({ keepAlive: true, maxSockets: CONCURRENCY })]),
    );
    const ask = async (lane: 'on' | 'off', c: FuzzCase): Promise<Answer | undefined> => {
      try {
        const answer = await send(servers.get(lane)!.port, agents.get(lane)!, c);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const reason = answerProblem(model, c, answer);
        if (reason !== undefined) failures.push({ c, lane, reason, answer });
        else if (answer.status === 200)
          predicted.get(lane)!.set(`fuzz-${c.index}`, JSON.stringify(rowsOf(c, model)));
        return answer;
      } catch (error) {
        failures.push({ c, lane, reason: `no answer: ${(error as Error).message}` });
        return undefined;
      }
    };

    try {
      await forEachIndex(indices, CONCURRENCY, async (index) => {
        const c = fuzzCase(SEED, index, target);
        const [withLane, withoutLane] = await Promise.all([
          ask('on', c),
          alsoWithoutLane(index) ? ask('off', c) : undefined,
        ]);
        if (withLane !== undefined && withoutLane !== undefined) {
          const [on, off] = [comparable(withLane), comparable(withoutLane)];
          if (JSON.stringify(on) !== JSON.stringify(off)) {
            failures.push({
              c,
              lane: 'off',
              reason: `answered differently with the fast lane on: ${withLane.status} ${showBody(withLane.body, 300)}`,
              answer: withoutLane,
            });
          }
        }
      });
    } finally {
      for (const agent of agents.values()) agent.destroy();
    }

    expect({ seed: SEED, failed: failures.length, first: failures.slice(0, 8).map(describeFailure) }).toEqual(
      {
        seed: SEED,
        failed: 0,
        first: [],
      },
    );
    if (ONLY === undefined) {
      // The generator reaches every answer the contract has for these routes, not just one kind of refusal.
      expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 404, 413, 422, 431]));
    }
  }, 120_000);

  it('logged only whole JSON lines, none of them an error', () => {
    for (const [lane, { server }] of servers) {
      // HTTP workers share one stdout: a line longer than a pipe writes whole (4 KB) can interleave with another's.
      const broken = server.stdout.filter(
        (line) => line.trim() !== '' && (Buffer.byteLength(line) >= 4096 || parseJson(line) === undefined),
      );
      expect({ lane, broken: broken.map((line) => showBody(Buffer.from(line), 300)) }).toEqual({
        lane,
        broken: [],
      });
      const errors = server.logLines.filter((line) => line.level === 'error' || line.level === 'fatal');
      expect({ lane, errors }).toEqual({ lane, errors: [] });
    }
  });

  it('is still running afterwards, with no worker replaced, and answers a fixed request exactly as before', async () => {
    for (const [lane, { server, base, pids }] of servers) {
      expect({ lane, exitCode: server.child.exitCode }).toEqual({ lane, exitCode: null });
      expect([server.child.pid, ...workerPids(server).values()]).toEqual(pids);
      const answers = await fixedAnswers(base, model);
      expect(answers).toEqual(before.get(lane));
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    }
  });

  it('drains on SIGTERM with exit 0, its prediction log holding exactly the rows it answered, every line readable', async () => {
    for (const [lane, { server }] of servers) {
      server.child.kill('SIGTERM');
      expect({ lane, exitCode: await server.exitCode(20_000) }).toEqual({ lane, exitCode: 0 });
      const { rows, unreadable } = await loggedRows(join(dir, `log-${lane}`));
      expect({ lane, unreadable }).toEqual({ lane, unreadable: [] });
      expect({ lane, ...rowDifferences(predicted.get(lane)!, rows) }).toEqual({
        lane,
        missing: [],
        extra: [],
        different: [],
      });
      if (ONLY === undefined) expect(rows.size).toBeGreaterThan(0);
    }
  });
});
