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

/** `DRIFT_REPORT_DIR/<model>/<YYYY-MM-DD>.json` and `.html`; a second run on the same day replaces the first. */
@Injectable()
export class DriftReports {
  readonly dir: string;

  constructor(config: AppConfig) {
    this.dir = config.get('DRIFT_REPORT_DIR');
  }

  async write(report: DriftReport): Promise<WrittenReport> {
    const folder = join(this.dir, report.model);
    await mkdir(folder, { recursive: true });
    const day = report.generated_at.slice(0, 10);
    const written = { json: join(folder, `${day}.json`), html: join(folder, `${day}.html`) };
    await atomicWrite(written.html, renderHtmlReport(report));
    // JSON last: whoever sees the new JSON finds the HTML beside it.
    await atomicWrite(written.json, `${JSON.stringify(report, null, 2)}\n`);
    return written;
  }

  /** The most recent report of a model, or undefined when none was written. */
  async latest(model: string): Promise<DriftReport | undefined> {
    const newest = await this.newest(model);
    return newest && this.read(newest.path);
  }

  /** The file of a model's most recent report (the latest day), with what tells a rewrite of it. */
  async newest(model: string): Promise<ReportFile | undefined> {
    const folder = join(this.dir, model);
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
