import { parse } from 'dotenv';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Environment, EnvironmentValidationError, validateEnvironment } from './environment';

const ROOT = join(__dirname, '../../..');

function problemsOf(raw: Record<string, string>): string[] {
  try {
    validateEnvironment(raw);
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('validateEnvironment', () => {
  it('gives working defaults for an empty environment', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '0.0.0.0',
      MODEL_REPOSITORY: './models',
      MAX_BATCH_SIZE: 32,
      BODY_LIMIT: '1mb',
      API_KEYS: [],
      AUTH_DISABLED: false,
      SWAGGER_ENABLED: true,
    });
    expect(env.MODEL_PATH).toBeUndefined();
  });

  it('converts numbers, booleans and key lists', () => {
    const env = validateEnvironment({
      PORT: '8080',
      SWAGGER_ENABLED: 'false',
      API_KEYS: ' key-aaaaaaaaaaaaaaaa , key-bbbbbbbbbbbbbbbb ,',
      MAX_BATCH_SIZE: '64',
    });
    expect(env.PORT).toBe(8080);
    expect(env.SWAGGER_ENABLED).toBe(false);
    expect(env.API_KEYS).toEqual(['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb']);
    expect(env.MAX_BATCH_SIZE).toBe(64);
  });

  it('names every bad variable, one line each', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      SWAGGER_ENABLED: 'maybe',
      MAX_BATCH_SIZE: '0',
    });
    expect(problems).toHaveLength(4);
    expect(problems.find((line) => line.startsWith('PORT="eighty"'))).toMatch(/integer/);
    expect(problems.find((line) => line.startsWith('LOG_LEVEL="loud"'))).toMatch(
      /fatal, error, warn, info, debug/,
    );
    expect(problems.find((line) => line.startsWith('SWAGGER_ENABLED="maybe"'))).toMatch(/boolean/);
    expect(problems.find((line) => line.startsWith('MAX_BATCH_SIZE=0'))).toMatch(/not be less than 1/);
  });

  it('refuses production without API keys unless authentication is disabled explicitly', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^API_KEYS=unset: required when NODE_ENV=production/),
    ]);
    expect(validateEnvironment({ NODE_ENV: 'production', AUTH_DISABLED: 'true' }).AUTH_DISABLED).toBe(true);
    expect(
      validateEnvironment({ NODE_ENV: 'production', API_KEYS: 'a-long-enough-key-1234' }).API_KEYS,
    ).toHaveLength(1);
  });

  it('rejects short API keys without printing them', () => {
    const problems = problemsOf({ API_KEYS: 'short-secret' });
    expect(problems).toEqual(['API_KEYS=<redacted>: each key must be at least 16 characters']);
  });

  it('ignores variables that are not its own', () => {
    expect(() => validateEnvironment({ PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });

  it('reads monitoring and runtime settings, keeping the webhook URL out of errors', () => {
    const env = validateEnvironment({
      DRIFT_BASELINE_DAYS: '7',
      ORT_EXECUTION_PROVIDERS: 'CUDA, cpu',
      DRIFT_PSI_WARN: '0.15',
      BATCH_MAX_DELAY_MS: '0.5',
      PREDICTION_LOG_SAMPLE_RATE: '0.05',
    });
    expect(env).toMatchObject({
      DRIFT_BASELINE_DAYS: 7,
      ORT_EXECUTION_PROVIDERS: ['cuda', 'cpu'],
      DRIFT_PSI_WARN: 0.15,
      DRIFT_PSI_ALERT: 0.2,
      BATCH_MAX_DELAY_MS: 0.5,
      DRIFT_CRON: '0 6 * * 1',
      PREDICTION_LOG_ENABLED: true,
      PREDICTION_LOG_SAMPLE_RATE: 0.05,
    });
    // Unset: the runner divides the cores between the HTTP processes and their worker threads.
    expect(env.INFERENCE_WORKERS).toBeUndefined();
    const problems = problemsOf({
      DRIFT_CRON: 'weekly',
      ALERT_WEBHOOK_URL: 'hooks.example/T0KEN-secret',
      DRIFT_PSI_WARN: '0.5',
      PREDICTION_LOG_SAMPLE_RATE: '1.5',
    });
    expect(problems).toEqual([
      'PREDICTION_LOG_SAMPLE_RATE=1.5: PREDICTION_LOG_SAMPLE_RATE must not be greater than 1',
      'DRIFT_CRON="weekly": must be a cron expression with 5 or 6 fields',
      'ALERT_WEBHOOK_URL=<redacted>: ALERT_WEBHOOK_URL must be a URL address',
      'DRIFT_PSI_WARN=0.5: must not exceed DRIFT_PSI_ALERT (0.2)',
    ]);
  });

  it('runs one HTTP process per core by default, and checks the slot the primary gives each worker', () => {
    expect(validateEnvironment({}).HTTP_WORKERS).toBe(availableParallelism());
    expect(validateEnvironment({}).HTTP_WORKER_INDEX).toBeUndefined();
    expect(validateEnvironment({ HTTP_WORKERS: '4', HTTP_WORKER_INDEX: '3' })).toMatchObject({
      HTTP_WORKERS: 4,
      HTTP_WORKER_INDEX: 3,
    });
    expect(problemsOf({ HTTP_WORKERS: '0' })).toEqual([
      expect.stringMatching(/^HTTP_WORKERS=0: .*not be less than 1/),
    ]);
    expect(problemsOf({ HTTP_WORKERS: '2', HTTP_WORKER_INDEX: '2' })).toEqual([
      'HTTP_WORKER_INDEX=2: must be below HTTP_WORKERS (2); the primary sets it',
    ]);
  });

  it('reads the shutdown grace and drain limit, in whole milliseconds', () => {
    expect(validateEnvironment({})).toMatchObject({ SHUTDOWN_DELAY_MS: 0, SHUTDOWN_TIMEOUT_MS: 10000 });
    expect(validateEnvironment({ SHUTDOWN_DELAY_MS: '5000' }).SHUTDOWN_DELAY_MS).toBe(5000);
    expect(problemsOf({ SHUTDOWN_DELAY_MS: '5s', SHUTDOWN_TIMEOUT_MS: '-1' })).toEqual([
      expect.stringMatching(/^SHUTDOWN_DELAY_MS="5s": .*integer/),
      expect.stringMatching(/^SHUTDOWN_TIMEOUT_MS=-1: .*not be less than 0/),
    ]);
  });

  it('serves gRPC on 8081 by default, on a port of its own', () => {
    expect(validateEnvironment({})).toMatchObject({ GRPC_ENABLED: true, GRPC_PORT: 8081 });
    expect(validateEnvironment({ GRPC_ENABLED: 'no', GRPC_PORT: '9000' })).toMatchObject({
      GRPC_ENABLED: false,
      GRPC_PORT: 9000,
    });
    expect(problemsOf({ GRPC_PORT: '0', GRPC_ENABLED: 'perhaps' })).toEqual([
      'GRPC_ENABLED="perhaps": GRPC_ENABLED must be a boolean value',
      'GRPC_PORT=0: GRPC_PORT must not be less than 1',
    ]);
    expect(problemsOf({ PORT: '8081' })).toEqual([
      'GRPC_PORT=8081: must differ from PORT; gRPC and HTTP each need a port of their own',
    ]);
    // Off, its port is never bound, so it may be anything.
    expect(validateEnvironment({ PORT: '8081', GRPC_ENABLED: 'false' }).PORT).toBe(8081);
  });

  it('admits model versions without a validation file unless REQUIRE_VALIDATION is set', () => {
    expect(validateEnvironment({}).REQUIRE_VALIDATION).toBe(false);
    expect(validateEnvironment({ REQUIRE_VALIDATION: 'true' }).REQUIRE_VALIDATION).toBe(true);
    expect(problemsOf({ REQUIRE_VALIDATION: 'always' })).toEqual([
      'REQUIRE_VALIDATION="always": REQUIRE_VALIDATION must be a boolean value',
    ]);
  });

  it('polls the model repository only when MODEL_REPOSITORY_POLL_S is a positive number of seconds', () => {
    expect(validateEnvironment({}).MODEL_REPOSITORY_POLL_S).toBe(0);
    expect(validateEnvironment({ MODEL_REPOSITORY_POLL_S: '30' }).MODEL_REPOSITORY_POLL_S).toBe(30);
    expect(problemsOf({ MODEL_REPOSITORY_POLL_S: '-1' })).toEqual([
      'MODEL_REPOSITORY_POLL_S=-1: MODEL_REPOSITORY_POLL_S must not be less than 0',
    ]);
    const [fraction, ...others] = problemsOf({ MODEL_REPOSITORY_POLL_S: '0.5' });
    expect(others).toEqual([]);
    expect(fraction).toMatch(/^MODEL_REPOSITORY_POLL_S="0\.5": .*must be an integer number/);
  });

  it('keeps ADMIN_API_KEYS apart from API_KEYS, never echoing either', () => {
    const keys = validateEnvironment({
      API_KEYS: 'predict-key-0123456789',
      ADMIN_API_KEYS: ' admin-key-0123456789 , other-admin-0123456789',
    });
    expect(keys.ADMIN_API_KEYS).toEqual(['admin-key-0123456789', 'other-admin-0123456789']);
    expect(validateEnvironment({}).ADMIN_API_KEYS).toEqual([]);
    expect(problemsOf({ ADMIN_API_KEYS: 'short' })).toEqual([
      'ADMIN_API_KEYS=<redacted>: each key must be at least 16 characters',
    ]);
    const shared = problemsOf({
      API_KEYS: 'shared-key-0123456789',
      ADMIN_API_KEYS: 'admin-key-0123456789,shared-key-0123456789',
    });
    expect(shared).toEqual([
      'ADMIN_API_KEYS=<redacted>: a key is also in API_KEYS; the keys that change what is served must be separate from those that predict',
    ]);
    expect(shared.join('\n')).not.toContain('shared-key-0123456789');
  });

  it('accepts .env.example as it ships', () => {
    const example = parse(readFileSync(join(ROOT, '.env.example')));
    expect(Object.keys(example).length).toBeGreaterThan(10);
    expect(() => validateEnvironment(example)).not.toThrow();
  });

  it('has every variable documented in the README configuration table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const undocumented = Object.keys(new Environment()).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(undocumented).toEqual([]);
  });
});
