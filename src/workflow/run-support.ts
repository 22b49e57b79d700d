/**
 * Types and helpers shared by the engine and run executions.
 *
 * @internal
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { BackendError, ClosedError, InvalidStateError, MajraError } from '../core/errors.js';
import type { MetricsSink } from '../core/metrics.js';
import type { ValidatedWorkflow } from './dag.js';
import type { WorkflowEvent } from './events.js';
import type { QueueGate } from './queue-gate.js';
import { errorText } from './step-attempt.js';
import type { StepExecutor } from './step-context.js';
import type { StepRecord, StepStatus, WorkflowRunStatus, WorkflowStore } from './types.js';

/** A definition with its executors, as the engine registered it. */
export interface RegisteredWorkflow {
  readonly workflow: ValidatedWorkflow;
  readonly executors: ReadonlyMap<string, StepExecutor>;
}

/** What a run execution needs from its engine. */
export interface RunDeps {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  /** Where events go; none are built while no stream is open (`size` 0). */
  readonly events: { readonly size: number; emit(event: WorkflowEvent): void };
  readonly random: () => number;
  readonly owner: string;
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  readonly maxParallelSteps: number;
  readonly maxResultBytes: number;
  readonly onError: (error: Error) => void;
  /** Admission through a ManagedQueue, when the engine has one. */
  readonly gate: QueueGate | undefined;
  /** Counts attempts in flight engine-wide (for the running-steps gauge). */
  readonly stepsRunning: { value: number };
}

export type Stop =
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'cancelled'; readonly error: string }
  | { readonly kind: 'lease-lost' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'storage'; readonly error: Error };

export type AttemptsOutcome =
  | { readonly kind: 'completed'; readonly output: JsonValue; readonly attempt: number }
  | { readonly kind: 'failed'; readonly error: string; readonly attempt: number }
  | { readonly kind: 'aborted'; readonly attempt: number };

/** Stop reasons are surfaced to executors through `signal.reason`. */
export function reasonFor(stop: Stop, runId: string): Error {
  switch (stop.kind) {
    case 'failed':
      return new InvalidStateError(stop.error, { code: 'ERR_WORKFLOW_STEP_FAILED' });
    case 'cancelled':
      return new InvalidStateError(`run ${runId} ${stop.error}`, {
        code: 'ERR_WORKFLOW_RUN_NOT_ACTIVE',
      });
    case 'lease-lost':
      return new InvalidStateError(`lost the lease on run ${runId}`, {
        code: 'ERR_WORKFLOW_LEASE_LOST',
      });
    case 'closed':
      return new ClosedError(`workflow engine closed while run ${runId} was executing`);
    case 'storage':
      return stop.error;
  }
}

/** Wraps a store failure as `ERR_WORKFLOW_STORAGE` (a MajraError from the store is kept). */
export function storageError(operation: string, error: unknown): MajraError {
  if (error instanceof MajraError) return error;
  return new BackendError(`workflow storage: ${operation} failed: ${errorText(error)}`, {
    code: 'ERR_WORKFLOW_STORAGE',
    cause: error,
  });
}

/** The step records a run execution starts from. */
export interface RunRecords {
  /** The run's stored step records (a resumed run continues from them). */
  readonly prior: readonly StepRecord[];
  /** `running` records the store wrote with the run: their first attempt is not saved again. */
  readonly started: readonly StepRecord[];
}

/** Emits a run transition of `run`, stamped with the engine clock (when anyone listens). */
export function emitRunEvent(
  deps: RunDeps,
  run: { readonly runId: string; readonly workflowId: string },
  resumed: boolean,
  status: WorkflowRunStatus,
  error: string | null,
): void {
  if (deps.events.size === 0) return;
  deps.events.emit({
    type: 'run',
    runId: run.runId,
    workflowId: run.workflowId,
    status,
    resumed,
    error,
    at: deps.clock.now(),
  });
}

/** Emits a step transition of `run`, stamped with the engine clock (when anyone listens). */
export function emitStepEvent(
  deps: RunDeps,
  run: { readonly runId: string; readonly workflowId: string },
  stepId: string,
  status: StepStatus,
  attempt: number,
  error: string | null = null,
  fallbackStepId: string | null = null,
  retryInMs: number | null = null,
): void {
  if (deps.events.size === 0) return;
  deps.events.emit({
    type: 'step',
    runId: run.runId,
    workflowId: run.workflowId,
    stepId,
    status,
    attempt,
    retryInMs,
    fallbackStepId,
    error,
    at: deps.clock.now(),
  });
}
