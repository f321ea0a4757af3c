import { dayOf } from './log-files';
import type { LogStore } from './log-store';

/**
 * What the prediction log deletes, and when it settles a crash's leftovers: decisions over the folder's listing,
 * the same whichever LogStore holds it.
 */

/** Deletes log and count files of days before `oldestKept`; returns how many went. */
export async function deleteDaysBefore(store: LogStore, oldestKept: string): Promise<number> {
  let removed = 0;
  for (const file of await store.list()) {
    if (file.day >= oldestKept) continue;
    await store.remove(file.name);
    removed++;
  }
  return removed;
}

/** A log file the disk cap deleted. */
export interface DeletedLog {
  name: string;
  day: string;
  bytes: number;
}

/**
 * Deletes the oldest days' logs, every host's, until the folder's log and count files fit in `maxBytes`
 * (PREDICTION_LOG_MAX_BYTES; Infinity only measures). Never a log of `today` or the day before, which writers may
 * still append to, and never a count summary: they are small, and drift over a deleted day stays exact with them.
 * Replicas sharing the folder may race to delete the same file: the one that finds it gone leaves it out. A day
 * being compressed counts once (see below).
 * Returns what it deleted and the folder's size after.
 */
export async function capLogFolder(
  store: LogStore,
  maxBytes: number,
  today: string,
): Promise<{ deleted: DeletedLog[]; bytes: number }> {
  const listed = await store.list();
  // Both forms of a day exist for a moment while compressLog, which runs beside this, removes the plain one: the
  // day counts once, in its compressed form, and the plain one is left to compressLog.
  const compressed = new Set(
    listed.filter((file) => file.compressed).map((file) => `${file.day}.${file.host}`),
  );
  const files = await Promise.all(
    listed
      .filter((file) => file.kind !== 'log' || file.compressed || !compressed.has(`${file.day}.${file.host}`))
      .map(async (file) => ({ ...file, bytes: (await store.size(file.name)) ?? 0 })),
  );
  let bytes = files.reduce((total, file) => total + file.bytes, 0);
  const yesterday = dayOf(new Date(Date.parse(`${today}T00:00:00Z`) - 24 * 60 * 60 * 1000));
  const deletable = files
    .filter((file) => file.kind === 'log' && file.day < yesterday)
    .sort((a, b) => (a.day === b.day ? (a.name < b.name ? -1 : 1) : a.day < b.day ? -1 : 1));
  const deleted: DeletedLog[] = [];
  for (const { name, day, bytes: size } of deletable) {
    if (bytes <= maxBytes) break;
    if (await store.remove(name)) deleted.push({ name, day, bytes: size });
    bytes -= size;
  }
  return { deleted, bytes };
}

/**
 * Both forms of a day after a crash between compress's (or restore's) rename and its removal: they hold the same
 * lines, and the compressed one stays.
 */
export async function settleBothForms(store: LogStore, host: string): Promise<void> {
  const files = await store.list();
  for (const file of files) {
    if (file.kind !== 'log' || file.compressed || file.host !== host) continue;
    if (files.some((f) => f.compressed && f.day === file.day && f.host === host))
      await store.remove(file.name);
  }
}
