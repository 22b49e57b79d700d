import { throwIfAborted, waitFor, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { ClosedError, toError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { invalid, nonNegativeInteger, optionalSignal } from '../core/validate.js';
import {
  EventHub,
  type QueueEventListener,
  type QueueEventStream,
  type QueueEventStreamOptions,
} from './event-hub.js';
import { snapshot, toStored, transitionOf, type Job } from './job.js';
import { encodePayload } from './job-codec.js';
import type { JobTable } from './job-table.js';
import {
  parseOptions,
  type EnqueueOptions,
  type ManagedQueueOptions,
  type ParsedOptions,
  type RestoreOptions,
} from './managed-queue-options.js';
import type { Priority } from './priority.js';
import { QueueMeter } from './queue-meter.js';
import { QueueState, type Waiter } from './queue-state.js';
import { ResourceLedger, UNLIMITED_POOL } from './resource-ledger.js';
import { loadJobs } from './restore.js';
import { StoreRunner, type Step } from './store-runner.js';
import type { JobState, ManagedJob, QueueStore, ResourcePool } from './types.js';

const noop = (): void => undefined;
const NOTHING: Step<undefined> = Object.freeze({ apply: () => undefined });
/** What a memory-only operation without a result returns: one shared settled promise. */
const DONE: Promise<undefined> = Promise.resolve(undefined);

/**
 * A job queue with a lifecycle (queued → running → completed | failed | cancelled, and
 * queued → cancelled), five priority tiers, resource-fitting dequeue, an exact
 * concurrency cap, per-job cancellation signals, finished-job TTL, bounded event streams,
 * metrics, and optional durable storage through a {@link QueueStore}.
 *
 * Every mutating method returns a promise. Without a store, or with a synchronous store
 * (SQLite), the change — store write included — is applied before the method returns;
 * the promise only reports the outcome. With an asynchronous store, operations are
 * applied strictly in call order, each after its store write succeeded. A failed store
 * write rejects the operation and leaves the queue unchanged.
 *
 * @example
 * ```ts
 * const queue = new ManagedQueue<{ prompt: string }>({ maxConcurrency: 2 });
 * const id = await queue.enqueue(Priority.High, { prompt: 'hi' }, { resources: { gpuCount: 1, vramMb: 8000 } });
 * const job = await queue.dequeue({ gpuCount: 1, vramMb: 16_000 });
 * await queue.complete(job!.id);
 * ```
 */
export class ManagedQueue<T> implements Closeable {
  readonly #opts: ParsedOptions;
  readonly #name: string;
  readonly #clock: Clock;
  readonly #onError: (error: Error) => void;
  readonly #ledger: ResourceLedger | undefined;
  readonly #life = new Lifecycle('ManagedQueue');
  readonly #hub: EventHub;
  readonly #runner: StoreRunner;
  readonly #state: QueueState<T>;
  readonly #table: JobTable<T>;
  #timer: TimerHandle | undefined;

  /** @throws InvalidArgumentError for a bad option (named in the message). */
  constructor(options: ManagedQueueOptions = {}) {
    this.#opts = parseOptions(options);
    this.#name = this.#opts.name;
    this.#ledger =
      options.capacity === undefined ? undefined : new ResourceLedger(options.capacity);
    this.#clock = options.clock ?? systemClock;
    const meter = new QueueMeter(options.metrics, this.#name);
    this.#onError = options.onError ?? noop;
    this.#runner = new StoreRunner((op) => meter.storeError(op));
    this.#hub = new EventHub(
      this.#opts.maxSubscribers,
      (count) => meter.eventsDropped(count),
      (error) => this.#report(error),
    );
    this.#state = new QueueState<T>(this.#opts, this.#clock, meter, this.#hub, this.#ledger);
    this.#table = this.#state.table;
    this.#armAutoEvict();
  }

  /**
   * Builds a queue backed by `store` from what the store holds: ids, tiers, FIFO order
   * within each tier (by arrival sequence) and attempt counts are kept, finished jobs stay
   * queryable until their TTL, and jobs that were running follow `options.running` (the
   * store is updated first). Restoring twice from one store yields the same jobs, never
   * duplicates. An empty store gives an empty queue that persists from now on.
   *
   * @throws BackendError `ERR_QUEUE_STORE_FAILED` / `ERR_QUEUE_STORE_CORRUPT`.
   */
  static async restore<T>(store: QueueStore, options: RestoreOptions): Promise<ManagedQueue<T>> {
    const policy: unknown = options.running;
    if (policy !== 'requeue' && policy !== 'fail') {
      invalid('running', "'requeue' or 'fail'", options.running);
    }
    const queue = new ManagedQueue<T>(options);
    try {
      await queue.#load(store, options.running);
    } catch (error) {
      await queue.close();
      throw error;
    }
    return queue;
  }

  /** The configured name. */
  get name(): string {
    return this.#name;
  }

  /** Jobs in every state, finished ones included until evicted. */
  get jobCount(): number {
    return this.#table.size;
  }

  /** Jobs waiting in the tiers. */
  get queuedCount(): number {
    return this.#table.queued;
  }

  /** Jobs running. */
  get runningCount(): number {
    return this.#table.running;
  }

  /** Callers parked in `dequeueWait`. */
  get waiting(): number {
    return this.#state.waiters.size;
  }

  /** Event listeners plus streams. */
  get subscriberCount(): number {
    return this.#hub.subscriberCount;
  }

  /** The ledger of held resources, when the `capacity` option is set. */
  get ledger(): ResourceLedger | undefined {
    return this.#ledger;
  }

  /** A copy of job `id`, or `undefined` if unknown or evicted. */
  get(id: string): ManagedJob<T> | undefined {
    const job = this.#table.get(id);
    return job === undefined ? undefined : snapshot(job);
  }

  /**
   * Copies of the jobs, optionally only those in `state`. Queued jobs are listed in
   * dequeue order (tier, then arrival); others in arrival order.
   */
  list(options: { readonly state?: JobState; readonly limit?: number } = {}): ManagedJob<T>[] {
    const limit =
      options.limit === undefined ? Infinity : nonNegativeInteger('limit', options.limit);
    const out: ManagedJob<T>[] = [];
    const source: Iterable<Job<T>> =
      options.state === 'queued' ? this.#table.queuedInOrder() : this.#table.all();
    for (const job of source) {
      if (out.length >= limit) break;
      if (options.state === undefined || job.state === options.state) out.push(snapshot(job));
    }
    return out;
  }

  /** Number of jobs in each state. */
  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = {
      queued: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
    for (const job of this.#table.all()) out[job.state]++;
    return out;
  }

  /**
   * Adds a job at the tail of its tier and resolves with its new id.
   *
   * @throws InvalidArgumentError `ERR_QUEUE_INVALID_PRIORITY`, `ERR_QUEUE_INVALID_RESOURCES`,
   *   `ERR_CODEC_NOT_SERIALIZABLE` (store-backed queues only).
   * @throws CapacityExceededError `ERR_QUEUE_FULL` when `maxQueued` jobs are queued.
   * @throws BackendError `ERR_QUEUE_STORE_FAILED`. In every case nothing changed.
   */
  enqueue(priority: Priority, payload: T, options?: EnqueueOptions): Promise<string> {
    if (this.#runner.direct)
      return this.#now('enqueue', this.#enqueueNow, priority, payload, options);
    return this.#run('enqueue', () => {
      const job = this.#state.newJob(priority, payload, options);
      const stored = toStored(job, encodePayload(payload, this.#opts.maxPayloadBytes));
      return { write: (store) => store.insert(stored), apply: () => this.#state.admit(job) };
    });
  }

  /**
   * Moves the first job that fits `pool` to running: tiers from critical down, and
   * within a tier the oldest job that fits (a big job does not block smaller ones behind
   * it). Resolves `undefined` when nothing fits or `maxConcurrency` jobs run. Without a
   * pool it uses the ledger's free resources (`capacity` option) or an unlimited pool.
   */
  dequeue(pool?: ResourcePool): Promise<ManagedJob<T> | undefined> {
    if (this.#runner.direct) return this.#now('dequeue', this.#dequeueNow, pool);
    return this.#run('dequeue', (): Step<ManagedJob<T> | undefined> => {
      const job = this.#state.pick(pool);
      if (job === undefined) return NOTHING;
      const startedAt = this.#clock.now();
      const attempts = job.attempts + 1;
      return {
        write: (store) =>
          store.transition(transitionOf(job, 'running', attempts, startedAt, undefined)),
        apply: () => this.#state.start(job, attempts, startedAt),
      };
    });
  }

  /** `dequeue` against an unlimited pool (still bounded by `maxConcurrency`). */
  dequeueAny(): Promise<ManagedJob<T> | undefined> {
    return this.dequeue(UNLIMITED_POOL);
  }

  /**
   * Like {@link dequeue}, but waits until a job can be taken: it retries after every
   * enqueue and every job leaving `running`. Waiters retry in the order they arrived.
   *
   * @throws AbortedError when `signal` aborts (nothing is consumed).
   * @throws ClosedError when the queue closes.
   */
  async dequeueWait(pool?: ResourcePool, options: WaitOptions = {}): Promise<ManagedJob<T>> {
    const signal = optionalSignal('signal', options.signal);
    for (;;) {
      throwIfAborted(signal, 'dequeueWait');
      const version = this.#state.version;
      const job = await this.dequeue(pool);
      if (job !== undefined) return job;
      if (version !== this.#state.version) continue;
      this.#life.assertOpen('dequeueWait');
      await waitFor<undefined>(
        (resolve, reject) => {
          const waiter: Waiter = { resolve: () => resolve(undefined), reject };
          this.#state.waiters.add(waiter);
          return () => this.#state.waiters.delete(waiter);
        },
        { signal, what: 'dequeueWait' },
      );
    }
  }

  /** Marks running job `id` completed. @throws NotFoundError / InvalidStateError. */
  complete(id: string): Promise<void> {
    return this.#finish('complete', id, 'completed');
  }

  /** Marks running job `id` failed. @throws NotFoundError / InvalidStateError. */
  fail(id: string): Promise<void> {
    return this.#finish('fail', id, 'failed');
  }

  /**
   * Cancels job `id`. A queued job leaves its tier; a running job's `signal` is aborted
   * (with an `AbortedError`) so its worker can stop, and its later complete/fail throws.
   *
   * @throws NotFoundError `ERR_QUEUE_JOB_NOT_FOUND`; InvalidStateError
   *   `ERR_QUEUE_INVALID_TRANSITION` for a finished job.
   */
  cancel(id: string): Promise<void> {
    return this.#finish('cancel', id, 'cancelled');
  }

  /**
   * Removes finished jobs whose age (since finishing) is at least `finishedTtlMs`, from
   * memory and from the store. Queued and running jobs are never removed. Resolves with
   * how many were removed.
   */
  evictExpired(): Promise<number> {
    if (this.#runner.direct) return this.#now('evict', this.#evictNow, undefined);
    return this.#run('evict', () => {
      const expired = this.#state.expired();
      if (expired.length === 0) return { apply: () => 0 };
      const ids = expired.map((job) => job.id);
      return { write: (store) => store.remove(ids), apply: () => this.#state.evict(expired) };
    });
  }

  /**
   * A bounded async stream of events. A consumer that falls behind loses the oldest
   * events (drop-oldest) and can read how many from `lagged`. Break out of the loop or
   * call `return()` to unsubscribe; `close()` ends every stream.
   */
  events(options: QueueEventStreamOptions = {}): QueueEventStream {
    return this.#hub.stream(options);
  }

  /**
   * Calls `listener` synchronously for every event, after the queue state is consistent
   * (re-entrant calls are safe). A throwing listener is reported to `onError` and does
   * not affect the queue. Returns the unsubscribe function.
   */
  onEvent(listener: QueueEventListener): () => void {
    if (typeof listener !== 'function') invalid('listener', 'a function', listener);
    return this.#hub.listen(listener);
  }

  /**
   * Stops the auto-evict timer, rejects `dequeueWait` callers with `ClosedError`, ends
   * event streams and waits for an in-flight store write. Jobs keep their state; the
   * store is not closed. Idempotent.
   */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#timer?.cancel();
      this.#timer = undefined;
      const error = new ClosedError('ManagedQueue closed while waiting');
      const waiters = [...this.#state.waiters];
      this.#state.waiters.clear();
      for (const waiter of waiters) waiter.reject(error);
      this.#hub.close();
      await this.#runner.idle;
    });
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Same as `close()`, so `await using queue = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals ------------------------------------------------------------------------

  #run<R>(op: string, prepare: () => Step<R>): Promise<R> {
    return this.#runner.run(op, prepare, this.#life);
  }

  /**
   * Runs `operation` now, for a queue without a store (nothing to write or wait for):
   * the change is made before this returns and the promise only reports the outcome.
   * Plain arguments instead of a closure keep the hot path free of allocations.
   */
  #now<A, B, C, R>(
    op: string,
    operation: (this: this, a: A, b: B, c: C) => R,
    a: A,
    b?: B,
    c?: C,
  ): Promise<R> {
    try {
      this.#life.assertOpen(op);
      const result = operation.call(this, a, b as B, c as C);
      return result === undefined ? (DONE as Promise<R>) : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  #enqueueNow(priority: Priority, payload: T, options: EnqueueOptions | undefined): string {
    return this.#state.admit(this.#state.newJob(priority, payload, options));
  }

  #dequeueNow(pool: ResourcePool | undefined): ManagedJob<T> | undefined {
    const state = this.#state;
    const job = state.pick(pool);
    return job === undefined ? undefined : state.start(job, job.attempts + 1, this.#clock.now());
  }

  #finishNow(id: string, to: 'completed' | 'failed' | 'cancelled'): undefined {
    const job = this.#state.finishable(id, to);
    return this.#state.end(job, job.state, to, this.#clock.now());
  }

  #evictNow(): number {
    const expired = this.#state.expired();
    return expired.length === 0 ? 0 : this.#state.evict(expired);
  }

  #finish(op: string, id: string, to: 'completed' | 'failed' | 'cancelled'): Promise<void> {
    if (this.#runner.direct) return this.#now(op, this.#finishNow, id, to);
    return this.#run(op, () => {
      const job = this.#state.finishable(id, to);
      const from = job.state;
      const finishedAt = this.#clock.now();
      return {
        write: (store) =>
          store.transition(transitionOf(job, to, job.attempts, job.startedAt, finishedAt)),
        apply: () => this.#state.end(job, from, to, finishedAt),
      };
    });
  }

  #report(error: unknown): void {
    try {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An onError hook that throws has nowhere left to report to.
    }
  }

  #armAutoEvict(): void {
    const interval = this.#opts.autoEvictIntervalMs;
    if (interval === undefined || this.#life.isClosed) return;
    this.#timer = this.#clock.setTimer(interval, () => {
      this.#timer = undefined;
      this.evictExpired().then(
        () => this.#armAutoEvict(),
        (error: unknown) => {
          if (!this.#life.isClosed) this.#report(error);
          this.#armAutoEvict();
        },
      );
    });
    this.#timer.unref();
  }

  async #load(store: QueueStore, running: 'requeue' | 'fail'): Promise<void> {
    const jobs = await loadJobs<T>(store, running, this.#clock, (op, error) =>
      this.#runner.failure(op, error),
    );
    this.#state.load(jobs);
    this.#runner.store = store;
  }
}
