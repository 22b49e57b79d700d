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
  controller: AbortController | undefined;
  signal: AbortSignal | undefined;
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

/** A copy safe to hand out. */
export function snapshot<T>(job: Job<T>): ManagedJob<T> {
  return {
    id: job.id,
    priority: job.priority,
    payload: job.payload,
    resources: job.resources,
    state: job.state,
    attempts: job.attempts,
    enqueuedAt: job.enqueuedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    signal: job.signal,
  };
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
