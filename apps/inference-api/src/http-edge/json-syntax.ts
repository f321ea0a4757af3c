const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A string: no raw control characters, only JSON's escapes.
// eslint-disable-next-line no-control-regex -- JSON forbids exactly these characters unescaped.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;

function matchAt(pattern: RegExp, text: string, at: number): number | undefined {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : undefined;
}

/**
 * The offset of the first JSON syntax error in `text`, or undefined if there is none. Only used to add a
 * position to V8 messages that lack one ("Unexpected token ']', ... is not valid JSON"); iterative, so deep
 * nesting cannot overflow the stack.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  const containers: Array<'object' | 'array'> = [];
  let at = 0;
  const skip = () => {
    at = matchAt(WHITESPACE, text, at) ?? at;
  };
  // `value`: a value is expected next; `after`: a value just ended; `key`: an object key is expected next.
  let expect: 'value' | 'after' | 'key' | 'first-key' | 'first-value' = 'value';
  for (;;) {
    skip();
    const char = text[at];
    if (expect === 'value' || expect === 'first-value') {
      if (expect === 'first-value' && char === ']') {
        containers.pop();
        at++;
        expect = 'after';
      } else if (char === '{') {
        containers.push('object');
        at++;
        expect = 'first-key';
      } else if (char === '[') {
        containers.push('array');
        at++;
        expect = 'first-value';
      } else {
        const end = matchAt(STRING, text, at) ?? matchAt(NUMBER, text, at) ?? matchAt(LITERAL, text, at);
        if (end === undefined) return at;
        at = end;
        expect = 'after';
      }
    } else if (expect === 'key' || expect === 'first-key') {
      if (expect === 'first-key' && char === '}') {
        containers.pop();
        at++;
        expect = 'after';
        continue;
      }
      const end = matchAt(STRING, text, at);
      if (end === undefined) return at;
      at = end;
      skip();
      if (text[at] !== ':') return at;
      at++;
      expect = 'value';
    } else {
      const container = containers.at(-1);
      if (container === undefined) return at === text.length ? undefined : at;
      if (char === ',') {
        at++;
        expect = container === 'object' ? 'key' : 'value';
      } else if ((container === 'object' && char === '}') || (container === 'array' && char === ']')) {
        containers.pop();
        at++;
      } else {
        return at;
      }
    }
  }
}

/** "position 12 (line 2, column 5)": 1-based line and column, as an editor shows them. */
export function describeOffset(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `position ${offset} (line ${line}, column ${column})`;
}
