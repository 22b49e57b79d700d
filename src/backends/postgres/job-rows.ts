import { NotFoundError } from '../../core/errors.js';
import { decodeValue } from './job-codec.js';
import type { EnqueueResult, JobInfo, JobState } from './job-types.js';
import { runQuery, type Queryable, type Statement } from './pool.js';

/**
 * Row helpers of PostgresJobQueue: mapping a stored row to {@link JobInfo} and matching
 * idempotency-key duplicates back to the input order of an enqueue batch.
 *
 * @internal
 */

/** Maps a row of the `get` statement. */
export function toJobInfo<T>(row: Record<string, unknown>): JobInfo<T> {
  return {
    id: row['id'] as string,
    queue: row['queue'] as string,
    state: row['state'] as JobState,
    priority: row['priority'] as number,
    payload: decodeValue(row['payload'] as string) as T,
    attempts: row['attempts'] as number,
    maxAttempts: row['max_attempts'] as number,
    idempotencyKey: row['idempotency_key'] as string | null,
    lastError: row['last_error'] as string | null,
    result: decodeValue(row['result'] as string | null),
    createdAt: row['created_at'] as number,
    runAt: row['run_at'] as number,
    startedAt: row['started_at'] as number | null,
    finishedAt: row['finished_at'] as number | null,
  };
}

/**
 * Results of an enqueue batch in input order when some rows were skipped by an
 * idempotency-key conflict: the skipped ones resolve to the existing job's id.
 */
export async function resolveDuplicates(
  db: Queryable,
  findByKeys: Statement,
  queue: string,
  keys: readonly (string | null)[],
  inserted: readonly { id: string; idempotency_key: string | null }[],
): Promise<EnqueueResult[]> {
  const byKey = new Map<string, EnqueueResult>();
  const plain: EnqueueResult[] = [];
  for (const row of inserted) {
    if (row.idempotency_key === null) plain.push({ id: row.id, created: true });
    else byKey.set(row.idempotency_key, { id: row.id, created: true });
  }
  const missing = [...new Set(keys.filter((k): k is string => k !== null && !byKey.has(k)))];
  const found = await runQuery<{ id: string; idempotency_key: string }>(
    db,
    findByKeys,
    [queue, missing],
    'enqueue (idempotency lookup)',
  );
  for (const row of found) byKey.set(row.idempotency_key, { id: row.id, created: false });
  let next = 0;
  const seen = new Set<string>();
  return keys.map((key) => {
    if (key === null) {
      const result = plain[next++];
      if (result === undefined) throw new Error('enqueue: row count mismatch');
      return result;
    }
    const result = byKey.get(key);
    if (result === undefined) {
      throw new NotFoundError(`idempotency key conflict but the job is gone: ${key}`, {
        code: 'ERR_POSTGRES_JOB_NOT_FOUND',
      });
    }
    // A key repeated inside one batch yields one job; later copies report created: false.
    const out = seen.has(key) ? { id: result.id, created: false } : result;
    seen.add(key);
    return out;
  });
}
