const OPEN = '[';
const CLOSE = ']';

/** Every index of `char` in `text`, or undefined once there are more than `most`. */
function indexesOf(text: string, char: string, most: number): number[] | undefined {
  const found: number[] = [];
  for (let at = text.indexOf(char); at !== -1; at = text.indexOf(char, at + 1)) {
    if (found.length === most) return undefined;
    found.push(at);
  }
  return found;
}

/**
 * Where the rows' arrays sit in the JSON text of a request, for the prediction log to copy them instead of
 * formatting every number again: from the `[` of the array of rows to its `]` when `nested`
 * (`{"instances": [[…], […]]}`), else the body's one row (`{"features": […]}`). `rows` is how many rows the parsed
 * body held, each an array of numbers.
 *
 * Why the brackets alone say where the rows are: numbers hold no brackets, so the rows and their array account for
 * exactly `rows` (+ 1) of each. Any other bracket (in a string, in a duplicate key's earlier value, which
 * JSON.parse drops) makes the counts differ, and the answer is undefined; so is a body with a line break, which
 * a log line cannot hold. Undefined leaves the log to format the parsed numbers.
 */
export function verbatimRows(
  text: string,
  rows: number,
  nested: boolean,
): { start: number; end: number } | undefined {
  if (text.includes('\n') || text.includes('\r')) return undefined;
  const brackets = rows + (nested ? 1 : 0);
  const opens = indexesOf(text, OPEN, brackets);
  const closes = indexesOf(text, CLOSE, brackets);
  if (opens?.length !== brackets || closes?.length !== brackets) return undefined;
  const first = nested ? 1 : 0;
  for (let i = 0; i < rows; i++) {
    const open = opens[first + i];
    const close = closes[i];
    // Rows side by side, each closed before the next opens.
    if (close < open || (i + 1 < rows && opens[first + i + 1] < close)) return undefined;
  }
  // The array of rows opens before its first row and closes after its last.
  return { start: opens[0], end: closes[brackets - 1] + 1 };
}
