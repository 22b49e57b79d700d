/**
 * What executors receive and what runs produce.
 *
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import type { StepStatus, WorkflowRunStatus } from './types.js';

/** The outcome of a finished step, as dependents see it. */
export interface StepResult {
  /** `completed`, `failed` or `skipped`. */
  readonly status: StepStatus;
  /** The step's output (JSON) when completed, else `null`. */
  readonly output: JsonValue;
  /** Error text when it failed (or was skipped after failing), else `null`. */
  readonly error: string | null;
}

/** Everything a step executor gets for one attempt. */
export interface StepContext {
  /** The run this attempt belongs to (with `stepId` and `attempt`, a key for idempotency). */
  readonly runId: string;
  /** The workflow definition's id. */
  readonly workflowId: string;
  /** The step being executed (for a fallback: the fallback step's own id). */
  readonly stepId: string;
  /** The run input (JSON; `null` when none). */
  readonly input: JsonValue;
  /** Results of this step's dependencies, by step id (only the ones that finished). */
  readonly results: Readonly<Record<string, StepResult>>;
  /**
   * 1-based attempt number, counted over the life of the run: after a crash the resumed
   * engine continues the count, so an interrupted first attempt is followed by attempt 2.
   */
  readonly attempt: number;
  /** True when this run was resumed (by `resume` or `resumeInterrupted`) on this engine. */
  readonly isResume: boolean;
  /**
   * Aborts when the run is cancelled, fails elsewhere, loses its lease, the engine
   * closes, or the step's `timeoutMs` passes. Executors should stop promptly: the engine
   * stops waiting at that moment and ignores a late result.
   */
  readonly signal: AbortSignal;
  /** Set when this executor runs as the fallback of a failed step. */
  readonly fallbackFor?: {
    /** The step that failed and that this fallback stands in for. */
    readonly stepId: string;
    /** The failed step's last error text. */
    readonly error: string;
  };
}

/**
 * A step's work: any function, sync or async. Its resolved value (JSON-serialisable,
 * `undefined` stored as `null`) is the step's output; a throw or rejection, of any value,
 * is a failed attempt.
 */
export type StepExecutor = (context: StepContext) => unknown;

/** The end state of a run, as `wait` reports it. */
export interface WorkflowRunResult {
  /** The run. */
  readonly runId: string;
  /** Its workflow definition's id. */
  readonly workflowId: string;
  /** `completed`, `failed` or `cancelled`. */
  readonly status: WorkflowRunStatus;
  /** Step id → output of every completed step (a fallback's output under the failed step's id); `null` unless completed. */
  readonly output: JsonValue;
  /** Why it failed or was cancelled, else `null`. */
  readonly error: string | null;
  /** Final result of every step that finished in this run, by id. */
  readonly steps: Readonly<Record<string, StepResult>>;
  /** When the run started, epoch ms. */
  readonly startedAt: number | null;
  /** When it reached its final status, epoch ms. */
  readonly completedAt: number | null;
}
