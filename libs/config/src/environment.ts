import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
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

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
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
  @Transform(toBoolean)
  @IsBoolean()
  LOG_PRETTY = false;

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

  /** The model that POST /predict serves; required only when several are loaded. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  DEFAULT_MODEL?: string = undefined;

  /** Most instances one KServe request may carry. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_BATCH_SIZE = 32;

  /** Largest request body, in the units Express understands (e.g. 512kb, 1mb). */
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb)?$/i, { message: 'must be a size such as 1mb, 512kb or 100000' })
  BODY_LIMIT = '1mb';

  /** Comma-separated API keys; several allow rotation without downtime. */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((key) => key.trim())
          .filter((key) => key.length > 0)
      : value,
  )
  @IsString({ each: true })
  @MinLength(16, { each: true, message: 'each key must be at least 16 characters' })
  API_KEYS: string[] = [];

  /** Explicit opt-out of authentication in production. */
  @Transform(toBoolean)
  @IsBoolean()
  AUTH_DISABLED = false;

  @Transform(toBoolean)
  @IsBoolean()
  SWAGGER_ENABLED = true;

  /** Longest time in-flight requests get to finish after SIGTERM before the process exits anyway. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(600000)
  SHUTDOWN_TIMEOUT_MS = 10000;
}

/** Thrown when the environment is invalid; `problems` has one line per bad variable. */
export class EnvironmentValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'EnvironmentValidationError';
  }
}

/** Values never echoed back, not even in a start-up error. */
const SECRETS = new Set(['API_KEYS']);

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
  if (problems.length > 0) throw new EnvironmentValidationError(problems);
  return env;
}
