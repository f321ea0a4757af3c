import {
  dayOf,
  defaultHost,
  type LoggedPrediction,
  logFileName,
  parseRecords,
  PredictionLog,
} from '@app/monitoring';
import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every row in today's prediction log of an in-process app (one process: the file named by the host alone), after
 * writing what it holds; `app` undefined reads the file as it is.
 */
export async function loggedRecords(logDir: string, app?: INestApplication): Promise<LoggedPrediction[]> {
  await app?.get(PredictionLog).flush();
  return readFileSync(join(logDir, logFileName(dayOf(new Date()), defaultHost())), 'utf8')
    .split('\n')
    .flatMap(parseRecords);
}
