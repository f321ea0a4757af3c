import { existsSync } from 'node:fs';
import { Browser, chromium, Page } from 'playwright-core';

/** Debian's chromium package; `npm test` installs it when missing (scripts/test-tools.sh). */
export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: this spec opens the report in a real browser. apt-get install -y chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface OpenedReport {
  page: Page;
  /** Console errors, page errors and any request that left the page (it must render offline). */
  problems: string[];
  rows: Array<{ feature: string; psi: number; status: string }>;
}

/** What the page function reads of a table row (this project's lib has no DOM types: it runs in the page). */
interface TableRow {
  querySelector(selector: string): { textContent: string | null } | null;
}

/** Opens an HTML report file and reads its feature table as a person would see it. */
export async function openReport(browser: Browser, path: string): Promise<OpenedReport> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) problems.push(`request: ${request.url()}`);
  });
  await page.goto(`file://${path}`, { waitUntil: 'load' });
  const rows = await page.$$eval('#features tbody tr', (trs: TableRow[]) =>
    trs.map((tr) => ({
      feature: tr.querySelector('th')?.textContent?.trim() ?? '',
      psi: Number(tr.querySelector('td.num')?.textContent),
      status: tr.querySelector('.badge')?.textContent?.trim() ?? '',
    })),
  );
  return { page, problems, rows };
}
