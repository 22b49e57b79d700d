/**
 * Queue vocabulary and the `QueueStore` port: the contract a durable backend (SQLite,
 * PostgreSQL, ...) implements so a {@link ManagedQueue} survives restarts.
 *
 * The port is deliberately small (four methods) and dumb: the queue decides every
 * transition and encodes payloads to JSON text; the store only records rows and refuses
 * writes whose precondition does not hold. A store may be synchronous (better-sqlite3)
 * or asynchronous (pg): every method returns either a value or a promise of it.
 *
 * @module
 */
import type { Priority } from './priority.js';

/** A value or a promise of it. Synchronous stores return plain values. */
export type Awaitable<T> = T | PromiseLike<T>;

/** Lifecycle state of a managed job. */
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every {@link JobState}, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
]);

/** True for the three final states: completed, failed, cancelled. */
export function isTerminal(state: JobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** True when `value` is one of the five {@link JobState} strings. */
export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

/**
 * What a job needs to run. Both fields are non-negative integers; VRAM is one aggregate
 * number (no per-GPU placement).
 */
export interface ResourceReq {
  /** GPUs the job needs. */
  readonly gpuCount: number;
  /** Total VRAM the job needs, in MiB. */
  readonly vramMb: number;
}

/**
 * Resources available to a dequeue. `Infinity` means unlimited (see `UNLIMITED_POOL`).
 */
export interface ResourcePool {
  /** Free GPUs. */
  readonly gpuCount: number;
  /** Free VRAM in MiB. */
  readonly vramMb: number;
}

/**
 * One job row as a {@link QueueStore} keeps it. Timestamps are wall-clock epoch
 * milliseconds (from the queue's `Clock.now()`), so they stay meaningful across restarts.
 */
export interface StoredJob {
  /** Job id, unique within the queue (a UUID unless the caller chose one). */
  readonly id: string;
  /**
   * Arrival sequence number, unique and increasing within the queue. Restores order
   * each tier by it, so FIFO order survives a restart.
   */
  readonly seq: number;
  /** Tier 0..4. */
  readonly priority: Priority;
  /** Current state. */
  readonly state: JobState;
  /** The payload as JSON text, exactly as the queue encoded it. */
  readonly payload: string;
  /** Resource request, or `undefined` when the job needs none. */
  readonly resources: ResourceReq | undefined;
  /** How many times the job has been dequeued (moved to running). */
  readonly attempts: number;
  /** When the job was enqueued. */
  readonly enqueuedAt: number;
  /** When the job last started running, if it has. */
  readonly startedAt: number | undefined;
  /** When the job reached a terminal state, if it has. */
  readonly finishedAt: number | undefined;
}

/**
 * A state change the queue asks a store to record. The store applies it only when the
 * row `id` exists **and** is currently in state `from` (compare-and-set), then sets
 * `state = to` and the three fields below verbatim.
 */
export interface JobTransition {
  /** Id of the job row to change. */
  readonly id: string;
  /** The state the row must be in. */
  readonly from: JobState;
  /** The new state. Any pair is accepted by the store; legality is the queue's business. */
  readonly to: JobState;
  /** New attempt count. */
  readonly attempts: number;
  /** New start time, or `undefined` to clear it. */
  readonly startedAt: number | undefined;
  /** New finish time, or `undefined` to clear it. */
  readonly finishedAt: number | undefined;
}

/**
 * Durable storage for one managed queue's jobs (the port). One store instance holds one
 * queue; implementations that share a table between queues scope rows by a queue name
 * given at construction, never through these methods.
 *
 * Contract for every method (checked by `test/conformance/queue-store.suite.ts`):
 * - It either takes effect completely or not at all, and it is durable once it returns
 *   (or its promise resolves).
 * - Failure is reported by throwing (or rejecting), never by a silent no-op. Driver
 *   failures are `BackendError` `ERR_QUEUE_STORE_FAILED` with the driver error as `cause`;
 *   violated preconditions are `InvalidStateError` `ERR_QUEUE_STORE_CONFLICT`.
 * - Calls from one queue are never concurrent: the queue awaits each call before making
 *   the next, so an implementation needs no locking of its own against that queue.
 * - It stores values verbatim: payload text, timestamps and attempts come back from
 *   {@link QueueStore.load} exactly as written.
 *
 * A store does not own the queue, and the queue does not close the store: whoever
 * created the store closes it after closing the queue.
 */
export interface QueueStore {
  /**
   * Adds a new job row (state is normally `'queued'`).
   *
   * @throws InvalidStateError `ERR_QUEUE_STORE_CONFLICT` when a row with `job.id` already
   *   exists; the existing row is left untouched.
   */
  insert(job: StoredJob): Awaitable<void>;

  /**
   * Records a state change with compare-and-set on the current state (see
   * {@link JobTransition}).
   *
   * @throws InvalidStateError `ERR_QUEUE_STORE_CONFLICT` when the row is missing or not in
   *   `change.from`; nothing is written.
   */
  transition(change: JobTransition): Awaitable<void>;

  /**
   * Returns every job row of this queue, in every state, sorted by `seq` ascending.
   * Used by `ManagedQueue.restore`; never called on a hot path.
   *
   * @throws BackendError `ERR_QUEUE_STORE_CORRUPT` when a row cannot be read back as a
   *   {@link StoredJob} (unknown state or priority, malformed resources).
   */
  load(): Awaitable<StoredJob[]>;

  /**
   * Deletes the rows with these ids, all in one atomic step. Ids without a row are
   * ignored (deleting is idempotent). An empty list does nothing.
   */
  remove(ids: readonly string[]): Awaitable<void>;
}

/** What happened to a job; delivered to `ManagedQueue` event listeners and streams. */
export type QueueEvent =
  | {
      /** A job was added (state `queued`). */
      readonly type: 'enqueued';
      /** The job id. */
      readonly id: string;
      /** Its priority tier. */
      readonly priority: Priority;
    }
  | {
      /** A job was handed to a worker (state `running`). */
      readonly type: 'dequeued';
      /** The job id. */
      readonly id: string;
      /** Its priority tier. */
      readonly priority: Priority;
    }
  | {
      /** A job moved between lifecycle states. */
      readonly type: 'stateChanged';
      /** The job id. */
      readonly id: string;
      /** The state it left. */
      readonly from: JobState;
      /** The state it entered. */
      readonly to: JobState;
    }
  | {
      /** A finished job passed its TTL and was removed. */
      readonly type: 'evicted';
      /** The job id. */
      readonly id: string;
    };

/**
 * A snapshot of a managed job. `ManagedQueue` returns copies: changing one does not
 * change the queue (the payload object itself is shared, not cloned).
 */
export interface ManagedJob<T> {
  /** Job id (a UUID), stable for the job's whole life and across restore. */
  readonly id: string;
  /** Priority tier it was enqueued with. */
  readonly priority: Priority;
  /** The payload as enqueued (shared, not copied: treat it as immutable). */
  readonly payload: T;
  /** Resource request, or `undefined` when the job needs none. */
  readonly resources: ResourceReq | undefined;
  /** Lifecycle state when this snapshot was taken. */
  readonly state: JobState;
  /** How many times the job has been dequeued. */
  readonly attempts: number;
  /** Wall-clock epoch ms of the enqueue. */
  readonly enqueuedAt: number;
  /** Wall-clock epoch ms of the last start, if any. */
  readonly startedAt: number | undefined;
  /** Wall-clock epoch ms of the terminal transition, if any. */
  readonly finishedAt: number | undefined;
  /**
   * Present once the job has been dequeued: aborted when `cancel(id)` cancels the job
   * while it runs, so the worker can stop. Never aborted by complete or fail.
   */
  readonly signal: AbortSignal | undefined;
}
