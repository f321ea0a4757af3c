import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriftReport } from './drift-report';
import { renderHtmlReport } from './html-report';

export interface WrittenReport {
  json: string;
  html: string;
}

export interface ReportFile {
  path: string;
  modifiedMs: number;
  size: number;
}

/**
 * `DRIFT_REPORT_DIR/<model>/<YYYY-MM-DD>.json` and `.html` for the model's default version (the one its unversioned
 * routes serve, and the only one unless its version policy serves several), `<model>/versions/<v>/<YYYY-MM-DD>.json`
 * for the others; a second run on the same day replaces the first.
 */
@Injectable()
export class DriftReportStore {
  readonly dir: string;

  constructor(config: AppConfig) {
    this.dir = config.get('DRIFT_REPORT_DIR');
  }

  async write(report: DriftReport, { defaultVersion = true } = {}): Promise<WrittenReport> {
    const folder = defaultVersion
      ? join(this.dir, report.model)
      : join(this.dir, report.model, 'versions', report.version);
    await mkdir(folder, { recursive: true });
    const day = report.generated_at.slice(0, 10);
    const written = { json: join(folder, `${day}.json`), html: join(folder, `${day}.html`) };
    await atomicWrite(written.html, renderHtmlReport(report));
    // JSON last: whoever sees the new JSON finds the HTML beside it.
    await atomicWrite(written.json, `${JSON.stringify(report, null, 2)}\n`);
    return written;
  }

  /** The most recent report of a model's default version, or undefined when none was written. */
  async latest(model: string): Promise<DriftReport | undefined> {
    const newest = await this.newest(model);
    return newest && this.read(newest.path);
  }

  /**
   * The file of a model's most recent report (the latest day), with what tells a rewrite of it: of its default
   * version, or with `version` of that version when it is not the default (its own folder).
   */
  async newest(model: string, version?: string): Promise<ReportFile | undefined> {
    const folder = version === undefined ? join(this.dir, model) : join(this.dir, model, 'versions', version);
    const names = await readdir(folder).catch(() => [] as string[]);
    const newest = names
      .filter((name) => /^\d{4}-\d{2}-\d{2}\.json$/.test(name))
      .sort()
      .pop();
    if (!newest) return undefined;
    const path = join(folder, newest);
    // Gone between the listing and now (a retention job): as if there were none.
    const stats = await stat(path).catch(() => undefined);
    return stats && { path, modifiedMs: stats.mtimeMs, size: stats.size };
  }

  async read(path: string): Promise<DriftReport> {
    return JSON.parse(await readFile(path, 'utf8')) as DriftReport;
  }
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
