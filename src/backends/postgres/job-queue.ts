import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { TimerHandle } from '../../core/clock.js';
import { InvalidArgumentError, NotFoundError, toError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import {
  integerInRange,
  isFunction,
  nonNegativeInteger,
  positiveInteger,
} from '../../core/validate.js';
import { resolveJobQueueConfig, type JobQueueConfig } from './job-queue-config.js';
import {
  backoffDelay,
  decodeValue,
  encodeValue,
  storableText,
  validateIdempotencyKey,
  validateJobId,
  validateQueueName,
} from './job-codec.js';
import type {
  ClaimedJob,
  EnqueueCallOptions,
  EnqueueOptions,
  EnqueueResult,
  JobHandler,
  JobInfo,
  JobState,
  NackOptions,
  PostgresJobQueueOptions,
  WorkOptions,
} from './job-types.js';
import { NotificationListener } from './listener.js';
import { migrate } from './migrate.js';
import * as M from './metrics.js';
import { resolvePool, runQuery, type ResolvedPool } from './pool.js';
import { StatementSet } from './sql-file.js';
import { JobWorker, type WorkerHost } from './worker.js';
import { resolveDuplicates, toJobInfo } from './job-rows.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const MAX_BATCH = 10_000;

interface ClaimRow {
  id: string;
  priority: number;
  payload: string;
  attempts: number;
  max_attempts: number;
  created_at: number;
}

/**
 * Opens a durable PostgreSQL job queue: adopts `options.pool` or creates a pool from
 * `options.connectionString`, migrates `options.schema`, starts the LISTEN connection,
 * and resolves when ready. An unreachable database rejects with `ERR_POSTGRES_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const jobs = await connectPostgresJobQueue({ connectionString: process.env.DATABASE_URL });
 * await jobs.enqueue('email', { to: 'a@example.com' });
 * const worker = jobs.work('email', async (job, { signal }) => send(job.payload, signal), { concurrency: 8 });
 * ```
 */
export async function connectPostgresJobQueue(
  options: PostgresJobQueueOptions,
): Promise<PostgresJobQueue> {
  const queue = new PostgresJobQueue(options);
  try {
    await queue.ready();
  } catch (error) {
    await queue.close().catch(() => undefined);
    throw error;
  }
  return queue;
}

/**
 * A job queue in PostgreSQL for many workers across processes and machines. Claims use
 * `FOR UPDATE SKIP LOCKED`; a claim leases jobs until a visibility timeout that running
 * workers renew, and any worker's maintenance pass puts expired leases back. Workers are
 * woken by LISTEN/NOTIFY and poll slowly only as a fallback. Delivery is at-least-once;
 * ack/nack are fenced by the attempt number so a stale worker cannot finish a job that
 * was taken back. Create with {@link connectPostgresJobQueue}.
 */
export class PostgresJobQueue implements Closeable {
  readonly #life = new Lifecycle('PostgresJobQueue');
  readonly #cfg: JobQueueConfig;
  readonly #resolved: ResolvedPool;
  readonly #sql: StatementSet;
  readonly #channel: string;
  readonly #listener: NotificationListener;
  readonly #workers = new Set<JobWorker>();
  readonly #wakeHandlers = new Set<(queue: string | undefined) => void>();
  readonly #cancelHandlers = new Set<(id: string) => void>();
  #maintenance: { cancel(): void } | undefined;
  #ready: Promise<void> | undefined;

  /** Use {@link connectPostgresJobQueue}; the constructor validates options and does no I/O. */
  constructor(options: PostgresJobQueueOptions) {
    this.#cfg = resolveJobQueueConfig(options);
    this.#resolved = resolvePool({ ...options, onError: this.#cfg.onError });
    this.#sql = new StatementSet('./queries/job-queue.sql', this.#cfg.schema);
    this.#channel = `majra_jobs_${createHash('sha256').update(this.#cfg.schema).digest('hex').slice(0, 24)}`;
    this.#listener = new NotificationListener({
      pool: this.#resolved.pool,
      channel: this.#channel,
      clock: this.#cfg.clock,
      onError: this.#cfg.onError,
      onMessage: (payload) => this.#dispatch(payload),
      onReconnect: () => {
        for (const wake of this.#wakeHandlers) wake(undefined);
      },
    });
  }

  /** Migrates the schema and starts listening; idempotent. Called by {@link connectPostgresJobQueue}. */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      this.#life.assertOpen('connect');
      await migrate(this.#resolved.pool, {
        schema: this.#cfg.schema,
        metrics: this.#cfg.metrics,
      });
      await this.#listener.start();
    })();
    return this.#ready;
  }

  /** The pool in use (yours, or the one majra created). */
  get pool(): Pool {
    return this.#resolved.pool;
  }

  /** The schema holding the tables. */
  get schema(): string {
    return this.#cfg.schema;
  }

  /** Workers started by `work()` and not closed yet. */
  get activeWorkers(): number {
    return this.#workers.size;
  }

  /** This process's worker id, recorded on claimed rows. */
  get workerId(): string {
    return this.#cfg.workerId;
  }

  #dispatch(payload: string): void {
    if (payload.startsWith('e:')) {
      const queue = payload.slice(2);
      for (const wake of this.#wakeHandlers) wake(queue);
    } else if (payload.startsWith('c:')) {
      const id = payload.slice(2);
      for (const cancel of this.#cancelHandlers) cancel(id);
    }
  }

  /**
   * Adds one job. With `options.executor` set to your transaction's client, the job
   * commits with your data (and workers are notified at commit).
   */
  async enqueue(
    queue: string,
    payload: unknown,
    options: EnqueueOptions & EnqueueCallOptions = {},
  ): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany(queue, [{ payload, ...options }], options);
    if (result === undefined) throw new Error('enqueue returned no row');
    return result;
  }

  /** Adds many jobs in one statement; results are in input order. Validated as a whole before any write. */
  async enqueueMany(
    queue: string,
    jobs: readonly (EnqueueOptions & { readonly payload: unknown })[],
    options: EnqueueCallOptions = {},
  ): Promise<EnqueueResult[]> {
    this.#life.assertOpen('enqueue');
    validateQueueName(queue);
    const list: unknown = jobs;
    if (!Array.isArray(list) || list.length > MAX_BATCH) {
      throw new InvalidArgumentError(`jobs: expected an array of at most ${MAX_BATCH} jobs`);
    }
    if (jobs.length === 0) return [];
    const payloads: string[] = [];
    const priorities: number[] = [];
    const delays: number[] = [];
    const attempts: number[] = [];
    const keys: (string | null)[] = [];
    jobs.forEach((job, i) => {
      const entry: unknown = job;
      if (typeof entry !== 'object' || entry === null) {
        throw new InvalidArgumentError(`jobs[${i}]: expected an object with a payload`);
      }
      payloads.push(encodeValue(job.payload, this.#cfg.maxPayloadBytes, `jobs[${i}].payload`));
      priorities.push(integerInRange('priority', job.priority ?? 0, INT32_MIN, INT32_MAX));
      delays.push(nonNegativeInteger('delayMs', job.delayMs ?? 0, 2 ** 40));
      attempts.push(
        positiveInteger('maxAttempts', job.maxAttempts ?? this.#cfg.maxAttempts, INT32_MAX),
      );
      keys.push(
        job.idempotencyKey === undefined ? null : validateIdempotencyKey(job.idempotencyKey),
      );
    });
    const db = options.executor ?? this.#resolved.pool;
    const rows = await runQuery<{ id: string; idempotency_key: string | null }>(
      db,
      this.#sql.get('enqueue'),
      [queue, payloads, priorities, delays, attempts, keys, this.#channel],
      'enqueue',
    );
    this.#cfg.metrics.increment(M.JOBS_ENQUEUED, rows.length);
    if (rows.length === jobs.length) return rows.map((row) => ({ id: row.id, created: true }));
    return resolveDuplicates(db, this.#sql.get('findByKeys'), queue, keys, rows);
  }

  /** Claims up to `limit` due jobs of `queue`, leased for `leaseMs`. Highest priority first, FIFO within. */
  async claim<T = unknown>(
    queue: string,
    options: { readonly limit?: number; readonly leaseMs?: number } = {},
  ): Promise<ClaimedJob<T>[]> {
    this.#life.assertOpen('claim');
    validateQueueName(queue);
    const limit = positiveInteger('limit', options.limit ?? 1, MAX_BATCH);
    const leaseMs = positiveInteger('leaseMs', options.leaseMs ?? this.#cfg.leaseMs, 2 ** 31);
    return this.#claim<T>(queue, limit, leaseMs);
  }

  async #claim<T>(queue: string, limit: number, leaseMs: number): Promise<ClaimedJob<T>[]> {
    const rows = await runQuery<ClaimRow>(
      this.#resolved.pool,
      this.#sql.get('claim'),
      [queue, limit, leaseMs, this.#cfg.workerId, this.#cfg.syncCommit],
      'claim',
    );
    rows.sort((a, b) => b.priority - a.priority || compareIds(a.id, b.id));
    this.#cfg.metrics.increment(M.JOBS_CLAIMED, rows.length);
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

  /** Completes a claimed job; false when the lease was lost (cancelled, reaped or reclaimed). */
  async ack(job: Pick<ClaimedJob, 'id' | 'attempt'>, result?: unknown): Promise<boolean> {
    return (await this.ackMany([{ job, result }])) === 1;
  }

  /** Completes many claimed jobs in one statement; returns how many were still held. */
  async ackMany(
    items: readonly {
      readonly job: Pick<ClaimedJob, 'id' | 'attempt'>;
      readonly result?: unknown;
    }[],
  ): Promise<number> {
    this.#life.assertOpen('ack');
    if (items.length === 0) return 0;
    const encoded = items.map((item) => {
      validateJobId(item.job.id);
      return { job: item.job, result: this.#encodeResult(item.result) };
    });
    return this.#ackEncoded(encoded);
  }

  #encodeResult(result: unknown): string | null {
    if (result === undefined || this.#cfg.completedMs === 0) return null;
    return encodeValue(result, this.#cfg.maxPayloadBytes, 'result');
  }

  async #ackEncoded(
    items: readonly {
      readonly job: Pick<ClaimedJob, 'id' | 'attempt'>;
      readonly result: string | null;
    }[],
  ): Promise<number> {
    const ids = items.map((item) => item.job.id);
    const attempts = items.map((item) => item.job.attempt);
    let rows: unknown[];
    if (this.#cfg.completedMs === 0) {
      rows = await runQuery(
        this.#resolved.pool,
        this.#sql.get('ackDelete'),
        [ids, attempts, this.#cfg.syncCommit],
        'ack',
      );
    } else {
      const results = items.map((item) => item.result);
      rows = await runQuery(
        this.#resolved.pool,
        this.#sql.get('ack'),
        [ids, attempts, results, this.#cfg.syncCommit],
        'ack',
      );
    }
    this.#cfg.metrics.increment(M.JOBS_COMPLETED, rows.length);
    if (rows.length < items.length)
      this.#cfg.metrics.increment(M.LEASES_LOST, items.length - rows.length);
    return rows.length;
  }

  /**
   * Fails the current attempt: the job is retried after the backoff delay, or
   * dead-lettered when its attempts are used up (or `dead: true`). Resolves to the new
   * state, or null when the lease was lost.
   */
  async nack(
    job: Pick<ClaimedJob, 'id' | 'attempt'>,
    error: unknown,
    options: NackOptions = {},
  ): Promise<'queued' | 'dead' | null> {
    this.#life.assertOpen('nack');
    validateJobId(job.id);
    if (options.delayMs !== undefined) nonNegativeInteger('delayMs', options.delayMs, 2 ** 40);
    return this.#nack(job, error, options);
  }

  async #nack(
    job: Pick<ClaimedJob, 'id' | 'attempt'>,
    error: unknown,
    options: NackOptions,
  ): Promise<'queued' | 'dead' | null> {
    const id = job.id;
    const delay = options.delayMs ?? backoffDelay(this.#cfg.backoff, job.attempt);
    const message = storableText(error instanceof Error ? error.message : String(error));
    const rows = await runQuery<{ state: 'queued' | 'dead' }>(
      this.#resolved.pool,
      this.#sql.get('nack'),
      [id, job.attempt, delay, message, options.dead === true, this.#channel, this.#cfg.syncCommit],
      'nack',
    );
    const state = rows[0]?.state ?? null;
    if (state === null) this.#cfg.metrics.increment(M.LEASES_LOST);
    else
      this.#cfg.metrics.increment(M.JOBS_FAILED, 1, {
        outcome: state === 'dead' ? 'dead' : 'retry',
      });
    return state;
  }

  /** Extends the leases of held jobs; returns the ids still held (the others were lost). */
  async renew(
    jobs: readonly Pick<ClaimedJob, 'id' | 'attempt'>[],
    leaseMs = this.#cfg.leaseMs,
  ): Promise<Set<string>> {
    this.#life.assertOpen('renew');
    positiveInteger('leaseMs', leaseMs, 2 ** 31);
    for (const job of jobs) validateJobId(job.id);
    return this.#renew(jobs, leaseMs);
  }

  async #renew(
    jobs: readonly Pick<ClaimedJob, 'id' | 'attempt'>[],
    leaseMs: number,
  ): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const rows = await runQuery<{ id: string }>(
      this.#resolved.pool,
      this.#sql.get('renew'),
      [jobs.map((j) => j.id), jobs.map((j) => j.attempt), leaseMs, this.#cfg.syncCommit],
      'renew',
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Cancels a queued or running job from any process; a running job's handler sees its
   * signal abort. Resolves true if it was queued/running, false if it had finished;
   * rejects with `ERR_POSTGRES_JOB_NOT_FOUND` if no such job exists.
   */
  async cancel(id: string): Promise<boolean> {
    this.#life.assertOpen('cancel');
    validateJobId(id);
    const rows = await runQuery<{ cancelled: number }>(
      this.#resolved.pool,
      this.#sql.get('cancel'),
      [id, this.#channel],
      'cancel',
    );
    if ((rows[0]?.cancelled ?? 0) > 0) {
      this.#cfg.metrics.increment(M.JOBS_CANCELLED);
      return true;
    }
    if ((await this.get(id)) === undefined) throw notFound(id);
    return false;
  }

  /** Requeues a dead or cancelled job with its attempts reset; false if it is in another state. */
  async retry(id: string): Promise<boolean> {
    this.#life.assertOpen('retry');
    validateJobId(id);
    const rows = await runQuery<{ retried: number }>(
      this.#resolved.pool,
      this.#sql.get('retry'),
      [id, this.#channel],
      'retry',
    );
    if ((rows[0]?.retried ?? 0) > 0) return true;
    if ((await this.get(id)) === undefined) throw notFound(id);
    return false;
  }

  /** Reads one job, or undefined if it does not exist (or retention removed it). */
  async get<T = unknown>(id: string): Promise<JobInfo<T> | undefined> {
    this.#life.assertOpen('get');
    validateJobId(id);
    const [row] = await runQuery<Record<string, unknown>>(
      this.#resolved.pool,
      this.#sql.get('get'),
      [id],
      'get',
    );
    if (row === undefined) return undefined;
    return toJobInfo<T>(row);
  }

  /** Job counts of a queue by state (every state present, zero when none). */
  async counts(queue: string): Promise<Record<JobState, number>> {
    this.#life.assertOpen('counts');
    validateQueueName(queue);
    const rows = await runQuery<{ state: JobState; n: number }>(
      this.#resolved.pool,
      this.#sql.get('counts'),
      [queue],
      'counts',
    );
    const out: Record<JobState, number> = {
      queued: 0,
      running: 0,
      completed: 0,
      dead: 0,
      cancelled: 0,
    };
    for (const row of rows) out[row.state] = row.n;
    return out;
  }

  /** Puts running jobs with expired leases back (or dead-letters them). Workers run this periodically. */
  async reap(limit = 1000): Promise<number> {
    this.#life.assertOpen('reap');
    positiveInteger('limit', limit, MAX_BATCH);
    return this.#reap(limit);
  }

  async #reap(limit: number): Promise<number> {
    const rows = await runQuery<{ reaped: number }>(
      this.#resolved.pool,
      this.#sql.get('reap'),
      [limit, this.#channel],
      'reap',
    );
    const reaped = rows[0]?.reaped ?? 0;
    this.#cfg.metrics.increment(M.JOBS_REAPED, reaped);
    return reaped;
  }

  /** Deletes finished jobs older than the retention; returns how many. Workers run this periodically. */
  async sweep(limit = 1000): Promise<number> {
    this.#life.assertOpen('sweep');
    positiveInteger('limit', limit, MAX_BATCH);
    return this.#sweep(limit);
  }

  async #sweep(limit: number): Promise<number> {
    const rows = await runQuery<{ deleted: number }>(
      this.#resolved.pool,
      this.#sql.get('sweep'),
      [this.#cfg.completedMs, this.#cfg.deadMs, limit],
      'sweep',
    );
    return rows[0]?.deleted ?? 0;
  }

  /**
   * Starts a worker on `queue`: claims in batches, runs `handler` with up to
   * `concurrency` jobs at once, acks results (batched), nacks failures, renews leases,
   * and aborts a handler's signal when its job is cancelled. Stop it with `close()`
   * (waits for running handlers) or the `signal` option.
   */
  work<T = unknown>(queue: string, handler: JobHandler<T>, options: WorkOptions = {}): JobWorker {
    this.#life.assertOpen('work');
    validateQueueName(queue);
    isFunction('handler', handler);
    const worker = new JobWorker(this.#host(), queue, handler as JobHandler, options);
    this.#workers.add(worker);
    void worker.closed.then(() => this.#workers.delete(worker));
    this.#startMaintenance();
    return worker;
  }

  #host(): WorkerHost {
    return {
      clock: this.#cfg.clock,
      metrics: this.#cfg.metrics,
      onError: this.#cfg.onError,
      leaseMs: this.#cfg.leaseMs,
      pollIntervalMs: this.#cfg.pollIntervalMs,
      claim: (queue, limit, leaseMs) => this.#claim(queue, limit, leaseMs),
      encodeResult: (result) => this.#encodeResult(result),
      ackEncoded: (items) => this.#ackEncoded(items),
      nack: (job, error) => this.#nack(job, error, {}),
      renew: (jobs, leaseMs) => this.#renew(jobs, leaseMs),
      nextDueMs: async (queue) => {
        const [row] = await runQuery<{ due_in_ms: number | null }>(
          this.#resolved.pool,
          this.#sql.get('nextDue'),
          [queue],
          'next due',
        );
        return row?.due_in_ms ?? null;
      },
      onWake: (fn) => {
        this.#wakeHandlers.add(fn);
        return () => this.#wakeHandlers.delete(fn);
      },
      onCancel: (fn) => {
        this.#cancelHandlers.add(fn);
        return () => this.#cancelHandlers.delete(fn);
      },
    };
  }

  #startMaintenance(): void {
    if (this.#maintenance !== undefined) return;
    let stopped = false;
    let timer: TimerHandle | undefined;
    const tick = (): void => {
      if (stopped || this.#life.isClosed) return;
      Promise.all([this.#reap(1000), this.#sweep(1000)])
        .catch((error: unknown) => this.#cfg.onError(toError(error)))
        .finally(() => {
          if (!stopped && !this.#life.isClosed) {
            timer = this.#cfg.clock.setTimer(this.#cfg.maintenanceIntervalMs, tick);
            timer.unref();
          }
        });
    };
    timer = this.#cfg.clock.setTimer(0, tick);
    timer.unref();
    this.#maintenance = {
      cancel: () => {
        stopped = true;
        timer?.cancel();
      },
    };
  }

  /** The resolved close promise. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Stops every worker (waiting for running handlers), the listener, and ends an owned pool. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      await Promise.allSettled([...this.#workers].map((worker) => worker.close()));
      this.#maintenance?.cancel();
      await this.#listener.stop();
      await this.#resolved.release();
    });
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`job ${id} not found`, {
    code: 'ERR_POSTGRES_JOB_NOT_FOUND',
    details: { id },
  });
}
