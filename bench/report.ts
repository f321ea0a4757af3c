import type { LoadResult, ProbeResult } from './load';
import type { Spread } from './support';

/* The shape of bench/results/<date>.json, and the markdown table printed and written into docs/PERFORMANCE.md. */

export type ContenderKey = 'bare' | 'nestFloor' | 'serviceProd' | 'serviceNoLane' | 'seedFastapi';

/** The servers compared on `POST /predict`, in the order each repeat measures them. */
export const CONTENDERS: Record<ContenderKey, { short: string; label: string }> = {
  bare: { short: 'bare', label: 'bare `node:http` + onnxruntime-node' },
  nestFloor: { short: 'Nest floor', label: 'minimal Nest floor (Express, same session)' },
  serviceProd: {
    short: 'service-prod',
    label: 'service-prod (production; fast lane on, `HTTP_WORKERS` default)',
  },
  serviceNoLane: { short: 'no lane', label: 'service, `FAST_LANE_ENABLED=false`, `HTTP_WORKERS=1`' },
  seedFastapi: { short: 'seed', label: 'seed FastAPI (uvicorn `--workers 2`)' },
};

/** One load on `POST /predict` and the server CPU it cost. */
export interface PredictRun {
  load: LoadResult;
  /** (utime + stime of the server's process tree during the load) ÷ responses received, in µs. */
  cpuUsPerRequest: number;
}

/** One repeat of one server: 32 then 64 connections, and the tree's RSS after both. */
export interface ContenderRepeat {
  at32: PredictRun;
  at64: PredictRun;
  rssMb: number;
}

export interface ContenderFigures {
  reqPerSec32: Spread;
  reqPerSec64: Spread;
  p50Ms64: Spread;
  p99Ms64: Spread;
  cpuUsPerRequest32: Spread;
  cpuUsPerRequest64: Spread;
  rssMb: Spread;
  /** Failed requests (non-2xx, socket errors, timeouts) over every load of this server. */
  failed: number;
  repeats: ContenderRepeat[];
}

/** Rows a second of one protocol's 32-row requests, against raw session.run in the same repeat. */
export interface BatchFigures {
  rowsPerSec: Spread;
  /** rows/s ÷ raw session.run rows/s, per repeat. */
  ratio: Spread;
  p99Ms: Spread;
  failed: number;
  loads: LoadResult[];
}

export interface BenchResults {
  date: string;
  loadGenerator: { name: string; version: string };
  machine: { cpus: number; model: string; node: string };
  settings: { repeats: number; durationSeconds: number; heavyModel: object; seedFastapiDir: string };
  predict: {
    /** In measuring order; the seed is absent when it could not run. */
    servers: Partial<Record<ContenderKey, ContenderFigures>>;
    seedNotMeasured?: string;
    /** service-prod req/s ÷ seed req/s at 64 connections, per repeat. */
    serviceVsSeed?: Spread;
    /** CPU µs/request at 64 connections ÷ the bare server's, per repeat. */
    cpuVsBare: { serviceProd: Spread; serviceNoLane: Spread; nestFloor: Spread };
  };
  kserveBatch32: {
    rowsPerSec: Spread;
    rawRowsPerSec: Spread;
    ratio: Spread;
    /** The same load on a service with PREDICTION_LOG_ENABLED=false: a reading, not a goal. */
    withoutPredictionLog: { rowsPerSec: Spread; ratio: Spread; loads: LoadResult[] };
    p99Ms: Spread;
    failed: number;
    loads: LoadResult[];
    raw: number[];
  };
  /** The Open Inference Protocol (V2) over REST, the KServe load's 32 rows at 16 connections. */
  openInferenceBatch32: {
    rawRowsPerSec: Spread;
    /** Tensor data as JSON in the request and the response. */
    restJson: BatchFigures;
    /** Triton's binary tensor data extension, request and response (what tritonclient.http sends by default). */
    restBinary: BatchFigures;
    /** ModelInfer over gRPC with raw_input_contents (raw outputs back), as Triton's gRPC client sends it. */
    grpc: BatchFigures;
    /** The binary requests on bench/bare-v2-server.ts: node:http and session.run alone, one process per core. */
    bareRest: BatchFigures;
    /** The same calls on bench/bare-grpc-server.ts: grpc-js and session.run alone, one process per core. */
    bareGrpc: BatchFigures;
    /** The same calls on bench/bare-h2-grpc-server.ts: node:http2 without grpc-js, one process per core. */
    bareHttp2: BatchFigures;
    raw: number[];
  };
  healthUnderHeavyLoad: {
    workerThreads: { p99Ms: Spread; failed: number; probes: ProbeResult[]; loads: LoadResult[] };
    mainThread: { p99Ms: Spread; failed: number; probes: ProbeResult[]; loads: LoadResult[] };
  };
  heavy256: {
    batchingOn: { reqPerSec: Spread; p99Ms: Spread; failed: number; loads: LoadResult[] };
    batchingOff: { reqPerSec: Spread; p99Ms: Spread; failed: number; loads: LoadResult[] };
    ratio: Spread;
  };
  startup: { readyMs: Spread; idleRssMb: Spread; raw: { readyMs: number[]; idleRssMb: number[] } };
}

/** `median (min–max)`, or just the value when every repeat gave the same (one repeat). */
function f(s: Spread, digits = 0): string {
  const median = s.median.toFixed(digits);
  const [min, max] = [s.min.toFixed(digits), s.max.toFixed(digits)];
  return min === max ? median : `${median} (${min}–${max})`;
}

/** Milliseconds: one decimal below 10 ms, where whole milliseconds would hide the differences. */
const ms = (s: Spread) => f(s, s.median < 10 ? 1 : 0);

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');

export function renderReport(r: BenchResults): string {
  return [...header(r), '', ...goalsTable(r), '', ...serverTable(r)].join('\n');
}

function header(r: BenchResults): string[] {
  const lines = [
    `Measured ${r.date} with ${r.loadGenerator.name} ${r.loadGenerator.version}${r.loadGenerator.name === 'wrk' ? ' (1 thread)' : ''}, ` +
      `Node ${r.machine.node}, ${r.machine.cpus} × ${r.machine.model}, on 127.0.0.1; ` +
      `median (min–max) of ${r.settings.repeats} run(s) of ${r.settings.durationSeconds} s per figure.`,
  ];
  if (r.predict.seedNotMeasured) lines.push('', `Seed FastAPI not measured: ${r.predict.seedNotMeasured}.`);
  return lines;
}

function goalsTable(r: BenchResults): string[] {
  const { servers, serviceVsSeed, cpuVsBare } = r.predict;
  const prod = servers.serviceProd!;
  const seed = servers.seedFastapi;
  const { kserveBatch32: k, openInferenceBatch32: v2, healthUnderHeavyLoad: h, heavy256: b, startup: s } = r;

  const goal1 = seed
    ? `service-prod ${f(prod.reqPerSec64)} req/s, p99 ${ms(prod.p99Ms64)} ms (${prod.failed} failed); seed ${f(seed.reqPerSec64)} req/s, p99 ${ms(seed.p99Ms64)} ms (${seed.failed} failed); ratio ${f(serviceVsSeed!, 2)}`
    : `service-prod ${f(prod.reqPerSec64)} req/s, p99 ${ms(prod.p99Ms64)} ms (${prod.failed} failed); seed not measured`;
  const goal1Met = serviceVsSeed
    ? serviceVsSeed.median >= 1.5 && prod.p99Ms64.median < 50 && prod.failed === 0
    : undefined;
  const cpuEach = (Object.keys(CONTENDERS) as ContenderKey[])
    .flatMap((key) => (servers[key] ? [`${CONTENDERS[key].short} ${f(servers[key].cpuUsPerRequest64)}`] : []))
    .join(', ');
  const goal2 = `service-prod ${f(cpuVsBare.serviceProd, 2)}× bare (no lane ${f(cpuVsBare.serviceNoLane, 2)}×, Nest floor ${f(cpuVsBare.nestFloor, 2)}×); µs/request @64: ${cpuEach}`;
  const goal3 = `${f(k.rowsPerSec)} rows/s vs raw \`session.run\` ${f(k.rawRowsPerSec)} rows/s; ratio ${f(k.ratio, 2)}; p99 ${ms(k.p99Ms)} ms; ${k.failed} failed. Reading, not the goal: with the prediction log off ${f(k.withoutPredictionLog.rowsPerSec)} rows/s, ratio ${f(k.withoutPredictionLog.ratio, 2)}`;
  const batch = (x: BatchFigures) =>
    `${f(x.rowsPerSec)} rows/s, ratio ${f(x.ratio, 2)}, p99 ${ms(x.p99Ms)} ms, ${x.failed} failed`;
  const goal3b = `binary tensors ${batch(v2.restBinary)}; raw \`session.run\` ${f(v2.rawRowsPerSec)} rows/s. Readings, not the goal: JSON tensors ${batch(v2.restJson)}; the bare node:http server (\`bench/bare-v2-server.ts\`: binary tensors and \`session.run\` alone, one process per core) ${batch(v2.bareRest)}`;
  const goal4a = `worker threads ${ms(h.workerThreads.p99Ms)} ms (${h.workerThreads.failed} failed probes); everything on the main thread (INFERENCE_WORKERS=0) ${ms(h.mainThread.p99Ms)} ms`;
  const goal4b = `on ${f(b.batchingOn.reqPerSec)} req/s, p99 ${ms(b.batchingOn.p99Ms)} ms (${b.batchingOn.failed} failed); off ${f(b.batchingOff.reqPerSec)} req/s, p99 ${ms(b.batchingOff.p99Ms)} ms (${b.batchingOff.failed} failed); ratio ${f(b.ratio, 2)}`;
  const goal4c = `${f(s.readyMs)} ms (default model only); idle RSS ${f(s.idleRssMb)} MB`;

  return [
    '| # | goal | figure | result |',
    '| --- | --- | --- | --- |',
    `| 1 | \`POST /predict\`, 1 row, 64 connections: service-prod ≥ 1.5× seed FastAPI (2 workers) req/s, p99 < 50 ms, 0 failed | ${goal1} | ${verdict(goal1Met)} |`,
    `| 2 | server CPU per \`/predict\` request (whole process tree, 64 connections) ≤ 3× the bare server's (ratio per repeat), 0 failed | ${goal2} | ${verdict(cpuVsBare.serviceProd.median <= 3 && prod.failed === 0)} |`,
    `| 3 | KServe, 32 rows per request, 16 connections: ≥ 0.3× raw \`session.run\` rows/s (batch 32) | ${goal3} | ${verdict(k.ratio.median >= 0.3 && k.failed === 0)} |`,
    `| 3b | Open Inference Protocol V2 REST, 32 rows per request, 16 connections, Triton binary tensor data in and out: ≥ 0.5× raw \`session.run\` rows/s (batch 32) | ${goal3b} | ${verdict(v2.restBinary.ratio.median >= 0.5 && v2.restBinary.failed === 0)} |`,
    `| 3c | Open Inference Protocol V2 gRPC \`ModelInfer\`, 32 rows as raw contents, 16 connections: ≥ 0.5× raw \`session.run\` rows/s (batch 32) | ${batch(v2.grpc)}. Readings, not the goal: the bare grpc-js server (\`bench/bare-grpc-server.ts\`: grpc-js and \`session.run\` alone, one process per core) ${batch(v2.bareGrpc)}; the bare node:http2 server (\`bench/bare-h2-grpc-server.ts\`: unary calls framed by hand, no grpc-js) ${batch(v2.bareHttp2)} | ${verdict(v2.grpc.ratio.median >= 0.5 && v2.grpc.failed === 0)} |`,
    `| 4a | \`/health\` p99 < 50 ms while 64 connections saturate the heavy model | ${goal4a} | ${verdict(h.workerThreads.p99Ms.median < 50 && h.workerThreads.failed === 0)} |`,
    `| 4b | 256 one-row clients on the heavy model: batching (BATCH_MAX_SIZE 64) ≥ 1.5× no batching (1) | ${goal4b} | ${verdict(b.ratio.median >= 1.5 && b.batchingOn.failed === 0)} |`,
    `| 4c | start → ready (\`GET /ready\` 200) < 2 s | ${goal4c} | ${verdict(s.readyMs.median < 2000)} |`,
  ];
}

function serverTable(r: BenchResults): string[] {
  const rows = (Object.keys(CONTENDERS) as ContenderKey[]).flatMap((key) => {
    const s = r.predict.servers[key];
    if (!s) return [`| ${CONTENDERS[key].label} | not measured | | | | | |`];
    return [
      `| ${CONTENDERS[key].label} | ${f(s.reqPerSec32)} | ${f(s.reqPerSec64)} | ${ms(s.p50Ms64)} / ${ms(s.p99Ms64)} | ${f(s.cpuUsPerRequest64)} | ${f(s.rssMb)} | ${s.failed} |`,
    ];
  });
  return [
    "`POST /predict`, one 10-feature row; CPU is utime + stime of the server's whole process tree during the 64-connection load ÷ responses; RSS summed over the tree after the loads.",
    '',
    '| server | req/s @32 | req/s @64 | p50 / p99 @64 (ms) | CPU µs/request @64 | RSS MB | failed |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}
