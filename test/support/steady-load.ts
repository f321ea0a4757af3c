/**
 * Several clients sending prediction requests back to back over kept-alive connections until told to stop, each
 * answer kept with the version it names and the values it carries: what a swap of model versions must not disturb.
 */

/** One answer, as a hot-reload spec judges it. */
export interface LoadAnswer {
  route: string;
  status: number;
  /** The version the answer names (`version`, `model_version`). */
  version?: string;
  /** The values it carries, one per row sent. */
  values?: number[];
  /** What came back when it was not a 200. */
  body?: string;
  /** When it was answered (performance.now()). */
  at: number;
}

interface Route {
  path: string;
  body: string;
  read(body: Record<string, unknown>): { version: string; values: number[] };
}

/** The three REST routes a regressor answers on, for `model` (served as the default model too). */
function routes(model: string, rows: number[][], inputName: string): Route[] {
  return [
    {
      path: '/predict',
      body: JSON.stringify({ features: rows[0] }),
      read: (body) => ({ version: String(body.version), values: [Number(body.prediction)] }),
    },
    {
      path: `/v1/models/${model}:predict`,
      body: JSON.stringify({ instances: rows }),
      read: (body) => ({
        version: String(body.model_version),
        values: (body.predictions as Array<{ value: number }>).map((p) => p.value),
      }),
    },
    {
      path: `/v2/models/${model}/infer`,
      body: JSON.stringify({
        inputs: [
          { name: inputName, shape: [rows.length, rows[0].length], datatype: 'FP32', data: rows.flat() },
        ],
      }),
      read: (body) => ({
        version: String(body.model_version),
        values: (body.outputs as Array<{ data: number[] }>)[0].data,
      }),
    },
  ];
}

export class SteadyLoad {
  readonly answers: LoadAnswer[] = [];
  private stopped = false;
  private readonly running: Array<Promise<void>>;
  private readonly startedAt = performance.now();

  /** Starts `clients` clients, each cycling through the routes. `rows[0]` is what /predict sends. */
  constructor(
    base: string,
    {
      model,
      rows,
      clients = 4,
      inputName = 'float_input',
      headers = {},
    }: {
      model: string;
      rows: number[][];
      clients?: number;
      inputName?: string;
      headers?: Record<string, string>;
    },
  ) {
    const all = routes(model, rows, inputName);
    this.running = Array.from({ length: clients }, (_, client) => this.client(base, all, client, headers));
  }

  /** Answers per second so far. */
  get rate(): number {
    return this.answers.length / ((performance.now() - this.startedAt) / 1000);
  }

  /** The version the last `count` answers name, if they all name the same one. */
  settledOn(count = 20): string | undefined {
    const last = this.answers.slice(-count);
    if (last.length < count) return undefined;
    const versions = new Set(last.map((a) => a.version));
    return versions.size === 1 ? last[0].version : undefined;
  }

  async stop(): Promise<LoadAnswer[]> {
    this.stopped = true;
    await Promise.all(this.running);
    return this.answers;
  }

  private async client(
    base: string,
    all: Route[],
    offset: number,
    headers: Record<string, string>,
  ): Promise<void> {
    for (let i = offset; !this.stopped; i++) {
      const route = all[i % all.length];
      try {
        const res = await fetch(`${base}${route.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: route.body,
        });
        const text = await res.text();
        const at = performance.now();
        if (res.status !== 200) {
          this.answers.push({ route: route.path, status: res.status, body: text, at });
          continue;
        }
        this.answers.push({
          route: route.path,
          status: 200,
          at,
          ...route.read(JSON.parse(text) as Record<string, unknown>),
        });
      } catch (error) {
        // A reset or a refused connection: as much a failure as a 5xx.
        this.answers.push({ route: route.path, status: 0, body: String(error), at: performance.now() });
      }
    }
  }
}

/** Polls `condition` every 20 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15000,
): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}
