import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { integerInRange, nonNegativeInteger, positiveInteger } from '../../core/validate.js';
import type { JobQueueConfig } from './job-queue-config.js';
import { decodeValue, encodeValue, validateIdempotencyKey } from './job-codec.js';
import type { ClaimedJob, EnqueueOptions, EnqueueResult, JobInfo, JobState } from './job-types.js';
import { runQuery, type Queryable, type Statement } from './pool.js';

/**
 * Row helpers of PostgresJobQueue: encoding an enqueue batch into column arrays, mapping
 * stored rows to {@link JobInfo} and claimed jobs, and matching idempotency-key
 * duplicates back to the input order of an enqueue batch.
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

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Most jobs one enqueue, claim, reap or sweep call handles. */
export const MAX_BATCH = 10_000;

/** The columns of an enqueue statement, one array per column, in input order. */
export interface JobBatch {
  readonly payloads: string[];
  readonly priorities: number[];
  readonly delays: number[];
  readonly attempts: number[];
  readonly keys: (string | null)[];
}

/** Validates and encodes an enqueue batch as a whole, so a bad job writes nothing. */
export function encodeJobBatch(
  jobs: readonly (EnqueueOptions & { readonly payload: unknown })[],
  cfg: Pick<JobQueueConfig, 'maxPayloadBytes' | 'maxAttempts'>,
): JobBatch {
  const list: unknown = jobs;
  if (!Array.isArray(list) || list.length > MAX_BATCH) {
    throw new InvalidArgumentError(`jobs: expected an array of at most ${MAX_BATCH} jobs`);
  }
  const batch: JobBatch = { payloads: [], priorities: [], delays: [], attempts: [], keys: [] };
  jobs.forEach((job, i) => {
    const entry: unknown = job;
    if (typeof entry !== 'object' || entry === null) {
      throw new InvalidArgumentError(`jobs[${i}]: expected an object with a payload`);
    }
    batch.payloads.push(encodeValue(job.payload, cfg.maxPayloadBytes, `jobs[${i}].payload`));
    batch.priorities.push(integerInRange('priority', job.priority ?? 0, INT32_MIN, INT32_MAX));
    batch.delays.push(nonNegativeInteger('delayMs', job.delayMs ?? 0, 2 ** 40));
    batch.attempts.push(
      positiveInteger('maxAttempts', job.maxAttempts ?? cfg.maxAttempts, INT32_MAX),
    );
    batch.keys.push(
      job.idempotencyKey === undefined ? null : validateIdempotencyKey(job.idempotencyKey),
    );
  });
  return batch;
}

/** A row of the `claim` statement. */
export interface ClaimRow {
  id: string;
  priority: number;
  payload: string;
  attempts: number;
  max_attempts: number;
  created_at: number;
}

/** Maps claimed rows, highest priority first and FIFO (by id) within a priority. */
export function toClaimedJobs<T>(rows: ClaimRow[], queue: string): ClaimedJob<T>[] {
  rows.sort((a, b) => b.priority - a.priority || compareIds(a.id, b.id));
  return rows.map((row) => ({
    id: row.id,
    queue,
    payload: decodeValue(row.payload) as T,
    priority: row.priority,
    attempt: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
  }));
}

/** Orders bigint ids given as decimal strings. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The error for an id with no row. */
export function notFound(id: string): NotFoundError {
  return new NotFoundError(`job ${id} not found`, {
    code: 'ERR_POSTGRES_JOB_NOT_FOUND',
    details: { id },
  });
}
