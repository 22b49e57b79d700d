import { BackendError, isMajraError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import type { MetricsSink } from '../../core/metrics.js';
import { operationMeter, type OperationMeter } from '../../core/operation-meter.js';
import { hasControlCharacter, invalid } from '../../core/validate.js';
import { alreadyStored, fromJobRow, notInState, type JobRow } from '../../queue/job-codec.js';
import type { JobTransition, QueueStore, StoredJob } from '../../queue/types.js';
import { DEFAULT_SCHEMA, validateSchemaName } from './identifier.js';
import { QUEUE_STORE_LABELS, STORE_OPERATIONS } from './metrics.js';
import { migrate } from './migrate.js';
import {
  resolvePool,
  runQuery,
  type PostgresConnectionOptions,
  type ResolvedPool,
} from './pool.js';
import { StatementSet } from './sql-file.js';

/** Options of {@link connectPostgresQueueStore}. */
export interface PostgresQueueStoreOptions extends PostgresConnectionOptions {
  /** Schema holding the tables (created and migrated at connect). @defaultValue 'majra' */
  readonly schema?: string | undefined;
  /** Which managed queue's rows this store holds; many queues can share a schema. @defaultValue 'managed' */
  readonly queue?: string | undefined;
  /**
   * Counts operations (`majra_postgres_store_operations_total{store="queue"}`) and
   * migrations applied at connect; default none.
   */
  readonly metrics?: MetricsSink | undefined;
}

/**
 * Opens a {@link PostgresQueueStore}: adopts `pool` or creates one from
 * `connectionString`, migrates `schema`, and resolves when ready. An unreachable
 * database rejects with `ERR_POSTGRES_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { ManagedQueue } from 'majra/queue';
 * import { connectPostgresQueueStore } from 'majra/postgres';
 *
 * const store = await connectPostgresQueueStore({ connectionString: process.env.DATABASE_URL, queue: 'gpu' });
 * const queue = await ManagedQueue.restore(store, { running: 'requeue' });
 * // ... on shutdown:
 * await queue.close();
 * await store.close();
 * ```
 */
export async function connectPostgresQueueStore(
  options: PostgresQueueStoreOptions = {},
): Promise<PostgresQueueStore> {
  const store = new PostgresQueueStore(options);
  try {
    await migrate(store.pool, { schema: store.schema, metrics: options.metrics });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The `QueueStore` port of `ManagedQueue` on PostgreSQL: one row per job in
 * `<schema>.majra_queue_jobs`, scoped by queue name. Each call is one parameterised,
 * synchronously committed statement, so it takes effect completely or not at all and is
 * durable when it resolves. Transitions are compare-and-set on the current state, so a
 * second writer's stale update is refused (`ERR_QUEUE_STORE_CONFLICT`) rather than
 * applied. For many workers consuming one queue across processes use
 * {@link PostgresJobQueue} instead; a `ManagedQueue` is one process's queue.
 */
export class PostgresQueueStore implements QueueStore, Closeable {
  /** The managed queue whose rows this store holds. */
  readonly queue: string;
  /** The schema holding the table. */
  readonly schema: string;
  readonly #life = new Lifecycle('PostgresQueueStore');
  readonly #resolved: ResolvedPool;
  readonly #sql: StatementSet;
  readonly #meter: OperationMeter | undefined;

  /** Use {@link connectPostgresQueueStore}; the constructor validates and does no I/O. */
  constructor(options: PostgresQueueStoreOptions = {}) {
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    const queue: unknown = options.queue ?? 'managed';
    if (
      typeof queue !== 'string' ||
      queue.length === 0 ||
      queue.length > 256 ||
      hasControlCharacter(queue)
    ) {
      invalid('queue', 'a string of 1 to 256 characters without control characters', queue);
    }
    this.queue = queue;
    this.#resolved = resolvePool(options);
    this.#sql = new StatementSet('./queries/queue-store.sql', this.schema);
    this.#meter = operationMeter(options.metrics, STORE_OPERATIONS, QUEUE_STORE_LABELS);
  }

  /** The pool in use. */
  get pool(): ResolvedPool['pool'] {
    return this.#resolved.pool;
  }

  async insert(job: StoredJob): Promise<void> {
    this.#life.assertOpen('insert');
    const rows = await this.#run('insert', true, [
      this.queue,
      job.id,
      job.seq,
      job.priority,
      job.state,
      job.payload,
      job.resources?.gpuCount ?? null,
      job.resources?.vramMb ?? null,
      job.attempts,
      job.enqueuedAt,
      job.startedAt ?? null,
      job.finishedAt ?? null,
    ]);
    if (rows.length === 0) {
      throw alreadyStored(job.id);
    }
  }

  async transition(change: JobTransition): Promise<void> {
    this.#life.assertOpen('transition');
    const rows = await this.#run('transition', true, [
      this.queue,
      change.id,
      change.from,
      change.to,
      change.attempts,
      change.startedAt ?? null,
      change.finishedAt ?? null,
    ]);
    if (rows.length === 0) {
      throw notInState(change);
    }
  }

  async load(): Promise<StoredJob[]> {
    this.#life.assertOpen('load');
    const rows = (await this.#run('load', false, [this.queue])) as JobRow[];
    return rows.map(fromJobRow);
  }

  async remove(ids: readonly string[]): Promise<void> {
    this.#life.assertOpen('remove');
    if (ids.length === 0) return;
    await this.#run('remove', false, [this.queue, [...ids]]);
  }

  /** Runs statement `op`; with `compareAndSet`, no row back means the store refused it. */
  async #run(op: string, compareAndSet: boolean, values: unknown[]): Promise<unknown[]> {
    try {
      const rows = await runQuery(
        this.#resolved.pool,
        this.#sql.get(op),
        values,
        `queue store ${op}`,
      );
      if (compareAndSet && rows.length === 0) this.#meter?.conflict(op);
      else this.#meter?.ok(op);
      return rows;
    } catch (error) {
      this.#meter?.error(op);
      const sqlState = isMajraError(error) ? error.details?.['sqlState'] : undefined;
      throw new BackendError(`PostgreSQL queue store ${op} failed: ${(error as Error).message}`, {
        code: 'ERR_QUEUE_STORE_FAILED',
        cause: error,
        details: { op, ...(sqlState === undefined ? {} : { sqlState }) },
      });
    }
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Ends an owned pool (a pool you passed in stays open). Idempotent. */
  close(): Promise<void> {
    return this.#life.close(() => this.#resolved.release());
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
