import { randomUUID } from 'node:crypto';
import { type FieldProblem, appendPath, ROOT_PATH, ValidationFailedError } from '@app/observability';
import { MalformedJsonError, NestingTooDeepError, NonFiniteNumberError } from './body-errors';
import { describeOffset, syntaxErrorOffset } from './json-syntax';

/** Overflowing literals can be thousands of digits long; the message shows their start. */
const SHOWN_LITERAL = 32;

interface NonFiniteToken {
  /** As written in the body: `NaN`, `Infinity`, `-Infinity`, `1e999`. */
  literal: string;
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function isWordChar(char: string): boolean {
  return /[A-Za-z0-9_$]/.test(char);
}

/**
 * Rewrites every non-finite token outside strings into a string marker that JSON.parse accepts, so that the
 * parsed value tells where each one was. A marker carries a random nonce: no string in the body can forge one.
 * Returns undefined when there was nothing to rewrite.
 */
function markNonFiniteTokens(
  text: string,
): { text: string; marker: string; tokens: NonFiniteToken[] } | undefined {
  const marker = `__non_finite_${randomUUID()}_`;
  const tokens: NonFiniteToken[] = [];
  let out = '';
  let copiedUpTo = 0;
  let i = 0;
  const replace = (start: number, end: number, literal: string) => {
    out += `${text.slice(copiedUpTo, start)}"${marker}${tokens.length}"`;
    tokens.push({ literal });
    copiedUpTo = end;
  };
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      // Skip the string, escapes included, so "NaN" or "1e999" inside a string are left alone.
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (char === '-' || isDigit(char)) {
      const start = i;
      i++;
      if (char === '-' && i < text.length && /[A-Za-z]/.test(text[i])) {
        while (i < text.length && isWordChar(text[i])) i++;
        const word = text.slice(start, i);
        if (word === '-Infinity' || word === '-NaN') replace(start, i, word);
      } else {
        while (i < text.length && /[0-9eE+.-]/.test(text[i])) i++;
        const literal = text.slice(start, i);
        const value = Number(literal);
        // A malformed literal (NaN here) is left for JSON.parse to report; an overflow is the case we want.
        if (!Number.isNaN(value) && !Number.isFinite(value)) replace(start, i, literal);
      }
    } else if (/[A-Za-z_$]/.test(char)) {
      const start = i;
      while (i < text.length && isWordChar(text[i])) i++;
      const word = text.slice(start, i);
      if (word === 'NaN' || word === 'Infinity') replace(start, i, word);
    } else {
      i++;
    }
  }
  if (tokens.length === 0) return undefined;
  return { text: out + text.slice(copiedUpTo), marker, tokens };
}

function describe(path: string, literal: string): string {
  const shown = literal.length > SHOWN_LITERAL ? `${literal.slice(0, SHOWN_LITERAL)}…` : literal;
  const what = /^-?(NaN|Infinity)$/.test(literal)
    ? shown
    : `${shown}, which overflows to ${literal.startsWith('-') ? '-' : ''}Infinity`;
  return `${path} is ${what}; only finite numbers are accepted`;
}

/**
 * Keys every JavaScript object already has (`__proto__`, `constructor`, `toString`, `hasOwnProperty`, …). JSON.parse
 * makes them own properties, but class-transformer silently skips them, so they would vanish from a request instead
 * of being refused like any other unknown key. No contract here has a field by these names.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

type Finding = 'non-finite' | 'too-deep' | 'prototype-key';

/**
 * One pass over the parsed body, without paths: ±Infinity somewhere (an overflowing literal), an array or object
 * nested deeper than `maxDepth` (the body itself is depth 1), or a key of Object.prototype. Iterative: V8's
 * JSON.parse takes any depth, but the recursive code after it (ValidationPipe, class-transformer) overflows the call
 * stack at a few thousand.
 */
function scan(value: unknown, maxDepth: number): Finding | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'non-finite';
  const containers: object[] = [];
  const depths: number[] = [];
  if (typeof value === 'object' && value !== null) {
    containers.push(value);
    depths.push(1);
  }
  // Indexed loops with the number test inline: a request's rows are arrays of doubles, and an iterator or a helper
  // call per element boxes every one of them (tens of KB of garbage for a 32-row request).
  while (containers.length > 0) {
    const current = containers.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return 'too-deep';
    const children: unknown[] = Array.isArray(current) ? current : [];
    if (!Array.isArray(current)) {
      for (const key of Object.keys(current)) {
        if (PROTOTYPE_KEYS.has(key)) return 'prototype-key';
        children.push((current as Record<string, unknown>)[key]);
      }
    }
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child === 'number') {
        if (!Number.isFinite(child)) return 'non-finite';
      } else if (typeof child === 'object' && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** Where the body uses keys of Object.prototype, in document order (at most 20: enough to fix a request). */
function prototypeKeyProblems(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (pending.length > 0 && problems.length < 20) {
    const { value: current, path } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    const entries = Object.entries(current);
    for (let index = entries.length - 1; index >= 0; index--) {
      const key = Array.isArray(current) ? index : entries[index][0];
      pending.push({ value: entries[index][1], path: appendPath(path, key) });
    }
    if (Array.isArray(current)) continue;
    for (const [key] of entries) {
      if (!PROTOTYPE_KEYS.has(key)) continue;
      const field = appendPath(path, key);
      problems.push({
        field,
        message: `${field} is not accepted: "${key}" names a property every JavaScript object has`,
      });
    }
  }
  return problems;
}

/** Longest path quoted in a nesting error: a 2,000-level body must not become a 10 KB message. */
const SHOWN_PATH = 80;

/** The path of the first array or object past `maxDepth`, in document order. Runs only for a body that has one. */
function tooDeepPath(value: unknown, maxDepth: number): string {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 1 }];
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > maxDepth) return path === '' ? ROOT_PATH : path;
    const entries = Object.entries(current);
    for (let index = entries.length - 1; index >= 0; index--) {
      const key = Array.isArray(current) ? index : entries[index][0];
      pending.push({ value: entries[index][1], path: appendPath(path, key), depth: depth + 1 });
    }
  }
  return ROOT_PATH;
}

/**
 * Finds markers (and, should one slip through, non-finite numbers) in document order. Iterative: a body may nest
 * deeper than the call stack allows.
 */
function findNonFinite(
  value: unknown,
  marker: string | undefined,
  tokens: readonly NonFiniteToken[],
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    const field = path === '' ? ROOT_PATH : path;
    if (typeof current === 'number' && !Number.isFinite(current)) {
      problems.push({ field, message: describe(field, String(current)) });
    } else if (typeof current === 'string' && marker !== undefined && current.startsWith(marker)) {
      const token = tokens[Number(current.slice(marker.length))];
      if (token !== undefined) problems.push({ field, message: describe(field, token.literal) });
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        pending.push({ value: current[index], path: appendPath(path, index) });
      }
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index--) {
        pending.push({ value: entries[index][1], path: appendPath(path, entries[index][0]) });
      }
    }
  }
  return problems;
}

/** V8 gives a position for some syntax errors and not for others; the client always gets one. */
function withPosition(text: string, message: string): string {
  if (/position \d+/.test(message)) return message;
  const offset = syntaxErrorOffset(text);
  return offset === undefined ? message : `${message} at ${describeOffset(text, offset)}`;
}

/**
 * JSON.parse, plus a 422 naming each non-finite number and its path: the bare `NaN`/`Infinity`/`-Infinity` that
 * Python's json.dumps writes (invalid JSON, so they are found by a second, marking pass only when parsing fails)
 * and literals such as `1e999` that JSON.parse silently turns into Infinity; and a 422 for arrays or objects
 * nested deeper than `maxDepth` (JSON_MAX_DEPTH), naming where; and a 422 for keys of Object.prototype
 * (`__proto__`, `constructor`, …), which later code would drop silently. Anything else invalid is a 400 with the parser's
 * own message, which gives the position.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = withPosition(text, error instanceof Error ? error.message : String(error));
    const marked = markNonFiniteTokens(text);
    if (marked === undefined) throw new MalformedJsonError(reason);
    let rescued: unknown;
    try {
      rescued = JSON.parse(marked.text);
    } catch {
      // Invalid for another reason too: report that, with positions in the text the client sent.
      throw new MalformedJsonError(reason);
    }
    throw new NonFiniteNumberError(findNonFinite(rescued, marked.marker, marked.tokens));
  }
  const found = scan(value, maxDepth);
  if (found === 'prototype-key') throw new ValidationFailedError(prototypeKeyProblems(value));
  if (found === 'too-deep') {
    const path = tooDeepPath(value, maxDepth);
    throw new NestingTooDeepError(
      path.length > SHOWN_PATH ? `${path.slice(0, SHOWN_PATH)}…` : path,
      maxDepth,
    );
  }
  if (found === 'non-finite') {
    // Overflowing literals: parse again with markers so the message quotes them as written.
    const marked = markNonFiniteTokens(text);
    const problems =
      marked === undefined
        ? findNonFinite(value, undefined, [])
        : findNonFinite(JSON.parse(marked.text), marked.marker, marked.tokens);
    throw new NonFiniteNumberError(problems);
  }
  return value;
}

/** True when `parseJsonBody` would return the parsed value as it is: the body scan finds nothing to refuse. */
export function passesBodyScan(value: unknown, maxDepth: number): boolean {
  return scan(value, maxDepth) === undefined;
}
