import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAIN = resolve(__dirname, '../../dist/apps/inference-api/src/main.js');

/** The built service as a real process: what `npm start` and the container run. */
export class ServerProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    const collect = (into: string[]) => {
      let partial = '';
      return (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        into.push(...lines);
      };
    };
    child.stdout!.on('data', collect(this.stdout));
    child.stderr!.on('data', collect(this.stderr));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  static start(env: Record<string, string>): ServerProcess {
    // Its data in a folder of its own, not the checkout's ./data (the defaults), unless the spec names one.
    const data = mkdtempSync(join(tmpdir(), 'server-data-'));
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        // Never the default 8081: processes of several specs, or a developer's own server, would share it.
        GRPC_PORT: String(freePort()),
        PREDICTION_LOG_DIR: join(data, 'predictions'),
        DRIFT_REPORT_DIR: join(data, 'reports'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child);
  }

  /** Log lines as parsed JSON; fails the test on any line that is not JSON. */
  get logLines(): Array<Record<string, unknown>> {
    return this.stdout
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 15000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.logLines.find(predicate);
      if (found) return found;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(
      `log line not seen; stdout:\n${this.stdout.join('\n')}\nstderr:\n${this.stderr.join('\n')}`,
    );
  }

  async exitCode(timeoutMs = 15000): Promise<number | null> {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    return Promise.race([this.exited, timeout]);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

let nextPort = 23000 + Math.floor(Math.random() * 2000);
export const freePort = () => nextPort++;
