import autocannon from 'autocannon';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { API_KEY, findOrInstall, sleep } from './support';

/*
 * Load generators. wrk (C, one thread) is the default: it costs the shared 2 cores far less than a Node load
 * generator would, so more of them is left to the server. autocannon (a devDependency) stands in when wrk is
 * missing and cannot be installed.
 */

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /**
   * Body of a POST: JSON of this value, or a RawBody's bytes as they are. The API key header is sent with every POST
   * (servers without keys ignore it).
   */
  body: unknown;
}

/** A body sent byte for byte, with its own headers (Content-Type among them): Triton's binary tensor data, say. */
export class RawBody {
  constructor(
    readonly bytes: Buffer,
    readonly headers: Readonly<Record<string, string>>,
  ) {}
}

export interface LoadResult {
  /** Responses received, whatever their status. */
  requests: number;
  durationS: number;
  /** Successful (non-failed) responses per second: a server answering errors fast must not look fast. */
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's error counters; `status` is responses with status ≥ 400. */
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Every error counter summed: requests that did not get a successful answer. */
  failed: number;
}

export interface LoadGenerator {
  name: 'wrk' | 'autocannon';
  version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/** How long a single request may take before it counts as a timeout (the 256-client load needs seconds). */
const REQUEST_TIMEOUT_S = 10;

/** wrk when it is on PATH or can be installed; autocannon otherwise, said on one line. */
export function chooseLoadGenerator(scratchDir: string): LoadGenerator {
  const wrk = findOrInstall('wrk', 'wrk');
  if (wrk) return new Wrk(wrk, scratchDir);
  console.log(
    'bench: wrk is not installed and could not be installed; falling back to autocannon (in-process)',
  );
  return new Autocannon();
}

const RESULT_MARKER = 'BENCH_RESULT ';

/**
 * The Lua script wrk runs: the request, and a `done` hook that prints one JSON line with the figures, so they are
 * parsed from that line instead of from wrk's human-readable report (whose units change with magnitude). A RawBody
 * is read from `bodyFile` in binary mode: bytes in a Lua string literal would not survive (a long string turns
 * CR LF into LF, and the bytes may close it).
 */
function wrkScript(body: unknown, bodyFile: string): string {
  const long = (text: string) => `[==[${text}]==]`; // Lua long string: no escaping needed for JSON
  const request =
    body instanceof RawBody
      ? [
          `local file = assert(io.open(${long(bodyFile)}, "rb"))`,
          'wrk.body = file:read("*a")',
          'file:close()',
          ...Object.entries(body.headers).map(
            // `headers[[==[` would open a long string: the name goes in as a quoted string.
            ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${long(value)}`,
          ),
        ]
      : [`wrk.body = ${long(JSON.stringify(body))}`, 'wrk.headers["Content-Type"] = "application/json"'];
  return `wrk.method = "POST"
${request.join('\n')}
wrk.headers["Authorization"] = ${long(`Bearer ${API_KEY}`)}

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${RESULT_MARKER}{"requests":%.0f,"duration_us":%.0f,"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},"latency_us":{"p50":%.0f,"p99":%.0f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

interface WrkSummary {
  requests: number;
  duration_us: number;
  errors: LoadResult['errors'];
  latency_us: { p50: number; p99: number };
}

class Wrk implements LoadGenerator {
  readonly name = 'wrk';
  readonly version: string;
  private scripts = 0;

  constructor(
    private readonly path: string,
    private readonly scratchDir: string,
  ) {
    // `wrk -v` prints "wrk <version> [epoll] Copyright …" and exits 1.
    const banner = spawnSync(path, ['-v'], { encoding: 'utf8' }).stdout ?? '';
    this.version = /^wrk (\S+)/.exec(banner)?.[1] ?? 'unknown version';
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const script = join(this.scratchDir, `wrk-${++this.scripts}.lua`);
    const bodyFile = join(this.scratchDir, `wrk-${this.scripts}.body`);
    if (spec.body instanceof RawBody) writeFileSync(bodyFile, spec.body.bytes);
    writeFileSync(script, wrkScript(spec.body, bodyFile));
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--latency'];
    args.push('--timeout', `${REQUEST_TIMEOUT_S}s`, '-s', script, spec.url);
    const { stdout, stderr, code } = await runBounded(
      this.path,
      args,
      (spec.durationS + REQUEST_TIMEOUT_S + 10) * 1000,
    );
    const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
    if (code !== 0 || !line)
      throw new Error(`wrk ${args.join(' ')} failed (exit ${code}): ${stderr || stdout}`);
    const summary = JSON.parse(line.slice(RESULT_MARKER.length)) as WrkSummary;
    const durationS = summary.duration_us / 1e6;
    const failed = Object.values(summary.errors).reduce((a, b) => a + b, 0);
    return {
      requests: summary.requests,
      durationS,
      reqPerSec: (summary.requests - summary.errors.status) / durationS,
      p50Ms: summary.latency_us.p50 / 1000,
      p99Ms: summary.latency_us.p99 / 1000,
      errors: summary.errors,
      failed,
    };
  }
}

const running = new Set<ChildProcess>();
// A load generator must not outlive the bench, whichever way the bench ends.
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Runs a command to completion, killing it if it outlives `timeoutMs`: every load is bounded in time. */
export function runBounded(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      ok({ stdout, stderr, code });
    });
  });
}

class Autocannon implements LoadGenerator {
  readonly name = 'autocannon';
  readonly version = (
    JSON.parse(readFileSync(require.resolve('autocannon/package.json'), 'utf8')) as { version: string }
  ).version;

  async run(spec: LoadSpec): Promise<LoadResult> {
    const result = await autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationS,
      timeout: REQUEST_TIMEOUT_S,
      method: 'POST',
      ...(spec.body instanceof RawBody
        ? { headers: { ...spec.body.headers, authorization: `Bearer ${API_KEY}` }, body: spec.body.bytes }
        : {
            headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
            body: JSON.stringify(spec.body),
          }),
    });
    // autocannon's `errors` include its timeouts; its non2xx also counts 3xx, which these servers never send.
    const errors = {
      connect: 0,
      read: result.errors - result.timeouts,
      write: 0,
      status: result.non2xx,
      timeout: result.timeouts,
    };
    const requests = result.requests.total;
    return {
      requests,
      durationS: result.duration,
      reqPerSec: (requests - result.non2xx) / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors,
      failed: result.errors + result.non2xx,
    };
  }
}

export interface ProbeResult {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

/**
 * `GET url` one request at a time, `intervalMs` apart, for `durationS`: what a readiness or liveness probe sees.
 * A paced loop in this process costs the server and the shared cores far less than a second load generator.
 */
export async function probe(url: string, durationS: number, intervalMs = 10): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let failed = 0;
  const deadline = performance.now() + durationS * 1000;
  try {
    while (performance.now() < deadline) {
      const started = performance.now();
      const ok = await getOk(url, agent);
      latencies.push(performance.now() - started);
      if (!ok) failed++;
      await sleep(intervalMs);
    }
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  return { samples: latencies.length, p50Ms: percentile(0.5), p99Ms: percentile(0.99), failed };
}

function getOk(url: string, agent: Agent): Promise<boolean> {
  return new Promise((ok) => {
    const req = request(url, { agent, timeout: REQUEST_TIMEOUT_S * 1000 }, (res) => {
      res.resume();
      res.once('end', () => ok(res.statusCode === 200));
      res.once('error', () => ok(false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => ok(false));
    req.end();
  });
}
