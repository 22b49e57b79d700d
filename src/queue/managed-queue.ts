import { randomUUID } from 'node:crypto';
import { throwIfAborted, waitFor, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { AbortedError, CapacityExceededError, ClosedError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricLabels, type MetricsSink } from '../core/metrics.js';
import { invalid, nonNegativeInteger, optionalSignal } from '../core/validate.js';
import {
  EventHub,
  type QueueEventListener,
  type QueueEventStream,
  type QueueEventStreamOptions,
} from './event-hub.js';
import { abortJob, illegalTransition, snapshot, toStored, transitionOf, type Job } from './job.js';
import { encodePayload } from './job-codec.js';
import { loadJobs } from './restore.js';
import {
  parseOptions,
  type EnqueueOptions,
  type ManagedQueueOptions,
  type ParsedOptions,
  type RestoreOptions,
} from './managed-queue-options.js';
import {
  QUEUE_DEPTH,
  QUEUE_DEQUEUED,
  QUEUE_ENQUEUED,
  QUEUE_EVENTS_DROPPED,
  QUEUE_EVICTED,
  QUEUE_RUNNING,
  QUEUE_STORE_ERRORS,
  QUEUE_TRANSITIONS,
} from './metrics.js';
import { parsePriority, PRIORITY_NAMES, type Priority } from './priority.js';
import {
  parseResourcePool,
  parseResourceReq,
  ResourceLedger,
  UNLIMITED_POOL,
} from './resource-ledger.js';
import { StoreRunner, type Step } from './store-runner.js';
import { JobTable } from './job-table.js';
import type { JobState, ManagedJob, QueueStore, ResourcePool } from './types.js';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

const noop = (): void => undefined;
const NOTHING: Step<undefined> = Object.freeze({ apply: () => undefined });

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
  readonly #metrics: MetricsSink;
  readonly #onError: (error: Error) => void;
  readonly #ledger: ResourceLedger | undefined;
  readonly #labels: MetricLabels;
  readonly #tierLabels: readonly MetricLabels[];
  /** Label sets per (from, to), built on first use: at most 25. */
  readonly #transitionLabels: Record<JobState, Partial<Record<JobState, MetricLabels>>> = {
    queued: {},
    running: {},
    completed: {},
    failed: {},
    cancelled: {},
  };
  readonly #life = new Lifecycle('ManagedQueue');
  readonly #hub: EventHub;
  readonly #runner: StoreRunner;
  readonly #table = new JobTable<T>();
  readonly #waiters = new Set<Waiter>();
  #timer: TimerHandle | undefined;
  #seq = 0;
  #version = 0;

  /** @throws InvalidArgumentError for a bad option (named in the message). */
  constructor(options: ManagedQueueOptions = {}) {
    this.#opts = parseOptions(options);
    this.#name = this.#opts.name;
    this.#ledger =
      options.capacity === undefined ? undefined : new ResourceLedger(options.capacity);
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#onError = options.onError ?? noop;
    this.#labels = Object.freeze({ queue: this.#name });
    this.#tierLabels = PRIORITY_NAMES.map((priority) =>
      Object.freeze({ queue: this.#name, priority }),
    );
    this.#runner = new StoreRunner((op) =>
      this.#metrics.increment(QUEUE_STORE_ERRORS, 1, { queue: this.#name, op }),
    );
    this.#hub = new EventHub(
      this.#opts.maxSubscribers,
      (count) => this.#metrics.increment(QUEUE_EVENTS_DROPPED, count, this.#labels),
      (error) => this.#report(error),
    );
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
    return this.#waiters.size;
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
  enqueue(priority: Priority, payload: T, options: EnqueueOptions = {}): Promise<string> {
    return this.#run('enqueue', () => {
      const tier = parsePriority(priority);
      const resources =
        options.resources === undefined ? undefined : parseResourceReq(options.resources);
      if (this.#table.queued >= this.#opts.maxQueued) {
        throw new CapacityExceededError(
          `queue ${this.#name} is full (${this.#opts.maxQueued} queued)`,
          {
            code: 'ERR_QUEUE_FULL',
            details: { maxQueued: this.#opts.maxQueued },
          },
        );
      }
      const job: Job<T> = {
        id: randomUUID(),
        seq: this.#seq,
        priority: tier,
        payload,
        resources,
        state: 'queued',
        attempts: 0,
        enqueuedAt: this.#clock.now(),
        startedAt: undefined,
        finishedAt: undefined,
        finishedMono: 0,
        hasRun: false,
        controller: undefined,
        abortReason: undefined,
        prev: undefined,
        next: undefined,
      };
      const stored =
        this.#runner.store === undefined
          ? undefined
          : toStored(job, encodePayload(payload, this.#opts.maxPayloadBytes));
      return {
        write: stored === undefined ? undefined : (store: QueueStore) => store.insert(stored),
        apply: () => {
          this.#seq = job.seq + 1;
          this.#table.add(job);
          this.#metrics.increment(QUEUE_ENQUEUED, 1, this.#tierLabels[tier]);
          this.#gauges();
          if (this.#hub.hasSubscribers) {
            this.#hub.emit({ type: 'enqueued', id: job.id, priority: tier });
          }
          this.#notify();
          return job.id;
        },
      };
    });
  }

  /**
   * Moves the first job that fits `pool` to running: tiers from critical down, and
   * within a tier the oldest job that fits (a big job does not block smaller ones behind
   * it). Resolves `undefined` when nothing fits or `maxConcurrency` jobs run. Without a
   * pool it uses the ledger's free resources (`capacity` option) or an unlimited pool.
   */
  dequeue(pool?: ResourcePool): Promise<ManagedJob<T> | undefined> {
    return this.#run('dequeue', (): Step<ManagedJob<T> | undefined> => {
      const free =
        pool === UNLIMITED_POOL
          ? pool
          : pool !== undefined
            ? parseResourcePool(pool)
            : (this.#ledger?.free() ?? UNLIMITED_POOL);
      const none = NOTHING;
      if (this.#opts.maxConcurrency > 0 && this.#table.running >= this.#opts.maxConcurrency)
        return none;
      const job = this.#table.findFitting(free);
      if (job === undefined) return none;
      const startedAt = this.#clock.now();
      const attempts = job.attempts + 1;
      return {
        write: (store) =>
          store.transition(transitionOf(job, 'running', attempts, startedAt, undefined)),
        apply: () => {
          this.#table.start(job);
          job.attempts = attempts;
          job.startedAt = startedAt;
          job.hasRun = true;
          job.controller = undefined;
          job.abortReason = undefined;
          this.#ledger?.acquire(job.id, job.resources);
          this.#metrics.increment(QUEUE_DEQUEUED, 1, this.#tierLabels[job.priority]);
          this.#countTransition('queued', 'running');
          if (this.#hub.hasSubscribers) {
            this.#hub.emit({ type: 'dequeued', id: job.id, priority: job.priority });
            this.#hub.emit({ type: 'stateChanged', id: job.id, from: 'queued', to: 'running' });
          }
          return snapshot(job);
        },
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
      const version = this.#version;
      const job = await this.dequeue(pool);
      if (job !== undefined) return job;
      if (version !== this.#version) continue;
      this.#life.assertOpen('dequeueWait');
      await waitFor<undefined>(
        (resolve, reject) => {
          const waiter: Waiter = { resolve: () => resolve(undefined), reject };
          this.#waiters.add(waiter);
          return () => this.#waiters.delete(waiter);
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
    return this.#run('cancel', () => {
      const job = this.#table.require(id);
      if (job.state !== 'queued' && job.state !== 'running')
        throw illegalTransition(job, 'cancelled');
      return this.#terminalStep(job, 'cancelled');
    });
  }

  /**
   * Removes finished jobs whose age (since finishing) is at least `finishedTtlMs`, from
   * memory and from the store. Queued and running jobs are never removed. Resolves with
   * how many were removed.
   */
  evictExpired(): Promise<number> {
    return this.#run('evict', () => {
      const now = this.#clock.monotonic();
      const expired = this.#table.expired(now, this.#opts.finishedTtlMs);
      if (expired.length === 0) return { apply: () => 0 };
      const ids = expired.map((job) => job.id);
      return {
        write: (store) => store.remove(ids),
        apply: () => {
          this.#table.evict(expired);
          this.#metrics.increment(QUEUE_EVICTED, expired.length, this.#labels);
          if (this.#hub.hasSubscribers) {
            for (const id of ids) this.#hub.emit({ type: 'evicted', id });
          }
          return expired.length;
        },
      };
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
      const waiters = [...this.#waiters];
      this.#waiters.clear();
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

  #finish(op: string, id: string, to: 'completed' | 'failed'): Promise<void> {
    return this.#run(op, () => {
      const job = this.#table.require(id);
      if (job.state !== 'running') throw illegalTransition(job, to);
      return this.#terminalStep(job, to);
    });
  }

  #terminalStep(job: Job<T>, to: 'completed' | 'failed' | 'cancelled'): Step<undefined> {
    const from = job.state;
    const finishedAt = this.#clock.now();
    return {
      write: (store) =>
        store.transition(transitionOf(job, to, job.attempts, job.startedAt, finishedAt)),
      apply: () => {
        job.finishedAt = finishedAt;
        job.finishedMono = this.#clock.monotonic();
        this.#table.finish(job, to);
        if (from === 'running') this.#ledger?.release(job.id);
        this.#countTransition(from, to);
        if (this.#hub.hasSubscribers)
          this.#hub.emit({ type: 'stateChanged', id: job.id, from, to });
        if (from === 'running') this.#notify();
        if (to === 'cancelled' && from === 'running') {
          abortJob(job, new AbortedError(`job ${job.id} was cancelled`));
        }
        return undefined;
      },
    };
  }

  #countTransition(from: JobState, to: JobState): void {
    const byTo = this.#transitionLabels[from];
    let labels = byTo[to];
    if (labels === undefined) {
      labels = Object.freeze({ queue: this.#name, from, to });
      byTo[to] = labels;
    }
    this.#metrics.increment(QUEUE_TRANSITIONS, 1, labels);
    this.#gauges();
  }

  #gauges(): void {
    this.#metrics.set(QUEUE_DEPTH, this.#table.queued, this.#labels);
    this.#metrics.set(QUEUE_RUNNING, this.#table.running, this.#labels);
  }

  #notify(): void {
    this.#version++;
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.resolve();
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
    // Queued jobs in arrival order, then finished ones in finishing order (TTL order).
    for (const job of jobs) {
      this.#seq = Math.max(this.#seq, job.seq + 1);
      if (job.state === 'queued') this.#table.add(job);
    }
    const finished = jobs.filter((job) => job.state !== 'queued');
    finished.sort((a, b) => a.finishedMono - b.finishedMono);
    for (const job of finished) this.#table.add(job);
    this.#runner.store = store;
    this.#gauges();
  }
}
