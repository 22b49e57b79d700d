import type { Clock } from '../../core/clock.js';
import type { MetricsSink } from '../../core/metrics.js';
import type { PostgresConnectionOptions, Queryable } from './pool.js';

/** States a job moves through. `dead` = attempts exhausted (the dead-letter state). */
export type JobState = 'queued' | 'running' | 'completed' | 'dead' | 'cancelled';

/** Retry delay policy after a failed attempt. */
export interface BackoffOptions {
  /** `exponential`: delayMs·2^(attempt-1); `fixed`: delayMs every time. @defaultValue 'exponential' */
  readonly type?: 'exponential' | 'fixed' | undefined;
  /** Base delay in ms. @defaultValue 1000 */
  readonly delayMs?: number | undefined;
  /** Upper bound in ms. @defaultValue 3_600_000 */
  readonly maxDelayMs?: number | undefined;
  /** Randomise each delay down by up to this fraction (0..1). @defaultValue 0.2 */
  readonly jitter?: number | undefined;
}

/** How long finished jobs are kept before the sweeper deletes them. */
export interface RetentionOptions {
  /** Completed and cancelled jobs, in ms; 0 deletes a job at ack. @defaultValue 3_600_000 */
  readonly completedMs?: number | undefined;
  /** Dead-lettered jobs, in ms. @defaultValue 604_800_000 (7 days) */
  readonly deadMs?: number | undefined;
}

/** Options of {@link connectPostgresJobQueue}. */
export interface PostgresJobQueueOptions extends PostgresConnectionOptions {
  /** Schema holding the tables (created and migrated at connect). @defaultValue 'majra' */
  readonly schema?: string | undefined;
  /** Largest encoded payload (and handler result) in bytes. @defaultValue 1 MiB */
  readonly maxPayloadBytes?: number | undefined;
  /** Default attempts before a job is dead-lettered. @defaultValue 3 */
  readonly maxAttempts?: number | undefined;
  /** Default retry backoff. */
  readonly backoff?: BackoffOptions | undefined;
  /** Default lease (visibility timeout) of a claim, in ms. @defaultValue 30_000 */
  readonly leaseMs?: number | undefined;
  /** Retention of finished jobs. */
  readonly retention?: RetentionOptions | undefined;
  /** How often workers reap expired leases and sweep retention, in ms. @defaultValue 5000 */
  readonly maintenanceIntervalMs?: number | undefined;
  /** Fallback poll interval of idle workers (NOTIFY is the normal wake-up), in ms. @defaultValue 5000 */
  readonly pollIntervalMs?: number | undefined;
  /**
   * Commit claims, acks, nacks and lease renewals without waiting for the WAL flush
   * (`synchronous_commit = off` for those transactions only; enqueue and cancel always
   * wait). Safe for at-least-once delivery: a database crash can only forget the last
   * few hundred ms of claims/acks, and those jobs run again. @defaultValue true
   */
  readonly asyncCommit?: boolean | undefined;
  /** Name recorded on claimed rows. @defaultValue `<hostname>:<pid>:<random>` */
  readonly workerId?: string | undefined;
  /** Timers (lease renewal, backoff, polling). Lease and schedule times use the DATABASE clock. */
  readonly clock?: Clock | undefined;
  /** Metrics sink (`majra_postgres_jobs_*`). */
  readonly metrics?: MetricsSink | undefined;
}

/** Per-job options of `enqueue`. */
export interface EnqueueOptions {
  /** Higher runs first; FIFO within a priority. A 32-bit integer. @defaultValue 0 */
  readonly priority?: number | undefined;
  /** Do not run before this many ms from now (database clock). @defaultValue 0 */
  readonly delayMs?: number | undefined;
  /** Attempts before dead-letter; overrides the queue default. */
  readonly maxAttempts?: number | undefined;
  /** A second enqueue with the same key on the same queue returns the first job's id while that job row exists. */
  readonly idempotencyKey?: string | undefined;
}

/** Options of an enqueue call (not per job). */
export interface EnqueueCallOptions {
  /**
   * Run the INSERT on this connection instead of the pool — pass the `pg` client of
   * your open transaction and the job commits (and its NOTIFY fires) with your data.
   */
  readonly executor?: Queryable | undefined;
}

/** Outcome of one enqueue. */
export interface EnqueueResult {
  /** The job id (a decimal bigint string). */
  readonly id: string;
  /** False when an existing job with the same idempotency key was returned instead. */
  readonly created: boolean;
}

/** A job held by a claim. `attempt` is the fencing token ack/nack/renew check. */
export interface ClaimedJob<T = unknown> {
  /** The job id. */
  readonly id: string;
  /** The queue it was enqueued on. */
  readonly queue: string;
  /** The payload as enqueued (JSON round trip). */
  readonly payload: T;
  /** Priority (higher is claimed first). */
  readonly priority: number;
  /** 1 on the first run. */
  readonly attempt: number;
  /** Attempts allowed before the job is dead-lettered. */
  readonly maxAttempts: number;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A job as stored, from `get()`. Times are epoch ms (null when not reached). */
export interface JobInfo<T = unknown> {
  /** The job id. */
  readonly id: string;
  /** The queue it belongs to. */
  readonly queue: string;
  /** Current state. */
  readonly state: JobState;
  /** Priority (higher is claimed first). */
  readonly priority: number;
  /** The payload as enqueued. */
  readonly payload: T;
  /** Attempts started so far. */
  readonly attempts: number;
  /** Attempts allowed before the job is dead-lettered. */
  readonly maxAttempts: number;
  /** The key given at enqueue, if any (one live job per key and queue). */
  readonly idempotencyKey: string | null;
  /** Error text of the last failed attempt. */
  readonly lastError: string | null;
  /** What the handler returned, once completed (`null` before). */
  readonly result: unknown;
  /** When it was enqueued. */
  readonly createdAt: number;
  /** Earliest time it may be claimed (enqueue delay or retry backoff). */
  readonly runAt: number;
  /** When the current or last attempt was claimed. */
  readonly startedAt: number | null;
  /** When it completed, died or was cancelled. */
  readonly finishedAt: number | null;
}

/** Options of `nack`. */
export interface NackOptions {
  /** Retry after this delay instead of the backoff policy's. */
  readonly delayMs?: number | undefined;
  /** Dead-letter now regardless of attempts left. */
  readonly dead?: boolean | undefined;
}

/** Context given to a work handler. */
export interface JobContext {
  /** Aborts when the job is cancelled (from any process), its lease is lost, or the worker is force-stopped with `abort()`. */
  readonly signal: AbortSignal;
}

/** A job handler: resolve to complete (the value is stored as the result), throw to fail the attempt. */
export type JobHandler<T = unknown> = (job: ClaimedJob<T>, context: JobContext) => unknown;

/** Options of `work()`. */
export interface WorkOptions {
  /** Handlers running at once. @defaultValue 1 */
  readonly concurrency?: number | undefined;
  /** Most jobs taken per claim statement. @defaultValue min(concurrency, 100) */
  readonly batchSize?: number | undefined;
  /** Lease per claim in ms (renewed while the handler runs). @defaultValue the queue's leaseMs */
  readonly leaseMs?: number | undefined;
  /** Aborting it stops the worker (like `close()`). */
  readonly signal?: AbortSignal | undefined;
}
