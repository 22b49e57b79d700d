import { InvalidStateError, NotFoundError } from '../core/errors.js';
import type { Priority } from './priority.js';
import type { JobState, JobTransition, ManagedJob, ResourceReq, StoredJob } from './types.js';

/**
 * The live job record of a `ManagedQueue` and the conversions around it.
 *
 * @internal
 */
export interface Job<T> {
  readonly id: string;
  readonly seq: number;
  readonly priority: Priority;
  readonly payload: T;
  readonly resources: ResourceReq | undefined;
  state: JobState;
  attempts: number;
  readonly enqueuedAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Monotonic time of the terminal transition (TTL reference). */
  finishedMono: number;
  /** True once dequeued in this process: the job then has a cancellation signal. */
  hasRun: boolean;
  /** Created on first read of the signal (AbortControllers are costly to make). */
  controller: AbortController | undefined;
  /** Set when the job was cancelled while running. */
  abortReason: Error | undefined;
  /** Tier links, set while queued. */
  prev: Job<T> | undefined;
  next: Job<T> | undefined;
}

/**
 * The job's cancellation signal, created lazily: most workers never read it, and an
 * AbortController per job would dominate the cost of a dequeue.
 */
export function signalOf(job: Job<unknown>): AbortSignal | undefined {
  if (!job.hasRun) return undefined;
  if (job.controller === undefined) {
    job.controller = new AbortController();
    if (job.abortReason !== undefined) job.controller.abort(job.abortReason);
  }
  return job.controller.signal;
}

/** Aborts the job's signal (now if it exists, else when it is first read). */
export function abortJob(job: Job<unknown>, reason: Error): void {
  job.abortReason = reason;
  job.controller?.abort(reason);
}

/** The store transition that moves `job` from its current state to `to`. */
export function transitionOf(
  job: Job<unknown>,
  to: JobState,
  attempts: number,
  startedAt: number | undefined,
  finishedAt: number | undefined,
): JobTransition {
  return { id: job.id, from: job.state, to, attempts, startedAt, finishedAt };
}

/** The row a store keeps for `job`. */
export function toStored(job: Job<unknown>, payload: string): StoredJob {
  return {
    id: job.id,
    seq: job.seq,
    priority: job.priority,
    state: job.state,
    payload,
    resources: job.resources,
    attempts: job.attempts,
    enqueuedAt: job.enqueuedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

/** A copy safe to hand out; `signal` is created on first read. */
class JobSnapshot<T> implements ManagedJob<T> {
  readonly id: string;
  readonly priority: Priority;
  readonly payload: T;
  readonly resources: ResourceReq | undefined;
  readonly state: JobState;
  readonly attempts: number;
  readonly enqueuedAt: number;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly #job: Job<T>;

  constructor(job: Job<T>) {
    this.id = job.id;
    this.priority = job.priority;
    this.payload = job.payload;
    this.resources = job.resources;
    this.state = job.state;
    this.attempts = job.attempts;
    this.enqueuedAt = job.enqueuedAt;
    this.startedAt = job.startedAt;
    this.finishedAt = job.finishedAt;
    this.#job = job;
  }

  get signal(): AbortSignal | undefined {
    return signalOf(this.#job);
  }
}

/** A copy safe to hand out. */
export function snapshot<T>(job: Job<T>): ManagedJob<T> {
  return new JobSnapshot(job);
}

function cap(state: string): string {
  return state.charAt(0).toUpperCase() + state.slice(1);
}

/** `ERR_QUEUE_INVALID_TRANSITION`, worded like the reference (`Queued → Completed`). */
export function illegalTransition(job: Job<unknown>, to: JobState): InvalidStateError {
  return new InvalidStateError(
    `invalid state transition for job ${job.id}: ${cap(job.state)} \u2192 ${cap(to)}`,
    { code: 'ERR_QUEUE_INVALID_TRANSITION', details: { id: job.id, from: job.state, to } },
  );
}

/** `ERR_QUEUE_JOB_NOT_FOUND`. */
export function jobNotFound(id: unknown): NotFoundError {
  const shown = typeof id === 'string' ? id : typeof id;
  return new NotFoundError(`job ${shown} not found`, {
    code: 'ERR_QUEUE_JOB_NOT_FOUND',
    details: { id: shown },
  });
}
