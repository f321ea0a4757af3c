import { adaptModel } from '@app/inference/onnx';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { torchMlp, writeModel } from '../test/support/onnx-model-builder';
import {
  DURATION_S,
  GOLDEN,
  HEAVY,
  Load,
  load,
  probe,
  rawRowsPerSecond,
  repeat,
  REPEATS,
  ROOT,
  ROW,
  Server,
  sleep,
  Spread,
  spread,
} from './support';

/*
 * `npm run bench`: the service in its production configuration against a bare node:http + onnxruntime-node
 * server, measured in the same run on loopback with autocannon. Prints a table, writes bench/results/<date>.json
 * and the table in docs/PERFORMANCE.md. Every figure is the median of REPEATS runs, with min and max beside it.
 */

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ml-inference-bench-'));
  const repository = join(work, 'models');
  mkdirSync(join(repository, 'seed_gbc/1'), { recursive: true });
  copyFileSync(join(ROOT, 'models/seed_gbc/1/model.onnx'), join(repository, 'seed_gbc/1/model.onnx'));
  copyFileSync(join(ROOT, 'models/seed_gbc/1/model.json'), join(repository, 'seed_gbc/1/model.json'));
  // Start-up is measured on the default model alone; the heavy model joins for the other scenarios.
  const defaultOnly = join(work, 'default-only');
  mkdirSync(join(defaultOnly, 'seed_gbc/1'), { recursive: true });
  for (const file of ['model.onnx', 'model.json']) {
    copyFileSync(join(repository, 'seed_gbc/1', file), join(defaultOnly, 'seed_gbc/1', file));
  }
  const heavy = torchMlp({ ...HEAVY, name: HEAVY.name, seed: 42 });
  await writeModel(repository, heavy);
  const adapted = adaptModel(readFileSync(join(repository, 'seed_gbc/1/model.onnx'))).bytes;
  const barePath = join(work, 'seed_gbc.adapted.onnx');
  writeFileSync(barePath, adapted);
  const logFile = join(work, 'service.log');
  const heavyRow = Array.from({ length: HEAVY.featureCount }, (_, i) => Math.sin(i));
  console.log(`bench: ${REPEATS} × ${DURATION_S}s per figure; work dir ${work}; service logs ${logFile}`);

  // 5. Start-up and memory (also gives the first service for 1–3).
  const starts: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const server = await Server.service(defaultOnly, logFile);
    starts.push(server.readyMs);
    await sleep(500);
    idle.push(server.rssMb);
    await server.stop();
  }

  // 1. POST /predict, one row, 64 connections: the service against the bare server.
  const service = await Server.service(repository, logFile);
  const bare = await Server.baseline('bare-server.ts', barePath);
  const nestFloor = await Server.baseline('nest-floor.ts', barePath);
  const predictService: Load[] = [];
  const predictBare: Load[] = [];
  const predictNest: Load[] = [];
  for (let i = 0; i < REPEATS; i++) {
    predictBare.push(await load(`${bare.base}/predict`, 64, { features: ROW }));
    predictNest.push(await load(`${nestFloor.base}/predict`, 64, { features: ROW }));
    predictService.push(await load(`${service.base}/predict`, 64, { features: ROW }));
  }
  const rssUnderLoad = service.rssMb;
  await bare.stop();
  await nestFloor.stop();

  // 2. KServe, 32 rows per request: rows/s against raw in-process session.run at batch 32.
  const batchBody = { instances: GOLDEN.inputs.slice(0, 32) };
  const kserve = await repeat(REPEATS, () =>
    load(`${service.base}/v1/models/seed_gbc:predict`, 16, batchBody),
  );
  const raw = await repeat(REPEATS, () => rawRowsPerSecond(adapted, 32, 3));

  // 3. /health while the heavy model is under load: on worker threads, and all on the main thread.
  const healthUnderLoad = async (server: Server) =>
    repeat(REPEATS, async () => {
      const [, health] = await Promise.all([
        load(`${server.base}/v1/models/${HEAVY.name}:predict`, 64, { instances: [heavyRow] }),
        probe(`${server.base}/health`, DURATION_S - 1),
      ]);
      return health;
    });
  const healthWorkers = await healthUnderLoad(service);
  await service.stop();
  const mainThread = await Server.service(repository, logFile, { INFERENCE_WORKERS: '0' });
  const healthMainThread = await healthUnderLoad(mainThread);
  await mainThread.stop();

  // 4. 256 one-row clients on the heavy model, batching on and off.
  const heavyLoad = async (env: Record<string, string>) => {
    const server = await Server.service(repository, logFile, env);
    const results = await repeat(REPEATS, () =>
      load(`${server.base}/v1/models/${HEAVY.name}:predict`, 256, { instances: [heavyRow] }),
    );
    await server.stop();
    return results;
  };
  const batchingOn = await heavyLoad({ BATCH_MAX_SIZE: '64' });
  const batchingOff = await heavyLoad({ BATCH_MAX_SIZE: '1' });

  const median = (loads: Load[], key: keyof Load) => spread(loads.map((l) => l[key]));
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    settings: { repeats: REPEATS, durationSeconds: DURATION_S, heavyModel: HEAVY },
    predict: {
      service: {
        reqPerSec: median(predictService, 'reqPerSec'),
        p50: median(predictService, 'p50'),
        p99: median(predictService, 'p99'),
      },
      bare: {
        reqPerSec: median(predictBare, 'reqPerSec'),
        p50: median(predictBare, 'p50'),
        p99: median(predictBare, 'p99'),
      },
      nestFloor: {
        reqPerSec: median(predictNest, 'reqPerSec'),
        p50: median(predictNest, 'p50'),
        p99: median(predictNest, 'p99'),
      },
      nestFloorRatio: spread(predictNest.map((s, i) => s.reqPerSec / predictBare[i].reqPerSec)),
      ratio: spread(predictService.map((s, i) => s.reqPerSec / predictBare[i].reqPerSec)),
      failures: predictService.reduce((n, l) => n + l.non2xx + l.errors, 0),
    },
    kserveBatch32: {
      rowsPerSec: spread(kserve.map((l) => l.reqPerSec * 32)),
      rawRowsPerSec: spread(raw),
      ratio: spread(kserve.map((l, i) => (l.reqPerSec * 32) / raw[i])),
      p99: median(kserve, 'p99'),
      failures: kserve.reduce((n, l) => n + l.non2xx + l.errors, 0),
    },
    healthUnderHeavyLoad: {
      workerThreads: median(healthWorkers, 'p99'),
      mainThread: median(healthMainThread, 'p99'),
    },
    heavy256: {
      batchingOn: {
        reqPerSec: median(batchingOn, 'reqPerSec'),
        p99: median(batchingOn, 'p99'),
        failures: batchingOn.reduce((n, l) => n + l.non2xx + l.errors, 0),
      },
      batchingOff: {
        reqPerSec: median(batchingOff, 'reqPerSec'),
        p99: median(batchingOff, 'p99'),
        failures: batchingOff.reduce((n, l) => n + l.non2xx + l.errors, 0),
      },
      ratio: spread(batchingOn.map((l, i) => l.reqPerSec / batchingOff[i].reqPerSec)),
    },
    startup: { readyMs: spread(starts), idleRssMb: spread(idle), rssUnderLoadMb: rssUnderLoad },
  };

  const day = results.date.slice(0, 10);
  writeFileSync(join(ROOT, 'bench/results', `${day}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const table = renderTable(results);
  console.log(table);
  const docPath = join(ROOT, 'docs/PERFORMANCE.md');
  const doc = readFileSync(docPath, 'utf8');
  const [before, rest] = doc.split('<!-- bench:start -->');
  const [, after] = rest.split('<!-- bench:end -->');
  writeFileSync(docPath, `${before}<!-- bench:start -->\n${table}\n<!-- bench:end -->${after}`);
}

function renderTable(r: {
  date: string;
  machine: { cpus: number; model?: string; node: string };
  settings: { repeats: number; durationSeconds: number };
  predict: {
    service: Record<string, Spread>;
    bare: Record<string, Spread>;
    nestFloor: Record<string, Spread>;
    nestFloorRatio: Spread;
    ratio: Spread;
    failures: number;
  };
  kserveBatch32: { rowsPerSec: Spread; rawRowsPerSec: Spread; ratio: Spread; p99: Spread; failures: number };
  healthUnderHeavyLoad: { workerThreads: Spread; mainThread: Spread };
  heavy256: {
    batchingOn: { reqPerSec: Spread; p99: Spread; failures: number };
    batchingOff: { reqPerSec: Spread; p99: Spread; failures: number };
    ratio: Spread;
  };
  startup: { readyMs: Spread; idleRssMb: Spread; rssUnderLoadMb: number };
}): string {
  const f = (s: Spread, digits = 0) =>
    `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  return [
    `Measured ${r.date} on ${r.machine.cpus} × ${r.machine.model ?? 'CPU'}, Node ${r.machine.node}; median (min–max) of ${r.settings.repeats} runs of ${r.settings.durationSeconds} s.`,
    '',
    '| # | scenario | figure | goal | result |',
    '| --- | --- | --- | --- | --- |',
    `| 1 | \`POST /predict\`, 1 row, 64 connections | service ${f(r.predict.service.reqPerSec)} req/s, p50 ${f(r.predict.service.p50)} ms, p99 ${f(r.predict.service.p99)} ms; bare ${f(r.predict.bare.reqPerSec)} req/s, p99 ${f(r.predict.bare.p99)} ms; ratio ${f(r.predict.ratio, 2)}; ${r.predict.failures} failed. Framework floor (minimal Nest, same session, nothing else): ${f(r.predict.nestFloor.reqPerSec)} req/s, p99 ${f(r.predict.nestFloor.p99)} ms, ${f(r.predict.nestFloorRatio, 2)}× bare | ≥ 0.7× bare, p99 < 100 ms | ${verdict(r.predict.ratio.median >= 0.7 && r.predict.service.p99.median < 100)} |`,
    `| 2 | KServe, 32 rows per request, 16 connections | ${f(r.kserveBatch32.rowsPerSec)} rows/s vs raw \`session.run\` ${f(r.kserveBatch32.rawRowsPerSec)} rows/s; ratio ${f(r.kserveBatch32.ratio, 2)}; p99 ${f(r.kserveBatch32.p99)} ms; ${r.kserveBatch32.failures} failed | ≥ 0.5× raw | ${verdict(r.kserveBatch32.ratio.median >= 0.5)} |`,
    `| 3 | \`/health\` p99 while 64 connections load the heavy model | worker threads ${f(r.healthUnderHeavyLoad.workerThreads)} ms; everything on the main thread (INFERENCE_WORKERS=0) ${f(r.healthUnderHeavyLoad.mainThread)} ms | < 50 ms | ${verdict(r.healthUnderHeavyLoad.workerThreads.median < 50)} |`,
    `| 4 | 256 one-row clients, heavy model | batching on ${f(r.heavy256.batchingOn.reqPerSec)} req/s, p99 ${f(r.heavy256.batchingOn.p99)} ms (${r.heavy256.batchingOn.failures} failed); off ${f(r.heavy256.batchingOff.reqPerSec)} req/s, p99 ${f(r.heavy256.batchingOff.p99)} ms (${r.heavy256.batchingOff.failures} failed); ratio ${f(r.heavy256.ratio, 2)} | ≥ 1.5× | ${verdict(r.heavy256.ratio.median >= 1.5)} |`,
    `| 5 | start-up and memory | start to ready (default model) ${f(r.startup.readyMs)} ms; idle RSS ${f(r.startup.idleRssMb)} MB; RSS after scenario 1 ${r.startup.rssUnderLoadMb.toFixed(0)} MB | ready < 2 s | ${verdict(r.startup.readyMs.median < 2000)} |`,
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
