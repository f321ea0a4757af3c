import {
  countsFileName,
  dayOf,
  defaultHost,
  logFileName,
  parseRecords,
  readCountSummary,
} from '@app/monitoring';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp } from './support/app';

const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const until = async (done: () => boolean | Promise<boolean>, ms = 5000) => {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > ms) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/**
 * A full disk, for real: today's log file is a link to /dev/full, where every write fails with ENOSPC from the
 * kernel. Predictions must not notice; the log must catch up by itself once the disk has room again.
 */
describe('prediction log on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'full-disk-'));
  const logPath = join(dir, logFileName(dayOf(new Date()), defaultHost()));
  let app: NestExpressApplication;

  beforeAll(async () => {
    symlinkSync('/dev/full', logPath);
    app = await startApp({
      MODEL_REPOSITORY: './models',
      PREDICTION_LOG_DIR: dir,
      PREDICTION_LOG_FLUSH_MS: '50',
      DRIFT_SCHEDULE_ENABLED: 'false',
      DRIFT_REPORT_DIR: join(dir, 'reports'),
    });
  });
  afterAll(() => app.close());

  const writeErrors = async () => {
    const text = (await request(app.getHttpServer()).get('/metrics')).text;
    return Number(/^prediction_log_write_errors_total (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('answers every prediction while writes fail with ENOSPC, and writes them all once there is room', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await request(app.getHttpServer())
        .post('/v1/models/seed_gbc:predict')
        .set('x-request-id', `full-${i}`)
        .send({ instances: [ROW, ROW] })
        .expect(200);
      ids.push(answer.headers['x-request-id']);
    }
    await until(async () => (await writeErrors()) >= 2);

    // Room again: the link goes, and the timer's next retry writes what waited, in order, once.
    rmSync(logPath);
    await until(() => {
      try {
        return readFileSync(logPath, 'utf8').split('\n').flatMap(parseRecords).length >= 40;
      } catch {
        return false;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const logged = readFileSync(logPath, 'utf8')
      .split('\n')
      .flatMap(parseRecords)
      .map((record) => record.request_id);
    expect(logged).toEqual(ids.flatMap((id) => [id, id]));
    const summary = await readCountSummary(join(dir, countsFileName(dayOf(new Date()), defaultHost())));
    expect(summary?.models[0].n).toBe(40);
  });
});
