import { jobNotFound, type Job } from './job.js';
import { poolSatisfies } from './resource-ledger.js';
import { TierList } from './tier-list.js';
import type { ResourcePool } from './types.js';

/**
 * The in-memory state of a `ManagedQueue`: every job by id, the five tiers of queued
 * jobs, finished jobs in finishing order (for TTL eviction), and the counters. It only
 * stores; the queue decides which changes are legal and when they happen. A job's
 * `prev`/`next` links serve its tier while queued and the finished list once terminal
 * (a running job is in neither), so no transition allocates.
 *
 * @internal
 */
export class JobTable<T> {
  readonly #jobs = new Map<string, Job<T>>();
  readonly #tiers: TierList<Job<T>>[] = [0, 1, 2, 3, 4].map(() => new TierList<Job<T>>());
  /** Terminal jobs in the order they finished (monotonic time ascending). */
  readonly #finished = new TierList<Job<T>>();
  queued = 0;
  running = 0;

  get size(): number {
    return this.#jobs.size;
  }

  get(id: string): Job<T> | undefined {
    return this.#jobs.get(id);
  }

  /** The job, or `ERR_QUEUE_JOB_NOT_FOUND`. */
  require(id: unknown): Job<T> {
    const job = typeof id === 'string' ? this.#jobs.get(id) : undefined;
    if (job === undefined) throw jobNotFound(id);
    return job;
  }

  all(): IterableIterator<Job<T>> {
    return this.#jobs.values();
  }

  /** Queued jobs in dequeue order: tier from critical down, then arrival. */
  *queuedInOrder(): IterableIterator<Job<T>> {
    for (let p = 4; p >= 0; p--) yield* this.#tiers[p] as TierList<Job<T>>;
  }

  /** The first queued job, in dequeue order, that fits `pool`. */
  findFitting(pool: ResourcePool): Job<T> | undefined {
    for (let p = 4; p >= 0; p--) {
      const tier = this.#tiers[p] as TierList<Job<T>>;
      for (let job = tier.head; job !== undefined; job = job.next) {
        if (poolSatisfies(pool, job.resources)) return job;
      }
    }
    return undefined;
  }

  /** Adds a job in its current state (queued jobs go to the tail of their tier). */
  add(job: Job<T>): void {
    this.#jobs.set(job.id, job);
    if (job.state === 'queued') {
      (this.#tiers[job.priority] as TierList<Job<T>>).push(job);
      this.queued++;
    } else if (job.state === 'running') {
      this.running++;
    } else {
      this.#finished.push(job);
    }
  }

  /** Moves a queued job out of its tier into running. */
  start(job: Job<T>): void {
    (this.#tiers[job.priority] as TierList<Job<T>>).remove(job);
    this.queued--;
    this.running++;
    job.state = 'running';
  }

  /** Moves a queued or running job to a terminal state. */
  finish(job: Job<T>, to: 'completed' | 'failed' | 'cancelled'): void {
    if (job.state === 'queued') {
      (this.#tiers[job.priority] as TierList<Job<T>>).remove(job);
      this.queued--;
    } else {
      this.running--;
    }
    job.state = to;
    this.#finished.push(job);
  }

  /** Finished jobs with `now - finishedMono >= ttlMs`, oldest first. */
  expired(now: number, ttlMs: number): Job<T>[] {
    const out: Job<T>[] = [];
    for (let job = this.#finished.head; job !== undefined; job = job.next) {
      if (now - job.finishedMono < ttlMs) break;
      out.push(job);
    }
    return out;
  }

  /** Forgets finished jobs (as returned by `expired`). */
  evict(jobs: readonly Job<T>[]): void {
    for (const job of jobs) {
      this.#jobs.delete(job.id);
      this.#finished.remove(job);
    }
  }
}
