import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** One training row in the model's feature order; null where the value is missing. */
export interface TrainingRow {
  /** 1-based line in the file, for messages. */
  line: number;
  values: Array<number | null>;
}

export interface TrainingDataOptions {
  /** The model's feature names in input order, when it names them. */
  features?: string[];
  featureCount: number;
  /** A column that is not a feature (the training target); skipped. Default "label". */
  labelColumn?: string;
  /** Called as the file is read, with bytes read so far and the file's size. */
  onProgress?: (read: number, total: number) => void;
}

export class TrainingDataError extends Error {
  constructor(path: string, line: number | undefined, message: string) {
    super(`${path}${line === undefined ? '' : `:${line}`}: ${message}`);
    this.name = 'TrainingDataError';
  }
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', 'n/a']);

/** A cell as a number, null when missing; undefined when it is neither. */
export function cellValue(cell: unknown): number | null | undefined {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : null;
  if (typeof cell !== 'string') return undefined;
  const text = cell.trim();
  // Number('') is 0, so an empty cell is looked at first; the missing-value words are only looked up for a cell
  // that is not a number (a large file has hundreds of millions of cells that are).
  if (text === '') return null;
  const value = Number(text);
  if (Number.isFinite(value)) return value;
  return MISSING.has(text.toLowerCase()) ? null : undefined;
}

/** Splits one CSV record (RFC 4180 quoting; a quoted field may not span lines). */
export function splitCsvLine(line: string): string[] {
  // Most training files quote nothing: the native split is several times faster than the loop below.
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Lines of a file with their numbers, streamed, reporting progress by bytes. */
async function* linesOf(path: string, onProgress?: (read: number, total: number) => void) {
  const total = (await stat(path)).size;
  const decoder = new StringDecoder('utf8');
  let read = 0;
  let rest = '';
  let number = 0;
  // 64 KB at a time: a chunk's text and its lines stay alive while its rows go through the model, and at 1 MB they
  // outlived young-generation collections and piled up in the old one (`npm run bench:profile`, 1 M rows: peak
  // RSS 263 MB with 1 MB chunks, 168 MB with 64 KB; reading is no slower).
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    read += chunk.length;
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield { number: ++number, text: line.replace(/\r$/, '') };
    onProgress?.(read, total);
  }
  rest += decoder.end();
  if (rest.length > 0) yield { number: number + 1, text: rest.replace(/\r$/, '') };
}

/**
 * Streams training rows from a CSV file with a header (`.csv`, or anything else that does not start with `{`)
 * or from JSON lines (`.jsonl`/`.ndjson`: objects keyed by feature name, or arrays in feature order). Columns are
 * matched to the model's feature names when it has them; otherwise every column but the label column is a
 * feature, in file order.
 */
export async function* readTrainingData(
  path: string,
  options: TrainingDataOptions,
): AsyncGenerator<TrainingRow> {
  const ext = extname(path).toLowerCase();
  const json = ext === '.jsonl' || ext === '.ndjson' || ext === '.json';
  yield* json ? readJsonLines(path, options) : readCsv(path, options);
}

async function* readCsv(path: string, options: TrainingDataOptions): AsyncGenerator<TrainingRow> {
  const labelColumn = options.labelColumn ?? 'label';
  let columns: number[] | undefined;
  let header: string[] = [];
  for await (const { number, text } of linesOf(path, options.onProgress)) {
    if (text.trim() === '') continue;
    const cells = splitCsvLine(text);
    if (columns === undefined) {
      header = cells.map((cell) => cell.trim());
      columns = csvColumns(path, header, labelColumn, options);
      continue;
    }
    if (cells.length !== header.length) {
      throw new TrainingDataError(path, number, `${cells.length} cells; the header has ${header.length}`);
    }
    yield {
      line: number,
      values: columns.map((column) => {
        const value = cellValue(cells[column]);
        if (value === undefined) {
          throw new TrainingDataError(
            path,
            number,
            `column "${header[column]}": "${cells[column]}" is not a number`,
          );
        }
        return value;
      }),
    };
  }
  if (columns === undefined)
    throw new TrainingDataError(path, undefined, 'the file is empty; expected a header line');
}

function csvColumns(
  path: string,
  header: string[],
  labelColumn: string,
  options: TrainingDataOptions,
): number[] {
  const { features, featureCount } = options;
  if (features) {
    const missing = features.filter((name) => !header.includes(name));
    if (missing.length === 0) return features.map((name) => header.indexOf(name));
    throw new TrainingDataError(path, 1, `the header lacks the model's features ${missing.join(', ')}`);
  }
  const columns = header.map((_, i) => i).filter((i) => header[i] !== labelColumn);
  if (columns.length !== featureCount) {
    throw new TrainingDataError(
      path,
      1,
      `${columns.length} feature columns (without "${labelColumn}"); the model takes ${featureCount}`,
    );
  }
  return columns;
}

async function* readJsonLines(path: string, options: TrainingDataOptions): AsyncGenerator<TrainingRow> {
  const { features, featureCount } = options;
  const labelColumn = options.labelColumn ?? 'label';
  for await (const { number, text } of linesOf(path, options.onProgress)) {
    if (text.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      throw new TrainingDataError(path, number, 'not a JSON line');
    }
    if (
      row !== null &&
      typeof row === 'object' &&
      !Array.isArray(row) &&
      Array.isArray((row as { features?: unknown }).features)
    ) {
      row = (row as { features: unknown[] }).features;
    }
    let cells: unknown[];
    let names: string[];
    if (Array.isArray(row)) {
      if (row.length < featureCount) {
        throw new TrainingDataError(path, number, `${row.length} values; the model takes ${featureCount}`);
      }
      cells = row.slice(0, featureCount);
      names = cells.map((_, i) => `[${i}]`);
    } else if (row !== null && typeof row === 'object') {
      const object = row as Record<string, unknown>;
      names =
        features ??
        Object.keys(object)
          .filter((key) => key !== labelColumn)
          .slice(0, featureCount);
      if (names.length !== featureCount) {
        throw new TrainingDataError(
          path,
          number,
          `${names.length} features; the model takes ${featureCount}`,
        );
      }
      cells = names.map((name) => object[name]);
    } else {
      throw new TrainingDataError(path, number, 'expected an object or an array');
    }
    yield {
      line: number,
      values: cells.map((cell, i) => {
        const value = cellValue(cell);
        if (value === undefined) {
          throw new TrainingDataError(path, number, `${names[i]}: ${JSON.stringify(cell)} is not a number`);
        }
        return value;
      }),
    };
  }
}
