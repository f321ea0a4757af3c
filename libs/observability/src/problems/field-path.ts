const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Appends one step to a field path the way a client would write it in JavaScript: `features[2]`,
 * `instances[1][2]`, `inputs.age`, `labels["a b"]`. Array indices (numbers, or class-validator's numeric
 * property names) become `[i]`.
 */
export function appendPath(path: string, key: string | number): string {
  if (typeof key === 'number' || /^\d+$/.test(key)) return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** How the body itself is named when the problem is the whole value rather than a field in it. */
export const ROOT_PATH = '(body)';
