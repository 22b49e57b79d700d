/**
 * The end of a run's execution: writes the final status (fenced by the lease), or
 * releases the lease when the engine closes, or gives up when the lease was lost.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import {
  RUN_EVENT_LABELS,
  RUN_STATUS_LABELS,
  STORE_OPERATION_LABELS as STORE_OP,
  WORKFLOW_RUN_DURATION_SECONDS,
  WORKFLOW_RUNS_TOTAL,
  WORKFLOW_STORE_ERRORS_TOTAL,
} from './metrics.js';
import { reasonFor, storageError, type RunDeps, type Stop } from './run-support.js';
import type { StepResult, WorkflowRunResult } from './step-context.js';

/** A run whose steps have all settled (and whose step writes are committed). */
export interface FinishingRun {
  readonly runId: string;
  readonly workflowId: string;
  readonly deps: RunDeps;
  /** Why the run stopped early, if it did (read again once `pending` settles). */
  readonly stop: () => Stop | undefined;
  /**
   * Step writes still queued in a store that groups run writes: the final update commits
   * with them, so it is issued at once, and redone as without grouping when one of them
   * fails or is fenced out.
   */
  readonly pending: Promise<unknown> | undefined;
  readonly results: ReadonlyMap<string, StepResult>;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly emitRun: (status: WorkflowRunResult['status'], error: string | null) => void;
}

/**
 * Finishes `run`: resolves with its result once the final status is stored; rejects
 * with the lease-lost, closed or storage error otherwise.
 */
export async function finalizeRun(run: FinishingRun): Promise<WorkflowRunResult> {
  const { durationMs } = run;
  let stop = run.stop();
  const store = run.deps.store;
  const owner = run.deps.owner;
  if (run.pending !== undefined && (stop?.kind === 'lease-lost' || stop?.kind === 'closed')) {
    // No final update to group: settle the queued writes first, as without grouping.
    await run.pending;
    stop = run.stop();
  }
  if (stop?.kind === 'lease-lost') {
    run.deps.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.lease_lost);
    throw reasonFor(stop, run.runId);
  }
  if (stop?.kind === 'closed') {
    run.deps.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.interrupted);
    try {
      await store.releaseRun(run.runId, owner);
    } catch (error) {
      run.deps.onError(storageError('releaseRun', error));
    }
    throw reasonFor(stop, run.runId);
  }
  let status: 'completed' | 'failed' | 'cancelled' = 'completed';
  let error: string | null = null;
  if (stop?.kind === 'failed') [status, error] = ['failed', stop.error];
  else if (stop?.kind === 'cancelled') [status, error] = ['cancelled', stop.error];
  else if (stop?.kind === 'storage') [status, error] = ['failed', stop.error.message];
  // One pass over the results, without an entry array per step as a for-of would make.
  const out: Record<string, JsonValue> | null = status === 'completed' ? {} : null;
  const steps: Record<string, StepResult> = {};
  run.results.forEach((result, id) => {
    steps[id] = result;
    if (out !== null && result.status === 'completed') out[id] = result.output;
  });
  const output: JsonValue = out;
  const completedAt = run.deps.clock.now();
  const update = store.updateRun(run.runId, owner, { status, output, error, completedAt });
  if (run.pending !== undefined) {
    // The update shares the transaction of the queued step writes.
    update.catch(() => undefined);
    await run.pending;
    const after = run.stop();
    if (after !== stop && (after?.kind === 'lease-lost' || after?.kind === 'storage')) {
      // One of them failed or was fenced out, so the update failed or was refused with
      // it: finish as if the engine had awaited the writes before the update. (A cancel
      // or close that arrives once the final update is issued does not undo it.)
      await update.catch(() => undefined);
      return finalizeRun({ ...run, pending: undefined });
    }
  }
  let written: boolean;
  try {
    written = await update;
  } catch (cause) {
    run.deps.metrics.increment(WORKFLOW_STORE_ERRORS_TOTAL, 1, STORE_OP.updateRun);
    // The run stays `running` with our lease; once it expires another engine may resume it.
    throw storageError('updateRun', cause);
  }
  if (!written) {
    run.deps.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.lease_lost);
    throw reasonFor({ kind: 'lease-lost' }, run.runId);
  }
  run.deps.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS[status]);
  run.deps.metrics.observe(
    WORKFLOW_RUN_DURATION_SECONDS,
    durationMs / 1000,
    RUN_STATUS_LABELS[status],
  );
  run.emitRun(status, error);
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    status,
    output,
    error,
    steps,
    startedAt: run.startedAt,
    completedAt,
  };
}
