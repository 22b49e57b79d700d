import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { isFunction, nonNegativeInteger, positiveInteger } from '../../core/validate.js';
import { resolveJobQueueConfig, type JobQueueConfig } from './job-queue-config.js';
import { validateJobId, validateQueueName } from './job-codec.js';
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
import { resolvePool, type ResolvedPool } from './pool.js';
import { StatementSet } from './sql-file.js';
import { JobStatements } from './job-statements.js';
import { JobWorker, type WorkerHost } from './worker.js';
import { encodeJobBatch, MAX_BATCH } from './job-rows.js';
import { startMaintenance } from './maintenance.js';

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
  readonly #db: JobStatements;
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
    this.#channel = `majra_jobs_${createHash('sha256').update(this.#cfg.schema).digest('hex').slice(0, 24)}`;
    this.#db = new JobStatements(
      this.#resolved.pool,
      new StatementSet('./queries/job-queue.sql', this.#cfg.schema),
      this.#channel,
      this.#cfg,
    );
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
    const batch = encodeJobBatch(jobs, this.#cfg);
    if (batch.payloads.length === 0) return [];
    return this.#db.enqueue(options.executor ?? this.#resolved.pool, queue, batch);
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
    return this.#db.claim<T>(queue, limit, leaseMs);
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
      return { job: item.job, result: this.#db.encodeResult(item.result) };
    });
    return this.#db.ack(encoded);
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
    return this.#db.nack(job, error, options);
  }

  /** Extends the leases of held jobs; returns the ids still held (the others were lost). */
  async renew(
    jobs: readonly Pick<ClaimedJob, 'id' | 'attempt'>[],
    leaseMs = this.#cfg.leaseMs,
  ): Promise<Set<string>> {
    this.#life.assertOpen('renew');
    positiveInteger('leaseMs', leaseMs, 2 ** 31);
    for (const job of jobs) validateJobId(job.id);
    return this.#db.renew(jobs, leaseMs);
  }

  /**
   * Cancels a queued or running job from any process; a running job's handler sees its
   * signal abort. Resolves true if it was queued/running, false if it had finished;
   * rejects with `ERR_POSTGRES_JOB_NOT_FOUND` if no such job exists.
   */
  async cancel(id: string): Promise<boolean> {
    this.#life.assertOpen('cancel');
    validateJobId(id);
    return this.#db.changeState(id, 'cancel');
  }

  /** Requeues a dead or cancelled job with its attempts reset; false if it is in another state. */
  async retry(id: string): Promise<boolean> {
    this.#life.assertOpen('retry');
    validateJobId(id);
    return this.#db.changeState(id, 'retry');
  }

  /** Reads one job, or undefined if it does not exist (or retention removed it). */
  async get<T = unknown>(id: string): Promise<JobInfo<T> | undefined> {
    this.#life.assertOpen('get');
    validateJobId(id);
    return this.#db.get<T>(id);
  }

  /** Job counts of a queue by state (every state present, zero when none). */
  async counts(queue: string): Promise<Record<JobState, number>> {
    this.#life.assertOpen('counts');
    validateQueueName(queue);
    return this.#db.counts(queue);
  }

  /** Puts running jobs with expired leases back (or dead-letters them). Workers run this periodically. */
  async reap(limit = 1000): Promise<number> {
    this.#life.assertOpen('reap');
    positiveInteger('limit', limit, MAX_BATCH);
    return this.#db.reap(limit);
  }

  /** Deletes finished jobs older than the retention; returns how many. Workers run this periodically. */
  async sweep(limit = 1000): Promise<number> {
    this.#life.assertOpen('sweep');
    positiveInteger('limit', limit, MAX_BATCH);
    return this.#db.sweep(limit);
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
      claim: (queue, limit, leaseMs) => this.#db.claim(queue, limit, leaseMs),
      encodeResult: (result) => this.#db.encodeResult(result),
      ackEncoded: (items) => this.#db.ack(items),
      nack: (job, error) => this.#db.nack(job, error, {}),
      renew: (jobs, leaseMs) => this.#db.renew(jobs, leaseMs),
      nextDueMs: (queue) => this.#db.nextDueMs(queue),
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
    this.#maintenance ??= startMaintenance({
      clock: this.#cfg.clock,
      intervalMs: this.#cfg.maintenanceIntervalMs,
      isClosed: () => this.#life.isClosed,
      pass: () => Promise.all([this.#db.reap(1000), this.#db.sweep(1000)]),
      onError: this.#cfg.onError,
    });
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
