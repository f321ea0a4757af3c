import { AppConfig } from '@app/config';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DriftReport, formatPsi } from './drift-report';

/** Pauses between attempts; one more attempt than pauses. Overridable so specs need not wait. */
export const WEBHOOK_RETRY_DELAYS_MS = Symbol('WEBHOOK_RETRY_DELAYS_MS');
const DEFAULT_DELAYS_MS = [1000, 3000];

/** The POST body: Slack's `text`, and the same facts structured for anything else that listens. */
export interface DriftAlert {
  text: string;
  drift: {
    model: string;
    version: string;
    verdict: DriftReport['verdict'];
    window: { from: string; to: string };
    n_ref: number;
    n_cur: number;
    drifted_share: number;
    drifted_features: Array<{ name: string; psi: number }>;
    prediction_psi: number | null;
    generated_at: string;
    report?: { json: string; html: string };
  };
}

const roundPsi = (value: number | null) => (value === null ? null : Number(value.toFixed(4)));

export function driftAlertOf(report: DriftReport, files?: { json: string; html: string }): DriftAlert {
  const drifted = report.features
    .filter((f) => report.drifted_features.includes(f.name))
    .map((f) => ({ name: f.name, psi: roundPsi(f.psi) ?? 0 }));
  const list = drifted.map((f) => `${f.name} (PSI ${f.psi.toFixed(2)})`).join(', ');
  const prediction = report.prediction ? `; prediction PSI ${formatPsi(report.prediction.psi, 2)}` : '';
  return {
    text:
      `:warning: Drift in ${report.model} v${report.version}, ${report.window.from} to ${report.window.to}: ` +
      `${drifted.length} of ${report.features.length} features drifted${list ? ` — ${list}` : ''}${prediction}. ` +
      `${report.n_cur} predictions vs ${report.n_ref} reference rows.`,
    drift: {
      model: report.model,
      version: report.version,
      verdict: report.verdict,
      window: { from: report.window.from, to: report.window.to },
      n_ref: report.n_ref,
      n_cur: report.n_cur,
      drifted_share: report.drifted_share,
      drifted_features: drifted,
      prediction_psi: roundPsi(report.prediction?.psi ?? null),
      generated_at: report.generated_at,
      ...(files ? { report: files } : {}),
    },
  };
}

/**
 * Posts drift alerts to ALERT_WEBHOOK_URL: a timeout per attempt, retries with growing pauses on network errors,
 * timeouts, 429 and 5xx. It never throws: a failing webhook must not fail the check. The URL is a secret (it
 * usually carries a token), so no log line names it, nor the host it points at.
 */
@Injectable()
export class AlertWebhook {
  private readonly logger = new Logger(AlertWebhook.name);
  private readonly url?: string;
  private readonly timeoutMs: number;
  private readonly delaysMs: readonly number[];

  constructor(config: AppConfig, @Optional() @Inject(WEBHOOK_RETRY_DELAYS_MS) delaysMs?: number[]) {
    this.url = config.get('ALERT_WEBHOOK_URL');
    this.timeoutMs = config.get('ALERT_WEBHOOK_TIMEOUT_MS');
    this.delaysMs = delaysMs ?? DEFAULT_DELAYS_MS;
  }

  get configured(): boolean {
    return this.url !== undefined;
  }

  /** true when the webhook accepted the alert. */
  async send(alert: DriftAlert): Promise<boolean> {
    if (this.url === undefined) return false;
    const body = JSON.stringify(alert);
    const attempts = this.delaysMs.length + 1;
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await this.post(this.url, body);
      if (outcome === 'ok') {
        this.logger.log(`drift alert for ${alert.drift.model} delivered to the webhook (attempt ${attempt})`);
        return true;
      }
      reason = outcome.reason;
      if (!outcome.retry) break;
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, this.delaysMs[attempt - 1]));
    }
    this.logger.error(`drift alert for ${alert.drift.model} not delivered to the webhook: ${reason}`);
    return false;
  }

  private async post(url: string, body: string): Promise<'ok' | { retry: boolean; reason: string }> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return 'ok';
      const retry = response.status >= 500 || response.status === 429 || response.status === 408;
      return { retry, reason: `HTTP ${response.status}` };
    } catch (error) {
      // Only the error's name and code: undici's messages can carry the address.
      const failure = error as { name?: string; cause?: { code?: string } };
      const reason =
        failure.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms (ALERT_WEBHOOK_TIMEOUT_MS)`
          : (failure.cause?.code ?? failure.name ?? 'request failed');
      return { retry: true, reason };
    }
  }
}
