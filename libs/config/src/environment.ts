// The service's environment as one schema: every variable with its default, bounds and meaning, validated at boot
// (validateEnvironment) and checked against the README's table by its spec. Longer than 300 lines because there are
// about 60 variables, not because it does several jobs; splitting it would scatter the one contract.
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsNumber,
  IsUrl,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

/** Environment strings are not booleans: only the words below are accepted, anything else fails validation. */
function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(word)) return true;
  if (['false', '0', 'no'].includes(word)) return false;
  return value;
}

/** Numbers come in as strings; a value that is not a whole decimal number is left as a string so @IsInt names it. */
function toInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
}

/** A whole number from the environment, within [min, max] (the string form is converted first). */
function EnvInt(min: number, max?: number): PropertyDecorator {
  return (target, key) => {
    Transform(toInteger)(target, key);
    IsInt()(target, key);
    Min(min)(target, key);
    if (max !== undefined) Max(max)(target, key);
  };
}

/** A boolean from the environment: true/1/yes or false/0/no. */
function EnvBool(): PropertyDecorator {
  return (target, key) => {
    Transform(toBoolean)(target, key);
    IsBoolean()(target, key);
  };
}

/** Comma-separated keys (spaces around them and empty entries ignored), each at least 16 characters. */
function EnvKeyList(): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry.length > 0)
        : value,
    )(target, key);
    IsString({ each: true })(target, key);
    MinLength(16, { each: true, message: 'each key must be at least 16 characters' })(target, key);
  };
}

let packageVersion: string | undefined;

/**
 * The version in the nearest package.json above this file: the repository root both from libs/config/src (ts-node,
 * Jest) and from dist/libs/config/src (built), since the build writes no package.json into dist/. Read once.
 */
function versionFromPackageJson(): string {
  if (packageVersion !== undefined) return packageVersion;
  packageVersion = '0.0.0-unknown';
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        version?: unknown;
      };
      if (typeof version === 'string') packageVersion = version;
      break;
    } catch {
      if (dirname(dir) === dir) break;
    }
  }
  return packageVersion;
}

function toNumber({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
    ? Number(value)
    : value;
}

function toList({ value }: { value: unknown }): unknown {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim().toLowerCase())
        .filter((item) => item.length > 0)
    : value;
}

function emptyToUndefined({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/**
 * The one schema of the service's environment. Every setting has a default that works on a laptop;
 * `validateEnvironment` turns the raw environment into an instance of this class or names every bad variable.
 */
export class Environment {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @EnvInt(0, 65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** `service` on every log line. */
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'must be letters, digits, ".", "_" or "-"' })
  SERVICE_NAME = 'ml-inference';

  /** `version` on every log line and in the OpenAPI document; defaults to package.json's version. */
  @IsString()
  @MinLength(1)
  SERVICE_VERSION: string = versionFromPackageJson();

  /** Human-readable logs for a terminal; JSON lines otherwise. */
  @EnvBool()
  LOG_PRETTY = false;

  /**
   * How long log lines may wait to be written together (one write for all the request lines of a few ms, instead
   * of one per request); 0 writes each line at once. Exits, crashes and pino's flush write what waits.
   */
  @EnvInt(0, 1000)
  LOG_FLUSH_MS = 20;

  /** Serve exactly this file; takes precedence over MODEL_REPOSITORY. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  MODEL_PATH?: string = undefined;

  /** Name for MODEL_PATH's model; defaults to the file's stem. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'must be letters, digits, ".", "_" or "-"' })
  MODEL_NAME?: string = undefined;

  @IsString()
  @MinLength(1)
  MODEL_REPOSITORY = './models';

  /**
   * Seconds between rescans of the model repository once the models have loaded (hot reload): a new version folder
   * is loaded, admitted and switched in, a removed one unloaded, a changed model.onnx loaded again. 0 scans only at
   * start. The Helm chart sets it when the models come from a volume.
   */
  @EnvInt(0, 86400)
  MODEL_REPOSITORY_POLL_S = 0;

  /** The model that POST /predict serves; required only when several are loaded. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  DEFAULT_MODEL?: string = undefined;

  /**
   * Refuse model versions that ship no validation.json: with it, no version takes traffic unless its outputs were
   * checked against the training framework's (docs/VALIDATION.md).
   */
  @EnvBool()
  REQUIRE_VALIDATION = false;

  /** Most instances one KServe request may carry. */
  @EnvInt(1, 10000)
  MAX_BATCH_SIZE = 32;

  /** Largest request body, in the units Express understands (e.g. 512kb, 1mb). */
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb)?$/i, { message: 'must be a size such as 1mb, 512kb or 100000' })
  BODY_LIMIT = '1mb';

  /**
   * Deepest nesting of arrays and objects a JSON body may have (the body itself is 1). The prediction contracts need
   * 3 (`{"instances": [[…]]}`); a few thousand levels would overflow the stack of the validation code.
   */
  @EnvInt(3, 1000)
  JSON_MAX_DEPTH = 8;

  /** Comma-separated API keys; several allow rotation without downtime. */
  @EnvKeyList()
  API_KEYS: string[] = [];

  /**
   * Comma-separated keys of the repository API (POST /v2/repository/index, …/load, …/unload), which changes what is
   * served: separate from API_KEYS, whose keys get 403 there. Unset, the repository API is off (403), whatever
   * AUTH_DISABLED says.
   */
  @EnvKeyList()
  ADMIN_API_KEYS: string[] = [];

  /** Explicit opt-out of authentication in production. */
  @EnvBool()
  AUTH_DISABLED = false;

  @EnvBool()
  SWAGGER_ENABLED = true;

  /**
   * Well-formed, authorised requests to POST /predict and POST /v1/models/{name}:predict are answered by a compiled
   * path beneath Express and Nest (same checks, same code, same answers); anything else takes the Nest pipeline.
   * false sends every request through Nest.
   */
  @EnvBool()
  FAST_LANE_ENABLED = true;

  /**
   * After SIGTERM, how long the server goes on answering (readiness already 503, every response closing its
   * connection) before it stops accepting connections: the time endpoints and load balancers take to stop sending.
   * The Helm chart sets it instead of a preStop sleep; 0 stops accepting at once.
   */
  @EnvInt(0, 600000)
  SHUTDOWN_DELAY_MS = 0;

  /**
   * Longest time in-flight requests and the last prediction-log write get once the server has stopped accepting
   * (after SHUTDOWN_DELAY_MS) before the process exits anyway, with code 1.
   */
  @EnvInt(0, 600000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** Longest a client may take to send a request's headers; then 408 and the socket closes (slowloris). */
  @EnvInt(100, 600000)
  HTTP_HEADERS_TIMEOUT_MS = 10000;

  /** Longest a client may take to send a whole request, body included; then 408 and the socket closes. */
  @EnvInt(100, 3600000)
  HTTP_REQUEST_TIMEOUT_MS = 30000;

  /**
   * How long an idle keep-alive connection stays open. Above the idle timeout of the load balancer in front (60 s
   * for most), so the balancer, not the server, closes idle connections and never reuses one the server just closed.
   */
  @EnvInt(0, 3600000)
  HTTP_KEEPALIVE_TIMEOUT_MS = 65000;

  // --- gRPC ---

  /**
   * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, with `grpc.health.v1.Health` for
   * Kubernetes' gRPC probes) on GRPC_PORT, beside the HTTP port; false serves HTTP alone.
   */
  @EnvBool()
  GRPC_ENABLED = true;

  /** The gRPC port, on HOST; the HTTP workers share it as they share PORT. Must differ from PORT. */
  @EnvInt(1, 65535)
  GRPC_PORT = 8081;

  // --- HTTP processes ---

  /**
   * HTTP server processes sharing the port (node:cluster workers under a small primary), so every core serves
   * requests. 1 runs a single process with no primary at all: the value for a pod limited to one CPU.
   */
  @EnvInt(1, 256)
  HTTP_WORKERS: number = availableParallelism();

  /**
   * Set by the primary in the environment of each HTTP worker it forks (0 … HTTP_WORKERS − 1), never by hand. The
   * slot survives restarts: it names the worker's prediction-log file, and worker 0 alone runs the drift schedule.
   */
  @Transform(emptyToUndefined)
  @Transform(toInteger)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(255)
  HTTP_WORKER_INDEX?: number = undefined;

  // --- Inference runtime ---

  /**
   * Worker threads per HTTP process running the slow models' sessions; 0 runs everything on the main thread.
   * Unset: the process's share of the cores, (cores − HTTP_WORKERS) ÷ HTTP_WORKERS and at least 1, so every event
   * loop (HTTP, health probes) keeps a core of its own instead of being preempted by threads busy on every core.
   */
  @Transform(emptyToUndefined)
  @Transform(toInteger)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(256)
  INFERENCE_WORKERS?: number = undefined;

  /** ONNX Runtime intra-op threads per worker session; 0 divides the process's share of the cores between its workers. */
  @EnvInt(0, 256)
  INFERENCE_THREADS = 0;

  /**
   * Models whose warm run on a merged batch takes at most this long run on the main thread: the hop to a worker
   * and back would cost more than the event loop loses. Slower models run on the worker threads.
   */
  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  INFERENCE_INLINE_MAX_MS = 1;

  /** Most rows merged from concurrent requests into one session run. */
  @EnvInt(1, 100000)
  BATCH_MAX_SIZE = 64;

  /** How long a batch may wait for more rows; 0 never waits, it only takes what queued during the previous run. */
  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1000)
  BATCH_MAX_DELAY_MS = 0;

  /** Rows waiting per model beyond which requests are shed with 503 and Retry-After. */
  @EnvInt(1)
  MAX_QUEUE_ROWS = 4096;

  /** Execution providers to try in order, falling back to CPU (e.g. `cuda,cpu`). */
  @Transform(toList)
  @IsIn(['cpu', 'cuda', 'dml', 'coreml', 'webgpu'], { each: true })
  ORT_EXECUTION_PROVIDERS: string[] = ['cpu'];

  // --- Prediction log and drift monitoring ---

  @EnvBool()
  PREDICTION_LOG_ENABLED = true;

  /** One JSONL file per UTC day and replica is written here; replicas may share the volume. */
  @IsString()
  @MinLength(1)
  PREDICTION_LOG_DIR = './data/predictions';

  @EnvInt(1, 3650)
  PREDICTION_LOG_RETENTION_DAYS = 30;

  /**
   * The share of requests whose rows are written to the log, chosen per request (a request is logged whole or not
   * at all). Every row is still counted in the count summaries, so drift over sampled days is exact.
   */
  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  PREDICTION_LOG_SAMPLE_RATE = 1;

  /**
   * Most bytes the prediction-log folder may hold (e.g. 20gb); past it the oldest days' logs are deleted, never
   * today's, and their count summaries kept. Unset: no cap (retention by PREDICTION_LOG_RETENTION_DAYS only).
   */
  @IsOptional()
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, { message: 'must be a size such as 20gb, 512mb or 100000' })
  PREDICTION_LOG_MAX_BYTES?: string;

  /** Longest time a logged prediction waits in memory before it is written. */
  @EnvInt(10, 60000)
  PREDICTION_LOG_FLUSH_MS = 1000;

  @IsString()
  @MinLength(1)
  DRIFT_REPORT_DIR = './data/reports';

  /** When the in-process drift check runs (UTC); default Monday 06:00. */
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression with 5 or 6 fields' })
  DRIFT_CRON = '0 6 * * 1';

  @EnvBool()
  DRIFT_SCHEDULE_ENABLED = true;

  @EnvInt(1, 365)
  DRIFT_WINDOW_DAYS = 7;

  /** Fewer rows than this in the window gives "insufficient data", never an alert. */
  @EnvInt(1)
  DRIFT_MIN_SAMPLES = 200;

  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  DRIFT_PSI_WARN = 0.1;

  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  DRIFT_PSI_ALERT = 0.2;

  /** Without a reference.json, use the first N days of logged traffic as the reference. */
  @Transform(emptyToUndefined)
  @Transform(toInteger)
  @IsOptional()
  @IsInt()
  @Min(1)
  DRIFT_BASELINE_DAYS?: number = undefined;

  /** Slack-compatible webhook called when drift is found. Treated as a secret: URLs often carry a token. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  ALERT_WEBHOOK_URL?: string = undefined;

  @EnvInt(100, 60000)
  ALERT_WEBHOOK_TIMEOUT_MS = 5000;
}

/** Thrown when the environment is invalid; `problems` has one line per bad variable. */
export class EnvironmentValidationError extends Error {
  constructor(readonly problems: string[]) {
    // One self-contained line per bad variable and nothing else: each reads alone in a log aggregator.
    super(problems.map((line) => `invalid environment: ${line}`).join('\n'));
    this.name = 'EnvironmentValidationError';
  }
}

/** Values never echoed back, not even in a start-up error. */
const SECRETS = new Set(['API_KEYS', 'ADMIN_API_KEYS', 'ALERT_WEBHOOK_URL']);

function describe(error: ValidationError): string {
  const reasons = Object.values(error.constraints ?? {});
  const shown =
    error.value === undefined
      ? 'unset'
      : SECRETS.has(error.property)
        ? '<redacted>'
        : JSON.stringify(error.value);
  return `${error.property}=${shown}: ${reasons.join('; ')}`;
}

/** Validates once at boot. Unknown variables are ignored: the process environment holds far more than ours. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = new Set(Object.keys(new Environment()));
  const ours = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => known.has(key) && value !== undefined),
  );
  const env = plainToInstance(Environment, ours);
  const problems = validateSync(env, { whitelist: true }).map(describe);
  if (env.NODE_ENV === 'production' && env.API_KEYS.length === 0 && !env.AUTH_DISABLED) {
    problems.push(
      'API_KEYS=unset: required when NODE_ENV=production; set AUTH_DISABLED=true to serve without authentication',
    );
  }
  if (env.ADMIN_API_KEYS.some((key) => env.API_KEYS.includes(key))) {
    problems.push(
      'ADMIN_API_KEYS=<redacted>: a key is also in API_KEYS; the keys that change what is served must be separate from those that predict',
    );
  }
  if (env.HTTP_WORKER_INDEX !== undefined && env.HTTP_WORKER_INDEX >= env.HTTP_WORKERS) {
    problems.push(
      `HTTP_WORKER_INDEX=${env.HTTP_WORKER_INDEX}: must be below HTTP_WORKERS (${env.HTTP_WORKERS}); the primary sets it`,
    );
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS=${env.HTTP_HEADERS_TIMEOUT_MS}: must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (env.GRPC_ENABLED && env.GRPC_PORT === env.PORT) {
    problems.push(
      `GRPC_PORT=${env.GRPC_PORT}: must differ from PORT; gRPC and HTTP each need a port of their own`,
    );
  }
  if (env.DRIFT_PSI_WARN > env.DRIFT_PSI_ALERT) {
    problems.push(
      `DRIFT_PSI_WARN=${env.DRIFT_PSI_WARN}: must not exceed DRIFT_PSI_ALERT (${env.DRIFT_PSI_ALERT})`,
    );
  }
  if (problems.length > 0) throw new EnvironmentValidationError(problems);
  return env;
}
