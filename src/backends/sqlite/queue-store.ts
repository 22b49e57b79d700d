import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BackendError, ClosedError, MajraError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import type { MetricsSink } from '../../core/metrics.js';
import { operationMeter, type OperationMeter } from '../../core/operation-meter.js';
import { integerInRange, invalid, nonEmptyString } from '../../core/validate.js';
import { alreadyStored, fromJobRow, notInState, type JobRow } from '../../queue/job-codec.js';
import type { JobTransition, QueueStore, StoredJob } from '../../queue/types.js';
import { QUEUE_STORE_LABELS, SQLITE_STORE_OPERATIONS } from './metrics.js';

/** Options for {@link SqliteQueueStore}. */
export interface SqliteQueueStoreOptions {
  /**
   * Which queue's rows this store reads and writes; several queues can share one file.
   * @defaultValue 'managed'
   */
  readonly queue?: string;
  /** How long a write waits for another connection's lock. @defaultValue 5000 */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` level. `'NORMAL'` (the default, as in the reference) survives a
   * process crash with WAL; `'FULL'` also survives power loss, at a cost per write.
   * @defaultValue 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Counts operations in `majra_sqlite_store_operations_total{store="queue"}`; default none. */
  readonly metrics?: MetricsSink;
}

interface ParsedOptions {
  readonly queue: string;
  readonly busy: number;
  readonly sync: 'NORMAL' | 'FULL';
  readonly meter: OperationMeter | undefined;
}

function parseOptions(options: SqliteQueueStoreOptions): ParsedOptions {
  const sync: unknown = options.synchronous ?? 'NORMAL';
  if (sync !== 'NORMAL' && sync !== 'FULL') invalid('synchronous', "'NORMAL' or 'FULL'", sync);
  return {
    queue: nonEmptyString('queue', options.queue ?? 'managed', 256),
    busy: integerInRange('busyTimeoutMs', options.busyTimeoutMs ?? 5000, 0, 2_147_483_647),
    sync,
    meter: operationMeter(options.metrics, SQLITE_STORE_OPERATIONS, QUEUE_STORE_LABELS),
  };
}

let statements: ReadonlyMap<string, string> | undefined;

/** The named statements of queue-store.sql, read on first use. */
function sql(name: string): string {
  if (statements === undefined) {
    const text = readFileSync(new URL('./queue-store.sql', import.meta.url), 'utf8');
    const out = new Map<string, string>();
    const parts = text.split(/^-- name: *([a-z0-9_-]+) *$/im);
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const body = (parts[i + 1] as string)
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n')
        .trim();
      out.set(parts[i] as string, body);
    }
    statements = out;
  }
  const text = statements.get(name);
  if (text === undefined) throw new Error(`queue-store.sql has no statement ${name}`);
  return text;
}

function failed(op: string, error: unknown): MajraError {
  if (error instanceof MajraError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new BackendError(`SQLite queue store ${op} failed: ${detail}`, {
    code: 'ERR_QUEUE_STORE_FAILED',
    cause: error,
    details: { op },
  });
}

function isPrimaryKeyViolation(error: unknown): boolean {
  return (
    error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * A {@link QueueStore} on SQLite through better-sqlite3 (12.x). Writes are synchronous,
 * so a `ManagedQueue` applies each transition in the same synchronous step as its
 * SQLite write: when `enqueue`/`dequeue`/`complete` return, the change is committed
 * (durable against a process crash; with `synchronous: 'FULL'` also against power loss).
 *
 * Opens in WAL mode with a busy timeout. Rows live in table `majra_queue_jobs`, scoped by
 * queue name. One writer process per queue: the compare-and-set transitions reject a
 * second writer's stale updates (`ERR_QUEUE_STORE_CONFLICT`) rather than coordinate it.
 *
 * @example
 * ```ts
 * import { SqliteQueueStore } from 'majra/sqlite';
 * import { ManagedQueue } from 'majra/queue';
 *
 * const store = SqliteQueueStore.open('jobs.db');
 * const queue = await ManagedQueue.restore(store, { running: 'requeue' });
 * // ... on shutdown:
 * await queue.close();
 * await store.close();
 * ```
 */
export class SqliteQueueStore implements QueueStore, Closeable {
  /** The queue whose rows this store holds. */
  readonly queue: string;
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #life = new Lifecycle('SqliteQueueStore');
  readonly #insert: Database.Statement;
  readonly #transition: Database.Statement;
  readonly #load: Database.Statement;
  readonly #remove: (ids: readonly string[]) => void;
  readonly #meter: OperationMeter | undefined;

  private constructor(db: Database.Database, owned: boolean, options: ParsedOptions) {
    const { queue: name, busy, sync } = options;
    this.queue = name;
    this.#meter = options.meter;
    this.#db = db;
    this.#owned = owned;
    try {
      db.pragma(`busy_timeout = ${busy}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync}`);
      db.exec(sql('schema'));
      this.#insert = db.prepare(sql('insert'));
      this.#transition = db.prepare(sql('transition'));
      this.#load = db.prepare(sql('load'));
      const remove = db.prepare(sql('remove'));
      const queue = this.queue;
      this.#remove = db.transaction((ids: readonly string[]) => {
        for (const id of ids) remove.run({ queue, id });
      });
    } catch (error) {
      if (owned) db.close();
      throw failed('open', error);
    }
  }

  /**
   * Opens (creating if needed) the SQLite file at `path`, in WAL mode, and creates the
   * table. The store owns the connection and closes it in `close()`.
   *
   * @throws BackendError `ERR_QUEUE_STORE_FAILED` when the file cannot be opened.
   */
  static open(path: string, options: SqliteQueueStoreOptions = {}): SqliteQueueStore {
    nonEmptyString('path', path, 4096);
    const parsed = parseOptions(options);
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (error) {
      throw failed('open', error);
    }
    return new SqliteQueueStore(db, true, parsed);
  }

  /** A private in-memory database (WAL does not apply; useful in tests). */
  static inMemory(options: SqliteQueueStoreOptions = {}): SqliteQueueStore {
    const parsed = parseOptions(options);
    return new SqliteQueueStore(new Database(':memory:'), true, parsed);
  }

  /**
   * Uses an existing better-sqlite3 connection (sets its pragmas and creates the table).
   * The store does not close a connection it did not open.
   */
  static fromDatabase(
    db: Database.Database,
    options: SqliteQueueStoreOptions = {},
  ): SqliteQueueStore {
    return new SqliteQueueStore(db, false, parseOptions(options));
  }

  /** The journal mode in effect (`'wal'` for a file, `'memory'` in memory). */
  get journalMode(): string {
    return String(this.#db.pragma('journal_mode', { simple: true }));
  }

  insert(job: StoredJob): void {
    this.#open('insert');
    try {
      this.#insert.run({
        queue: this.queue,
        id: job.id,
        seq: job.seq,
        priority: job.priority,
        state: job.state,
        payload: job.payload,
        gpuCount: job.resources?.gpuCount ?? null,
        vramMb: job.resources?.vramMb ?? null,
        attempts: job.attempts,
        enqueuedAt: job.enqueuedAt,
        startedAt: job.startedAt ?? null,
        finishedAt: job.finishedAt ?? null,
      });
    } catch (error) {
      if (isPrimaryKeyViolation(error)) {
        this.#meter?.conflict('insert');
        throw alreadyStored(job.id, error);
      }
      this.#meter?.error('insert');
      throw failed('insert', error);
    }
    this.#meter?.ok('insert');
  }

  transition(change: JobTransition): void {
    this.#open('transition');
    let changes: number;
    try {
      changes = this.#transition.run({
        queue: this.queue,
        id: change.id,
        from: change.from,
        to: change.to,
        attempts: change.attempts,
        startedAt: change.startedAt ?? null,
        finishedAt: change.finishedAt ?? null,
      }).changes;
    } catch (error) {
      this.#meter?.error('transition');
      throw failed('transition', error);
    }
    if (changes === 0) {
      this.#meter?.conflict('transition');
      throw notInState(change);
    }
    this.#meter?.ok('transition');
  }

  load(): StoredJob[] {
    this.#open('load');
    let rows: JobRow[];
    try {
      rows = this.#load.all({ queue: this.queue }) as JobRow[];
    } catch (error) {
      this.#meter?.error('load');
      throw failed('load', error);
    }
    this.#meter?.ok('load');
    return rows.map(fromJobRow);
  }

  remove(ids: readonly string[]): void {
    this.#open('remove');
    if (ids.length === 0) return;
    try {
      this.#remove(ids);
    } catch (error) {
      this.#meter?.error('remove');
      throw failed('remove', error);
    }
    this.#meter?.ok('remove');
  }

  /** Closes the connection if the store opened it. Idempotent. */
  close(): Promise<void> {
    this.#life.closeSync(() => {
      if (this.#owned) this.#db.close();
    });
    return this.#life.closed;
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Same as `close()`, so `await using store = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #open(op: string): void {
    if (this.#life.isClosed) throw new ClosedError(`SqliteQueueStore is closed: cannot ${op}`);
  }
}
