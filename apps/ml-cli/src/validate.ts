import {
  adaptModel,
  type AdaptedModel,
  type OutputCheck,
  ParityGate,
  readManifestOf,
  shortNumber,
  readValidationFile,
  type ValidationReport,
  validationPathOf,
} from '@app/inference';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCliContext, UsageError } from './cli-support';

export const VALIDATE_USAGE = `validate --model <path/to/model.onnx> [--validation <path/to/validation.json>] [--json]
    The parity gate the server runs before a version takes traffic, for a CI pipeline before an image or a volume
    is published: runs the validation file's inputs (default: validation.json beside model.onnx, <stem>.validation.json
    beside any other <stem>.onnx) through the model as the server would and compares with the training framework's
    outputs. Prints the worst deviation per compared output; exit 0 all within tolerance, 1 some are off, 2 the
    model or the file cannot be used. --json prints the report on stdout.`;

/** `validate`: 0 pass, 1 fail, 2 on any error (thrown, and reported by main). */
export async function validateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      validation: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.model) throw new UsageError(`--model is required\n\n${VALIDATE_USAGE}`);
  const modelPath = resolve(values.model);
  const validationPath = resolve(values.validation ?? validationPathOf(modelPath));

  const model = await readModel(modelPath);
  const file = await readValidationFile(validationPath);
  const app = await createCliContext();
  let report: ValidationReport;
  try {
    report = await app.get(ParityGate).validate(model, file, validationPath);
  } finally {
    await app.close();
  }
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ model: modelPath, validation: validationPath, ...report }, null, 2)}\n`
      : describeReport(report, modelPath, validationPath),
  );
  return report.passed ? 0 : 1;
}

/** The model as the server adapts it for serving, with its model.json; what cannot be served is exit 2. */
async function readModel(path: string): Promise<AdaptedModel> {
  try {
    return adaptModel(await readFile(path), await readManifestOf(path));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot use the model ${path}: ${reason}`);
  }
}

function describeReport(report: ValidationReport, modelPath: string, validationPath: string): string {
  const { atol, rtol } = report.tolerance;
  const header = [
    'output',
    'compared',
    'off',
    'worst row',
    'column',
    'expected',
    'got',
    'difference',
    'allowed',
  ];
  const table = [header, ...report.checks.map(checkRow)];
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column].length)));
  // Text left, numbers right, as a reader scans them.
  const numeric = new Set([1, 2, 3, 7, 8]);
  const lines = table.map((row) =>
    row
      .map((cell, column) =>
        numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd(),
  );
  return [
    `${report.passed ? 'PASS' : 'FAIL'}: ${modelPath}`,
    `  against ${validationPath}: ${report.rows} rows, atol ${shortNumber(atol)}, rtol ${shortNumber(rtol)}` +
      (report.source ? `\n  expected outputs from: ${report.source}` : ''),
    '',
    ...lines,
    '',
  ].join('\n');
}

function checkRow(check: OutputCheck): string[] {
  const worst = check.worst;
  return [
    check.field,
    String(check.compared),
    String(check.failed),
    worst ? String(worst.row) : '—',
    worst?.column ?? '',
    worst ? JSON.stringify(worst.expected) : '',
    worst ? JSON.stringify(worst.got) : '',
    worst?.difference !== undefined ? shortNumber(worst.difference) : '',
    worst?.allowed !== undefined ? shortNumber(worst.allowed) : '',
  ];
}
