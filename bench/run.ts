// `npm run bench`: every figure of the performance issue's goals in one run, the servers side by side. One file of
// about 580 lines on purpose: it is the script, read top to bottom (workspace, start-up, the /predict comparison,
// KServe, V2, /health under load, batching, the report); the measuring parts it shares are in load.ts, servers.ts,
// process-tree.ts, support.ts and report.ts.
import { adaptModel } from '@app/inference/onnx';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { torchMlp, writeModel } from '../test/support/onnx-model-builder';
import { chooseLoadGenerator, LoadGenerator, LoadResult, probe, ProbeResult, RawBody } from './load';
import { grpcLoad, rawModelInferRequest } from './grpc-load';
import {
  BatchFigures,
  BenchResults,
  ContenderFigures,
  ContenderKey,
  ContenderRepeat,
  CONTENDERS,
  PredictRun,
  renderReport,
} from './report';
import { seedFastapiUnavailable, Server, stopAllServers } from './servers';
import {
  DURATION_S,
  API_KEY,
  GOLDEN,
  HEAVY,
  rawRowsPerSecond,
  REPEATS,
  ROOT,
  ROW,
  SEED_FASTAPI_DIR,
  sleep,
  spread,
} from './support';

/*
 * `npm run bench`: the service against a bare node:http server, a minimal Nest app and the seed's FastAPI service,
 * all in the same run on 127.0.0.1, loaded by wrk. The servers of the `POST /predict` comparison run side by side
 * and take turns within each repeat, so drift in the shared machine's speed touches all of them alike. Prints the
 * goals table, writes bench/results/<date>.json and the table in docs/PERFORMANCE.md. Every figure is the median
 * of REPEATS runs of DURATION_S seconds, with min and max beside it.
 */

/** Production: the fast lane on, HTTP_WORKERS left to its default (one HTTP process per core). */
const PROD_ENV = { FAST_LANE_ENABLED: 'true' };
/** Today's pipeline in a single process. */
const NO_LANE_ENV = { FAST_LANE_ENABLED: 'false', HTTP_WORKERS: '1' };

interface Workspace {
  dir: string;
  /** seed_gbc alone: the comparison, KServe and start-up. */
  defaultOnly: string;
  /** seed_gbc and the heavy model: /health under load and batching. */
  withHeavy: string;
  /** seed_gbc with its ZipMap removed, for the bare server, the Nest floor and raw session.run. */
  adaptedModel: string;
  logs: string;
  data: string;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const work = prepareWorkspace();
  const generator = chooseLoadGenerator(work.dir);
  const machine = { cpus: cpus().length, model: cpuModel(), node: process.version };
  console.log(
    `bench: ${date}; load generator ${generator.name} ${generator.version}; Node ${machine.node}; ${machine.cpus} × ${machine.model}`,
  );
  console.log(
    `bench: ${REPEATS} × ${DURATION_S} s per figure; work dir ${work.dir} (deleted after a successful run)`,
  );
  await writeModel(work.withHeavy, torchMlp({ ...HEAVY, seed: 42 }));

  // A signal must not leave servers behind: stop them, then exit.
  for (const name of ['SIGINT', 'SIGTERM'] as const)
    process.once(name, () => {
      console.error(`bench: ${name}; stopping the servers (logs kept in ${work.logs})`);
      void stopAllServers().finally(() => {
        removeModels(work);
        process.exit(130);
      });
    });

  let results: BenchResults;
  try {
    const startup = await measureStartup(work);
    const predict = await comparePredict(generator, work);
    const kserveBatch32 = await measureKserve(generator, predict.serviceProd, work);
    const openInferenceBatch32 = await measureOpenInference(generator, predict.serviceProd, work);
    await predict.serviceProd.stop();
    const healthUnderHeavyLoad = await measureHealthUnderLoad(generator, work);
    const heavy256 = await measureBatching(generator, work);
    results = {
      date,
      loadGenerator: { name: generator.name, version: generator.version },
      machine,
      settings: {
        repeats: REPEATS,
        durationSeconds: DURATION_S,
        heavyModel: HEAVY,
        seedFastapiDir: SEED_FASTAPI_DIR,
      },
      predict: predict.figures,
      kserveBatch32,
      openInferenceBatch32,
      healthUnderHeavyLoad,
      heavy256,
      startup,
    };
  } catch (error) {
    console.error(`bench: failed; server logs kept in ${work.logs}`);
    throw error;
  } finally {
    await stopAllServers();
    removeModels(work);
  }
  // A full run leaves gigabytes of request and prediction logs: once the figures are in, they go.
  rmSync(work.dir, { recursive: true, force: true });

  writeFileSync(
    join(ROOT, 'bench/results', `${date.slice(0, 10)}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  const report = renderReport(results);
  console.log(`\n${report}`);
  replaceDocBlock(report);
}

function prepareWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'ml-inference-bench-'));
  const work: Workspace = {
    dir,
    defaultOnly: join(dir, 'default-only'),
    withHeavy: join(dir, 'with-heavy'),
    adaptedModel: join(dir, 'seed_gbc.adapted.onnx'),
    logs: join(dir, 'logs'),
    data: join(dir, 'data'),
  };
  for (const repository of [work.defaultOnly, work.withHeavy]) {
    mkdirSync(join(repository, 'seed_gbc/1'), { recursive: true });
    for (const file of ['model.onnx', 'model.json'])
      copyFileSync(join(ROOT, 'models/seed_gbc/1', file), join(repository, 'seed_gbc/1', file));
  }
  mkdirSync(work.logs);
  mkdirSync(work.data);
  writeFileSync(
    work.adaptedModel,
    adaptModel(readFileSync(join(ROOT, 'models/seed_gbc/1/model.onnx'))).bytes,
  );
  return work;
}

/** The models (45 MB of heavy model) are of no use after the run; the logs are kept when something failed. */
function removeModels(work: Workspace): void {
  rmSync(work.defaultOnly, { recursive: true, force: true });
  rmSync(work.withHeavy, { recursive: true, force: true });
}

function cpuModel(): string {
  try {
    const name = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    if (name) return name.trim();
  } catch {
    // not Linux; os.cpus() below
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

/** A service in a given configuration, with its own data folder and log file. */
function startService(work: Workspace, name: string, repository: string, env: Record<string, string>) {
  return Server.service(name, repository, join(work.data, name), join(work.logs, `${name}.log`), env);
}

/** Start → ready and idle RSS of fresh production services on the default model, before anything else loads. */
async function measureStartup(work: Workspace): Promise<BenchResults['startup']> {
  const readyMs: number[] = [];
  const idleRssMb: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const server = await startService(work, `startup-${i + 1}`, work.defaultOnly, PROD_ENV);
    readyMs.push(server.readyMs);
    await sleep(500);
    idleRssMb.push(server.rssMb());
    await server.stop();
    console.log(
      `  start-up ${i + 1}/${REPEATS}: ready in ${server.readyMs.toFixed(0)} ms, idle RSS ${idleRssMb[i].toFixed(0)} MB`,
    );
  }
  return { readyMs: spread(readyMs), idleRssMb: spread(idleRssMb), raw: { readyMs, idleRssMb } };
}

/** Starts the servers of the comparison; the seed is left out, with the reason, when it cannot run here. */
async function startContenders(
  work: Workspace,
): Promise<{ servers: Partial<Record<ContenderKey, Server>>; seedNotMeasured?: string }> {
  const servers: Partial<Record<ContenderKey, Server>> = {
    bare: await Server.baseline('bare', 'bare-server.ts', work.adaptedModel),
    nestFloor: await Server.baseline('nest-floor', 'nest-floor.ts', work.adaptedModel),
    serviceProd: await startService(work, 'service-prod', work.defaultOnly, PROD_ENV),
    serviceNoLane: await startService(work, 'service-no-lane', work.defaultOnly, NO_LANE_ENV),
  };
  let seedNotMeasured = seedFastapiUnavailable(SEED_FASTAPI_DIR);
  if (!seedNotMeasured) {
    const logFile = join(work.logs, 'seed-fastapi.log');
    try {
      servers.seedFastapi = await Server.seedFastapi('seed-fastapi', SEED_FASTAPI_DIR, logFile);
    } catch (error) {
      seedNotMeasured = `it did not start (${(error as Error).message}; see ${logFile})`;
    }
  }
  if (seedNotMeasured) console.log(`bench: seed FastAPI skipped, goal 1 not measured: ${seedNotMeasured}`);
  return { servers, seedNotMeasured };
}

async function predictRun(
  generator: LoadGenerator,
  server: Server,
  connections: number,
): Promise<PredictRun> {
  const cpuBefore = server.cpuSeconds();
  const load = await generator.run({
    url: `${server.base}/predict`,
    connections,
    durationS: DURATION_S,
    body: { features: ROW },
  });
  const cpuSeconds = server.cpuSeconds() - cpuBefore;
  return { load, cpuUsPerRequest: load.requests > 0 ? (cpuSeconds * 1e6) / load.requests : NaN };
}

/** 1 and 2: `POST /predict` on every server at 32 and 64 connections, the servers taking turns in each repeat. */
async function comparePredict(
  generator: LoadGenerator,
  work: Workspace,
): Promise<{ figures: BenchResults['predict']; serviceProd: Server }> {
  const { servers, seedNotMeasured } = await startContenders(work);
  const keys = (Object.keys(CONTENDERS) as ContenderKey[]).filter((key) => servers[key]);
  // Warm-up, not recorded: V8 compiles the hot paths in the first seconds, which would count against Node.
  for (const key of keys) {
    await generator.run({
      url: `${servers[key]!.base}/predict`,
      connections: 64,
      durationS: Math.min(2, DURATION_S),
      body: { features: ROW },
    });
  }
  const repeats: Partial<Record<ContenderKey, ContenderRepeat[]>> = {};
  for (let i = 0; i < REPEATS; i++) {
    for (const key of keys) {
      const server = servers[key]!;
      const at32 = await predictRun(generator, server, 32);
      const at64 = await predictRun(generator, server, 64);
      const rssMb = server.rssMb();
      (repeats[key] ??= []).push({ at32, at64, rssMb });
      console.log(
        `  /predict ${i + 1}/${REPEATS} ${CONTENDERS[key].short}: @32 ${describe(at32)}; @64 ${describe(at64)}; RSS ${rssMb.toFixed(0)} MB`,
      );
    }
  }
  for (const key of keys) if (key !== 'serviceProd') await servers[key]!.stop();

  const figures: Partial<Record<ContenderKey, ContenderFigures>> = {};
  for (const key of keys) figures[key] = summarize(repeats[key]!);
  const perRepeat = (key: ContenderKey, of: (r: ContenderRepeat, i: number) => number) =>
    spread(repeats[key]!.map(of));
  const cpuVsBare = (key: ContenderKey) =>
    perRepeat(key, (r, i) => r.at64.cpuUsPerRequest / repeats.bare![i].at64.cpuUsPerRequest);
  return {
    serviceProd: servers.serviceProd!,
    figures: {
      servers: figures,
      seedNotMeasured,
      serviceVsSeed: repeats.seedFastapi
        ? perRepeat(
            'serviceProd',
            (r, i) => r.at64.load.reqPerSec / repeats.seedFastapi![i].at64.load.reqPerSec,
          )
        : undefined,
      cpuVsBare: {
        serviceProd: cpuVsBare('serviceProd'),
        serviceNoLane: cpuVsBare('serviceNoLane'),
        nestFloor: cpuVsBare('nestFloor'),
      },
    },
  };
}

function describe(run: PredictRun): string {
  const { load } = run;
  return `${load.reqPerSec.toFixed(0)} req/s, p99 ${load.p99Ms.toFixed(1)} ms, ${run.cpuUsPerRequest.toFixed(0)} µs CPU/req, ${load.failed} failed`;
}

function summarize(repeats: ContenderRepeat[]): ContenderFigures {
  const of = (pick: (r: ContenderRepeat) => number) => spread(repeats.map(pick));
  return {
    reqPerSec32: of((r) => r.at32.load.reqPerSec),
    reqPerSec64: of((r) => r.at64.load.reqPerSec),
    p50Ms64: of((r) => r.at64.load.p50Ms),
    p99Ms64: of((r) => r.at64.load.p99Ms),
    cpuUsPerRequest32: of((r) => r.at32.cpuUsPerRequest),
    cpuUsPerRequest64: of((r) => r.at64.cpuUsPerRequest),
    rssMb: of((r) => r.rssMb),
    failed: repeats.reduce((n, r) => n + r.at32.load.failed + r.at64.load.failed, 0),
    repeats,
  };
}

const failedIn = (loads: { failed: number }[]) => loads.reduce((n, l) => n + l.failed, 0);

/**
 * 3: KServe, 32 rows per request at 16 connections, against raw in-process session.run at batch 32. Beside it, as a
 * reading of where the time goes (no goal), the same service with the prediction log off: at 32 rows a request the
 * log writes about 9 KB of JSON per request.
 */
async function measureKserve(
  generator: LoadGenerator,
  service: Server,
  work: Workspace,
): Promise<BenchResults['kserveBatch32']> {
  const unlogged = await startService(work, 'service-no-prediction-log', work.defaultOnly, {
    ...PROD_ENV,
    PREDICTION_LOG_ENABLED: 'false',
  });
  const loads: LoadResult[] = [];
  const unloggedLoads: LoadResult[] = [];
  const raw: number[] = [];
  const modelBytes = readFileSync(work.adaptedModel);
  const kserveLoad = (server: Server) =>
    generator.run({
      url: `${server.base}/v1/models/seed_gbc:predict`,
      connections: 16,
      durationS: DURATION_S,
      body: { instances: GOLDEN.inputs.slice(0, 32) },
    });
  try {
    for (let i = 0; i < REPEATS; i++) {
      loads.push(await kserveLoad(service));
      unloggedLoads.push(await kserveLoad(unlogged));
      // The services are idle while session.run is timed in this process.
      raw.push(await rawRowsPerSecond(modelBytes, 32, 3));
      console.log(
        `  KServe ${i + 1}/${REPEATS}: ${(loads[i].reqPerSec * 32).toFixed(0)} rows/s (prediction log off: ${(unloggedLoads[i].reqPerSec * 32).toFixed(0)}) vs raw ${raw[i].toFixed(0)} rows/s`,
      );
    }
  } finally {
    await unlogged.stop();
  }
  return {
    rowsPerSec: spread(loads.map((l) => l.reqPerSec * 32)),
    rawRowsPerSec: spread(raw),
    ratio: spread(loads.map((l, i) => (l.reqPerSec * 32) / raw[i])),
    withoutPredictionLog: {
      rowsPerSec: spread(unloggedLoads.map((l) => l.reqPerSec * 32)),
      ratio: spread(unloggedLoads.map((l, i) => (l.reqPerSec * 32) / raw[i])),
      loads: unloggedLoads,
    },
    p99Ms: spread(loads.map((l) => l.p99Ms)),
    failed: failedIn(loads),
    loads,
    raw,
  };
}

/** The 32 rows of the KServe load, as Open Inference Protocol (V2) requests: seed_gbc's input, FP32 [32, 10]. */
const V2_ROWS = GOLDEN.inputs.slice(0, 32);
const V2_INPUT = { name: 'float_input', shape: [V2_ROWS.length, ROW.length], datatype: 'FP32' };

/** Tensor data as JSON, every output answered as JSON. */
const v2JsonBody = { inputs: [{ ...V2_INPUT, data: V2_ROWS.flat() }] };

/**
 * Triton's binary tensor data, as tritonclient.http sends it by default: the JSON header, then the rows as
 * little-endian float32 (numpy's tobytes()), every output asked back as binary.
 */
function v2BinaryBody(): RawBody {
  const values = V2_ROWS.flat();
  const tensor = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => tensor.writeFloatLE(value, i * 4));
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ ...V2_INPUT, parameters: { binary_data_size: tensor.length } }],
      parameters: { binary_data_output: true },
    }),
  );
  return new RawBody(Buffer.concat([header, tensor]), {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': String(header.length),
  });
}

/**
 * One request before a load: a body the route refuses would otherwise be measured as fast failures (wrk counts
 * them, but the figure would say nothing). Throws unless the answer is a 200 of the expected Content-Type.
 */
async function expectAnswer(url: string, body: unknown, contentType: string): Promise<void> {
  const raw = body instanceof RawBody ? body : undefined;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(raw ? raw.headers : { 'content-type': 'application/json' }),
    },
    body: raw ? raw.bytes : JSON.stringify(body),
  });
  const answer = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || !type.startsWith(contentType)) {
    throw new Error(`POST ${url}: ${response.status} ${type}: ${answer.toString('utf8', 0, 300)}`);
  }
}

/**
 * 3b: the Open Inference Protocol (V2) over REST and gRPC on the same 32 rows at 16 connections as KServe: tensor data as JSON,
 * as Triton's binary tensor data (request and response), and over gRPC as raw contents, against raw session.run at
 * batch 32.
 */
async function measureOpenInference(
  generator: LoadGenerator,
  service: Server,
  work: Workspace,
): Promise<BenchResults['openInferenceBatch32']> {
  const url = `${service.base}/v2/models/seed_gbc/infer`;
  const binaryBody = v2BinaryBody();
  await expectAnswer(url, v2JsonBody, 'application/json');
  await expectAnswer(url, binaryBody, 'application/octet-stream');
  const load = (body: unknown) => generator.run({ url, connections: 16, durationS: DURATION_S, body });
  // gRPC: the same rows as raw_input_contents (what Triton's gRPC client sends), 16 connections of one call each.
  const grpc = () =>
    grpcLoad({
      address: `127.0.0.1:${service.grpcPort}`,
      metricsBase: service.base,
      connections: 16,
      streamsPerConnection: 1,
      durationS: DURATION_S,
      scratchDir: work.dir,
      request: rawModelInferRequest('seed_gbc', V2_INPUT.name, V2_ROWS),
    });
  // The floors, on the same requests and calls: what node:http, grpc-js and node:http2 alone leave of session.run's
  // rows, one process per core each.
  const floors = {
    rest: await Server.baseline('bare V2 REST', 'bare-v2-server.ts', work.adaptedModel),
    grpc: await Server.baseline('bare gRPC', 'bare-grpc-server.ts', work.adaptedModel),
    http2: await Server.baseline('bare HTTP/2 gRPC', 'bare-h2-grpc-server.ts', work.adaptedModel),
  };
  const bareRest = () =>
    generator.run({
      url: `${floors.rest.base}/v2/models/seed_gbc/infer`,
      connections: 16,
      durationS: DURATION_S,
      body: binaryBody,
    });
  const bareGrpc = (floor: Server) => () =>
    grpcLoad({
      address: floor.base.replace('http://', ''),
      connections: 16,
      streamsPerConnection: 1,
      durationS: DURATION_S,
      scratchDir: work.dir,
      request: rawModelInferRequest('seed_gbc', V2_INPUT.name, V2_ROWS),
    });
  await expectAnswer(`${floors.rest.base}/v2/models/seed_gbc/infer`, binaryBody, 'application/octet-stream');
  const loads = {
    json: [] as LoadResult[],
    binary: [] as LoadResult[],
    grpc: [] as LoadResult[],
    bareRest: [] as LoadResult[],
    bareGrpc: [] as LoadResult[],
    bareHttp2: [] as LoadResult[],
  };
  const raw: number[] = [];
  const modelBytes = readFileSync(work.adaptedModel);
  for (let i = 0; i < REPEATS; i++) {
    loads.json.push(await load(v2JsonBody));
    loads.binary.push(await load(binaryBody));
    loads.grpc.push(await grpc());
    loads.bareRest.push(await bareRest());
    loads.bareGrpc.push(await bareGrpc(floors.grpc)());
    loads.bareHttp2.push(await bareGrpc(floors.http2)());
    raw.push(await rawRowsPerSecond(modelBytes, 32, 3));
    const rows = (l: LoadResult[]) => (l[i].reqPerSec * 32).toFixed(0);
    console.log(
      `  V2 ${i + 1}/${REPEATS}: REST JSON tensors ${rows(loads.json)} rows/s, REST binary ${rows(loads.binary)} (bare node:http ${rows(loads.bareRest)}), gRPC raw ${rows(loads.grpc)} (bare grpc-js ${rows(loads.bareGrpc)}, bare node:http2 ${rows(loads.bareHttp2)}) vs raw ${raw[i].toFixed(0)} rows/s`,
    );
  }
  await Promise.all(Object.values(floors).map((floor) => floor.stop()));
  const figures = (l: LoadResult[]): BatchFigures => ({
    rowsPerSec: spread(l.map((x) => x.reqPerSec * 32)),
    ratio: spread(l.map((x, i) => (x.reqPerSec * 32) / raw[i])),
    p99Ms: spread(l.map((x) => x.p99Ms)),
    failed: failedIn(l),
    loads: l,
  });
  return {
    rawRowsPerSec: spread(raw),
    restJson: figures(loads.json),
    restBinary: figures(loads.binary),
    grpc: figures(loads.grpc),
    bareRest: figures(loads.bareRest),
    bareGrpc: figures(loads.bareGrpc),
    bareHttp2: figures(loads.bareHttp2),
    raw,
  };
}

const heavyUrl = (server: Server) => `${server.base}/v1/models/${HEAVY.name}:predict`;
const heavyBody = { instances: [Array.from({ length: HEAVY.featureCount }, (_, i) => Math.sin(i))] };

/** Probes `/health` while 64 connections keep the heavy model busy; the probe runs inside the load's window. */
async function healthDuringLoad(
  generator: LoadGenerator,
  server: Server,
): Promise<{ load: LoadResult; health: ProbeResult }> {
  const [load, health] = await Promise.all([
    generator.run({ url: heavyUrl(server), connections: 64, durationS: DURATION_S, body: heavyBody }),
    sleep(500).then(() => probe(`${server.base}/health`, Math.max(1, DURATION_S - 1.5))),
  ]);
  return { load, health };
}

/** 4a: `/health` under heavy load, slow models on worker threads against everything on the main thread. */
async function measureHealthUnderLoad(
  generator: LoadGenerator,
  work: Workspace,
): Promise<BenchResults['healthUnderHeavyLoad']> {
  const workers = await startService(work, 'heavy-workers', work.withHeavy, PROD_ENV);
  const mainThread = await startService(work, 'heavy-main-thread', work.withHeavy, {
    ...PROD_ENV,
    INFERENCE_WORKERS: '0',
  });
  type Run = { load: LoadResult; health: ProbeResult };
  const runs = { workers: [] as Run[], mainThread: [] as Run[] };
  for (let i = 0; i < REPEATS; i++) {
    runs.workers.push(await healthDuringLoad(generator, workers));
    runs.mainThread.push(await healthDuringLoad(generator, mainThread));
    console.log(
      `  /health under load ${i + 1}/${REPEATS}: worker threads p99 ${runs.workers[i].health.p99Ms.toFixed(1)} ms, main thread p99 ${runs.mainThread[i].health.p99Ms.toFixed(1)} ms`,
    );
  }
  await workers.stop();
  await mainThread.stop();
  const figures = (r: Run[]) => ({
    p99Ms: spread(r.map((x) => x.health.p99Ms)),
    failed: failedIn(r.map((x) => x.health)),
    probes: r.map((x) => x.health),
    loads: r.map((x) => x.load),
  });
  return { workerThreads: figures(runs.workers), mainThread: figures(runs.mainThread) };
}

/** 4b: 256 one-row clients on the heavy model, merged batches of up to 64 rows against no merging. */
async function measureBatching(generator: LoadGenerator, work: Workspace): Promise<BenchResults['heavy256']> {
  const on = await startService(work, 'heavy-batching-on', work.withHeavy, {
    ...PROD_ENV,
    BATCH_MAX_SIZE: '64',
  });
  const off = await startService(work, 'heavy-batching-off', work.withHeavy, {
    ...PROD_ENV,
    BATCH_MAX_SIZE: '1',
  });
  const loads = { on: [] as LoadResult[], off: [] as LoadResult[] };
  const run = (server: Server) =>
    generator.run({ url: heavyUrl(server), connections: 256, durationS: DURATION_S, body: heavyBody });
  for (let i = 0; i < REPEATS; i++) {
    loads.on.push(await run(on));
    loads.off.push(await run(off));
    console.log(
      `  256 clients ${i + 1}/${REPEATS}: batching on ${loads.on[i].reqPerSec.toFixed(0)} req/s, off ${loads.off[i].reqPerSec.toFixed(0)} req/s`,
    );
  }
  await on.stop();
  await off.stop();
  const figures = (l: LoadResult[]) => ({
    reqPerSec: spread(l.map((x) => x.reqPerSec)),
    p99Ms: spread(l.map((x) => x.p99Ms)),
    failed: failedIn(l),
    loads: l,
  });
  return {
    batchingOn: figures(loads.on),
    batchingOff: figures(loads.off),
    ratio: spread(loads.on.map((l, i) => l.reqPerSec / loads.off[i].reqPerSec)),
  };
}

/** Replaces the generated block of docs/PERFORMANCE.md; the prose around it is written by hand. */
function replaceDocBlock(report: string): void {
  const docPath = join(ROOT, 'docs/PERFORMANCE.md');
  const doc = readFileSync(docPath, 'utf8');
  const [before, rest] = doc.split('<!-- bench:start -->');
  const [, after] = rest.split('<!-- bench:end -->');
  writeFileSync(docPath, `${before}<!-- bench:start -->\n${report}\n<!-- bench:end -->${after}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
