import type { Clock } from '../core/clock.js';
import { AbortedError, CapacityExceededError } from '../core/errors.js';
import { randomUuid } from '../core/uuid.js';
import type { EventHub } from './event-hub.js';
import { abortJob, illegalTransition, snapshot, type Job } from './job.js';
import { JobTable } from './job-table.js';
import type { EnqueueOptions, ParsedOptions } from './managed-queue-options.js';
import { parsePriority, type Priority } from './priority.js';
import type { QueueMeter } from './queue-meter.js';
import {
  parseResourcePool,
  parseResourceReq,
  type ResourceLedger,
  UNLIMITED_POOL,
} from './resource-ledger.js';
import type { JobState, ManagedJob, ResourcePool } from './types.js';

/** A `dequeueWait` caller parked until the queue changes. */
export interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The in-memory side of a `ManagedQueue`. Each operation comes in two halves: a plan
 * that validates and changes nothing (`newJob`, `pick`, `finishable`, `expired`), and an
 * apply that changes the jobs and reports the change — metrics, events, parked
 * `dequeueWait` callers (`admit`, `start`, `end`, `evict`). The queue decides when to
 * apply: at once without a store, after the store write with one.
 *
 * @internal
 */
export class QueueState<T> {
  readonly table = new JobTable<T>();
  /** Parked `dequeueWait` callers, woken by every enqueue and every job leaving running. */
  readonly waiters = new Set<Waiter>();
  /** Bumped with every wake-up, so a `dequeueWait` that lost a race retries at once. */
  version = 0;
  #seq = 0;
  readonly #opts: ParsedOptions;
  readonly #clock: Clock;
  readonly #meter: QueueMeter;
  readonly #hub: EventHub;
  readonly #ledger: ResourceLedger | undefined;

  constructor(
    opts: ParsedOptions,
    clock: Clock,
    meter: QueueMeter,
    hub: EventHub,
    ledger: ResourceLedger | undefined,
  ) {
    this.#opts = opts;
    this.#clock = clock;
    this.#meter = meter;
    this.#hub = hub;
    this.#ledger = ledger;
  }

  /** Adds restored jobs: queued ones in arrival order, then finished ones in TTL order. */
  load(jobs: readonly Job<T>[]): void {
    for (const job of jobs) {
      this.#seq = Math.max(this.#seq, job.seq + 1);
      if (job.state === 'queued') this.table.add(job);
    }
    const finished = jobs.filter((job) => job.state !== 'queued');
    finished.sort((a, b) => a.finishedMono - b.finishedMono);
    for (const job of finished) this.table.add(job);
    this.#gauges();
  }

  /** Finished jobs due for eviction, oldest first; changes nothing. */
  expired(): Job<T>[] {
    return this.table.expired(this.#clock.monotonic(), this.#opts.finishedTtlMs);
  }

  /** Validates an enqueue and builds the job; changes nothing. */
  newJob(priority: Priority, payload: T, options: EnqueueOptions | undefined): Job<T> {
    const tier = parsePriority(priority);
    const req = options === undefined ? undefined : options.resources;
    const resources = req === undefined ? undefined : parseResourceReq(req);
    if (this.table.queued >= this.#opts.maxQueued) {
      throw new CapacityExceededError(
        `queue ${this.#opts.name} is full (${this.#opts.maxQueued} queued)`,
        {
          code: 'ERR_QUEUE_FULL',
          details: { maxQueued: this.#opts.maxQueued },
        },
      );
    }
    return {
      id: randomUuid(),
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
  }

  /** Applies an enqueue planned by `newJob`. */
  admit(job: Job<T>): string {
    this.#seq = job.seq + 1;
    this.table.add(job);
    this.#meter.enqueued(job.priority);
    this.#gauges();
    if (this.#hub.hasSubscribers) {
      this.#hub.emit({ type: 'enqueued', id: job.id, priority: job.priority });
    }
    this.#notify();
    return job.id;
  }

  /** The job a dequeue against `pool` takes, if any; changes nothing. */
  pick(pool: ResourcePool | undefined): Job<T> | undefined {
    const free =
      pool === UNLIMITED_POOL
        ? pool
        : pool !== undefined
          ? parseResourcePool(pool)
          : (this.#ledger?.free() ?? UNLIMITED_POOL);
    const max = this.#opts.maxConcurrency;
    if (max > 0 && this.table.running >= max) return undefined;
    return this.table.findFitting(free);
  }

  /** Applies a dequeue: `job` starts running. */
  start(job: Job<T>, attempts: number, startedAt: number): ManagedJob<T> {
    this.table.start(job);
    job.attempts = attempts;
    job.startedAt = startedAt;
    job.hasRun = true;
    job.controller = undefined;
    job.abortReason = undefined;
    this.#ledger?.acquire(job.id, job.resources);
    this.#meter.dequeued(job.priority);
    this.#countTransition('queued', 'running');
    if (this.#hub.hasSubscribers) {
      this.#hub.emit({ type: 'dequeued', id: job.id, priority: job.priority });
      this.#hub.emit({ type: 'stateChanged', id: job.id, from: 'queued', to: 'running' });
    }
    return snapshot(job);
  }

  /** The job `id` if it may move to `to` (running; or queued too for a cancel). */
  finishable(id: string, to: 'completed' | 'failed' | 'cancelled'): Job<T> {
    const job = this.table.require(id);
    if (job.state !== 'running' && (to !== 'cancelled' || job.state !== 'queued')) {
      throw illegalTransition(job, to);
    }
    return job;
  }

  /** Applies a terminal transition of `job` from `from`. */
  end(
    job: Job<T>,
    from: JobState,
    to: 'completed' | 'failed' | 'cancelled',
    finishedAt: number,
  ): undefined {
    job.finishedAt = finishedAt;
    job.finishedMono = this.#clock.monotonic();
    this.table.finish(job, to);
    if (from === 'running') this.#ledger?.release(job.id);
    this.#countTransition(from, to);
    if (this.#hub.hasSubscribers) this.#hub.emit({ type: 'stateChanged', id: job.id, from, to });
    if (from === 'running') this.#notify();
    if (to === 'cancelled' && from === 'running') {
      abortJob(job, new AbortedError(`job ${job.id} was cancelled`));
    }
    return undefined;
  }

  /** Applies an eviction of `expired` (from `expired`). */
  evict(expired: readonly Job<T>[]): number {
    this.table.evict(expired);
    this.#meter.evicted(expired.length);
    if (this.#hub.hasSubscribers) {
      for (const job of expired) this.#hub.emit({ type: 'evicted', id: job.id });
    }
    return expired.length;
  }

  #countTransition(from: JobState, to: JobState): void {
    this.#meter.transition(from, to);
    this.#gauges();
  }

  #gauges(): void {
    this.#meter.gauges(this.table.queued, this.table.running);
  }

  #notify(): void {
    this.version++;
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter.resolve();
  }
}
