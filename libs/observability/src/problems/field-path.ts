const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Appends one step to a field path the way a client would write it in JavaScript: `features[2]`,
 * `instances[1][2]`, `inputs.age`, `labels["a b"]`. Array indices (numbers, or class-validator's numeric
 * property names) become `[i]`.
 */
export function appendPath(path: string, key: string | number): string {
  if (typeof key === 'number' || /^\d+$/.test(key)) return `${path}[${key}]`;
  key = shownKey(key);
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** How the body itself is named when the problem is the whole value rather than a field in it. */
export const ROOT_PATH = '(body)';

/** Longest object key a problem spells out in full. */
const SHOWN_KEY_LENGTH = 200;

/**
 * An object key as problems show it: the client chooses its length (up to BODY_LIMIT), and a problem quotes it in
 * its field and message, so a 1 MB key would make a 3 MB answer. Long keys are cut, with their length.
 */
export function shownKey(key: string): string {
  return key.length > SHOWN_KEY_LENGTH
    ? `${key.slice(0, SHOWN_KEY_LENGTH)}… (${key.length} characters)`
    : key;
}
