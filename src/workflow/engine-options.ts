/**
 * Options and result shapes of {@link WorkflowEngine}, and small helpers it shares.
 *
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { MajraError } from '../core/errors.js';
import { NotFoundError, toError } from '../core/errors.js';
import { waitFor } from '../core/abort.js';
import type { MetricsSink } from '../core/metrics.js';
import type { ManagedQueue } from '../queue/managed-queue.js';
import type { StepTicket } from './queue-gate.js';
import type { StepExecutor, StepResult, WorkflowRunResult } from './step-context.js';
import type { WorkflowRunRecord, WorkflowStore } from './types.js';

/** Options of {@link WorkflowEngine}. Every field is optional. */
export interface WorkflowEngineOptions {
  /** Where runs and step records live; default a new {@link MemoryWorkflowStore} (closed with the engine). */
  readonly store?: WorkflowStore;
  /** Clock for timestamps, timeouts, backoff and lease renewal; default the system clock. */
  readonly clock?: Clock;
  /** Metrics sink; default none. */
  readonly metrics?: MetricsSink;
  /** Steps of one run executing at once; 1..10 000, default 20. */
  readonly maxParallelSteps?: number;
  /** Runs executing on this engine at once; 1..1 000 000, default 10 000. */
  readonly maxActiveRuns?: number;
  /** Registered workflows; 1..100 000, default 1000. */
  readonly maxWorkflows?: number;
  /** Lease length in ms; a dead engine's runs become resumable this long after its last renewal. Default 30 000. */
  readonly leaseMs?: number;
  /** Renewal period in ms, less than `leaseMs`; default `leaseMs / 3`. */
  readonly renewEveryMs?: number;
  /** This engine's id in leases; default a random UUID. Must differ between live engines. */
  readonly engineId?: string;
  /** Largest JSON size of a run input or a step output; default 1 MiB. */
  readonly maxResultBytes?: number;
  /** Open event streams at once; default 64. */
  readonly maxEventStreams?: number;
  /** Source of jitter, uniform in [0, 1); default `Math.random`. */
  readonly random?: () => number;
  /**
   * A ManagedQueue dedicated to this engine. When set, every step attempt is admitted
   * through it: it enqueues a ticket with the step's `resources` and `priority`, runs once
   * the queue hands it out (within the queue's `capacity` and `maxConcurrency`, across all
   * runs of this engine), and completes or fails the ticket when the attempt ends. Do not
   * let other consumers dequeue from it.
   */
  readonly queue?: ManagedQueue<StepTicket>;
  /** Receives background failures (lease renewal, lease release); default ignores them. */
  readonly onError?: (error: Error) => void;
}

/** Options of {@link WorkflowEngine.start}. */
export interface StartOptions {
  /** Run id to use instead of a random UUID (1..256 characters; must be new). */
  readonly runId?: string;
}

/** What {@link WorkflowEngine.resumeInterrupted} did. */
export interface ResumeInterruptedResult {
  /** Runs now executing on this engine. */
  readonly resumed: string[];
  /** Runs that could not be resumed, with the reason (another engine won, unregistered workflow, ...). */
  readonly skipped: {
    /** The run left alone. */
    readonly runId: string;
    /** Why (`ERR_WORKFLOW_LEASE_HELD`, `ERR_WORKFLOW_NOT_REGISTERED`, ...). */
    readonly error: MajraError;
  }[];
}

/** Executors by step id, as a record or a Map. */
export type Executors = Readonly<Record<string, StepExecutor>> | ReadonlyMap<string, StepExecutor>;

/** @internal Awaits `promise` until `signal` aborts (then rejects with an abort error). */
export function settleOrAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return waitFor<T>(
    (resolve, reject) => {
      promise.then(resolve, (e: unknown) => reject(toError(e)));
      return undefined;
    },
    { signal, what: 'workflow wait' },
  );
}

/** @internal */
export function notFound(runId: string): NotFoundError {
  return new NotFoundError(`workflow run ${runId} not found`, {
    code: 'ERR_WORKFLOW_RUN_NOT_FOUND',
  });
}

/** @internal */
export function resultFromRecord(
  run: WorkflowRunRecord,
  steps: Record<string, StepResult>,
): WorkflowRunResult {
  return {
    runId: run.id,
    workflowId: run.workflowId,
    status: run.status,
    output: run.output,
    error: run.error,
    steps,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
  };
}
