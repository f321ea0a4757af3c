import { DriftCheck, DriftReport, exitCodeOf, formatPsi } from '@app/monitoring';
import { parseArgs } from 'node:util';
import { createCliContext, UsageError } from './cli-support';

export const DRIFT_USAGE = `drift --model <name> [--version <v>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
    Runs the drift check now over the prediction log (default window: the last DRIFT_WINDOW_DAYS days up to
    today, UTC) for one version of the model (default: the one its unversioned routes serve), against that
    version's reference.json; writes the report to DRIFT_REPORT_DIR/<model>/<date>.json and .html (another
    version's to <model>/versions/<v>/), and exits 0 no drift, 1 drift, 2 error, insufficient data or no
    reference. --json prints the report on stdout. Reads the model repository only: no model is loaded.`;

export async function driftCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      version: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.model) throw new UsageError(`--model is required\n\n${DRIFT_USAGE}`);
  const app = await createCliContext();
  try {
    const { report, files } = await app
      .get(DriftCheck)
      .run(values.model, { version: values.version, from: values.from, to: values.to });
    process.stdout.write(
      values.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report, files),
    );
    return exitCodeOf(report.verdict);
  } finally {
    await app.close();
  }
}

function describeReport(report: DriftReport, files: { json: string; html: string }): string {
  const lines = [
    `${report.verdict.toUpperCase()}: ${report.summary}`,
    `window ${report.window.from} to ${report.window.to}: ${report.n_cur} predictions; reference ${report.n_ref} rows`,
  ];
  // An empty window has no score to show: the summary says all there is.
  if (report.features.length > 0 && report.n_cur > 0) {
    lines.push('', `${'feature'.padEnd(20)} ${'PSI'.padStart(8)} ${'noise'.padStart(8)}  status`);
    for (const f of report.features) {
      lines.push(
        `${f.name.padEnd(20)} ${formatPsi(f.psi).padStart(8)} ${formatPsi(f.noise_floor).padStart(8)}  ${f.status}`,
      );
    }
    if (report.prediction) {
      lines.push(
        `${'(predictions)'.padEnd(20)} ${formatPsi(report.prediction.psi).padStart(8)} ${''.padStart(8)}  ${report.prediction.status}`,
      );
    }
  }
  lines.push('', `report: ${files.html}`, `        ${files.json}`);
  return `${lines.join('\n')}\n`;
}
