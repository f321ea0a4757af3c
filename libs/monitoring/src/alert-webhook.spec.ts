import { AppConfig } from '@app/config';
import { Logger } from '@nestjs/common';
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AlertWebhook, DriftAlert } from './alert-webhook';

const ALERT: DriftAlert = {
  text: 'Drift in seed_gbc v1',
  drift: {
    model: 'seed_gbc',
    version: '1',
    verdict: 'drift',
    window: { from: '2026-11-17', to: '2026-11-23' },
    n_ref: 1000,
    n_cur: 600,
    drifted_share: 0.2,
    drifted_features: [{ name: 'f2', psi: 0.66 }],
    prediction_psi: 0.12,
    generated_at: '2026-11-23T06:00:00.000Z',
  },
};

/** A real HTTP server on 127.0.0.1 that answers each request with the next behaviour of the list. */
async function webhookServer(behaviours: Array<'ok' | 500 | 'hang'>) {
  const received: Array<{ path: string; body: unknown; type?: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        type: req.headers['content-type'],
      });
      const behaviour = behaviours[Math.min(received.length - 1, behaviours.length - 1)];
      if (behaviour === 'hang') return; // never answers
      res.statusCode = behaviour === 'ok' ? 200 : behaviour;
      res.end(behaviour === 'ok' ? 'ok' : 'boom');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url: `http://127.0.0.1:${port}/services/T000/B000/s3cr3t-t0ken`, received, close };
}

function webhook(url: string | undefined, timeoutMs = 5000) {
  const values: Record<string, unknown> = { ALERT_WEBHOOK_URL: url, ALERT_WEBHOOK_TIMEOUT_MS: timeoutMs };
  return new AlertWebhook({ get: (key: string) => values[key] } as unknown as AppConfig, [20, 40]);
}

describe('AlertWebhook', () => {
  let logged: string[];
  beforeEach(() => {
    logged = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logged.push(String(args[0]));
      });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('posts Slack-compatible text and the structured summary as JSON', async () => {
    const server = await webhookServer(['ok']);
    try {
      expect(await webhook(server.url).send(ALERT)).toBe(true);
      expect(server.received).toHaveLength(1);
      expect(server.received[0]).toEqual({
        path: '/services/T000/B000/s3cr3t-t0ken',
        body: ALERT,
        type: 'application/json',
      });
    } finally {
      server.close();
    }
  });

  it('retries after a failure and succeeds', async () => {
    const server = await webhookServer([500, 500, 'ok']);
    try {
      expect(await webhook(server.url).send(ALERT)).toBe(true);
      expect(server.received).toHaveLength(3);
    } finally {
      server.close();
    }
  });

  it('gives up on a server that never answers, after the timeout and retries, without throwing', async () => {
    const server = await webhookServer(['hang']);
    try {
      const started = Date.now();
      expect(await webhook(server.url, 200).send(ALERT)).toBe(false);
      const elapsed = Date.now() - started;
      expect(server.received).toHaveLength(3);
      expect(elapsed).toBeGreaterThanOrEqual(3 * 200);
      expect(elapsed).toBeLessThan(5000);
      expect(logged.join('\n')).toMatch(/not delivered.*no answer within 200 ms/);
    } finally {
      server.close();
    }
  });

  it('never logs the URL, not even its host, when the webhook is down', async () => {
    const server = await webhookServer(['ok']);
    server.close();
    expect(await webhook(server.url).send(ALERT)).toBe(false);
    const text = logged.join('\n');
    expect(text).toMatch(/not delivered.*ECONNREFUSED/);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('127.0.0.1');
  });

  it('does nothing without ALERT_WEBHOOK_URL', async () => {
    const hook = webhook(undefined);
    expect(hook.configured).toBe(false);
    expect(await hook.send(ALERT)).toBe(false);
  });
});
