import type { Clock } from '../core/clock.js';
import type { Job } from './job.js';
import { checkStoredJob, decodePayload } from './job-codec.js';
import type { JobState, QueueStore, StoredJob } from './types.js';

/**
 * Reads a store back into job records for `ManagedQueue.restore`. Every row is checked
 * and decoded before anything is written, so a corrupt store fails the restore without
 * touching it; then rows that were running are moved per `running` in the store, one
 * compare-and-set at a time (a crash part-way leaves a state the next restore handles).
 *
 * @internal
 */
export async function loadJobs<T>(
  store: QueueStore,
  running: 'requeue' | 'fail',
  clock: Clock,
  failure: (op: string, error: unknown) => Error,
): Promise<Job<T>[]> {
  let rows: StoredJob[];
  let payloads: unknown[];
  try {
    rows = (await store.load()).map(checkStoredJob);
    payloads = rows.map((row) => decodePayload(row.id, row.payload));
  } catch (error) {
    throw failure('load', error);
  }
  const now = clock.now();
  const mono = clock.monotonic();
  const jobs: Job<T>[] = [];
  for (const [index, row] of rows.entries()) {
    let state = row.state;
    let startedAt = row.startedAt;
    let finishedAt = row.finishedAt;
    if (state === 'running') {
      const to: JobState = running === 'requeue' ? 'queued' : 'failed';
      if (to === 'queued') startedAt = undefined;
      else finishedAt = now;
      const change = { id: row.id, from: state, to, attempts: row.attempts, startedAt, finishedAt };
      try {
        await store.transition(change);
      } catch (error) {
        throw failure('restore', error);
      }
      state = to;
    }
    jobs.push({
      id: row.id,
      seq: row.seq,
      priority: row.priority,
      payload: payloads[index] as T,
      resources: row.resources === undefined ? undefined : Object.freeze({ ...row.resources }),
      state,
      attempts: row.attempts,
      enqueuedAt: row.enqueuedAt,
      startedAt,
      finishedAt,
      // Age finished jobs by wall-clock time elapsed since they finished.
      finishedMono: mono - Math.max(0, now - (finishedAt ?? now)),
      hasRun: false,
      controller: undefined,
      abortReason: undefined,
      prev: undefined,
      next: undefined,
    });
  }
  return jobs.sort((a, b) => a.seq - b.seq);
}
