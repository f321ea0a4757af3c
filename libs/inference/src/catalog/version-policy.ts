/**
 * Which of a model's versions are served, as Triton's `version_policy` says it, in the model's own `model.json`
 * (beside its version folders, not inside one): `{"latest": N}` the N highest, `{"all": true}` every one,
 * `{"specific": [1, 3]}` those named. Without it, the highest version alone (`{"latest": 1}`, Triton's default).
 */
export type VersionPolicy = { latest: number } | { all: true } | { specific: string[] };

export const DEFAULT_VERSION_POLICY: VersionPolicy = { latest: 1 };

/** The model's own model.json: how its versions are served. */
export interface ModelConfig {
  policy: VersionPolicy;
  /** The version unversioned requests go to, when pinned; otherwise the highest served. */
  defaultVersion?: string;
}

const KEYS = new Set(['version_policy', 'default_version']);

/** A version as written in model.json: a whole number, or its digits in a string (the folder's name). */
function versionOf(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return String(Number(value));
  throw new Error(
    `${field} must be a version number (a version folder's name); got ${JSON.stringify(value)}`,
  );
}

/**
 * Checks the model's own model.json. It says how versions are served and nothing else: features, labels, task and
 * scores belong to each version (they may change between versions), so finding them here is a mistake to name.
 */
export function parseModelConfig(value: unknown): ModelConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) {
    throw new Error(
      `the model's own model.json holds only "version_policy" and "default_version"; ${unknown
        .map((key) => JSON.stringify(key))
        .join(', ')} go${unknown.length === 1 ? 'es' : ''} in each version's model.json`,
    );
  }
  const config: ModelConfig = { policy: parsePolicy(fields.version_policy) };
  if (fields.default_version !== undefined)
    config.defaultVersion = versionOf(fields.default_version, '"default_version"');
  return config;
}

function parsePolicy(value: unknown): VersionPolicy {
  if (value === undefined) return DEFAULT_VERSION_POLICY;
  const shape = '"version_policy" must be {"latest": N}, {"all": true} or {"specific": [versions]}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(shape);
  const entries = Object.entries(value);
  if (entries.length !== 1) throw new Error(shape);
  const [[kind, argument]] = entries;
  switch (kind) {
    case 'latest':
      if (!(typeof argument === 'number' && Number.isSafeInteger(argument) && argument >= 1))
        throw new Error(`"version_policy.latest" must be a whole number of versions, at least 1`);
      return { latest: argument };
    case 'all':
      if (argument !== true) throw new Error('"version_policy.all" must be true');
      return { all: true };
    case 'specific': {
      if (!Array.isArray(argument) || argument.length === 0)
        throw new Error('"version_policy.specific" must be a non-empty array of versions');
      const versions = argument.map((v, i) => versionOf(v, `"version_policy.specific[${i}]"`));
      return { specific: [...new Set(versions)].sort(byVersion) };
    }
    default:
      throw new Error(shape);
  }
}

/** Version folder names in numeric order (`9` before `10`). */
export function byVersion(a: string, b: string): number {
  return Number(a) - Number(b) || a.localeCompare(b);
}

/** The versions a policy serves among those on disk, oldest first. */
export function selectVersions(policy: VersionPolicy, available: readonly string[]): string[] {
  const sorted = [...available].sort(byVersion);
  if ('latest' in policy) return sorted.slice(Math.max(0, sorted.length - policy.latest));
  if ('all' in policy) return sorted;
  const wanted = new Set(policy.specific.map(Number));
  return sorted.filter((version) => wanted.has(Number(version)));
}

/** The policy as a person writes it, for logs and the repository index. */
export function describePolicy(policy: VersionPolicy): string {
  if ('latest' in policy) return `latest ${policy.latest}`;
  if ('all' in policy) return 'all';
  return `specific ${policy.specific.join(', ')}`;
}

/**
 * The version unversioned requests go to among `served` (oldest first): the pinned one when it is served, else
 * the highest. Undefined when nothing is served.
 */
export function defaultVersionAmong(served: readonly string[], pinned?: string): string | undefined {
  if (pinned !== undefined) {
    const match = served.find((version) => Number(version) === Number(pinned));
    if (match !== undefined) return match;
  }
  return [...served].sort(byVersion).at(-1);
}
