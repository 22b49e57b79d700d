/**
 * The store side of resuming a run: checks it can be resumed by this engine, takes its
 * lease, marks it running again and reads the step records the execution starts from.
 *
 * @internal
 * @module
 */
import { InvalidStateError } from '../core/errors.js';
import { notFound } from './engine-options.js';
import { leaseHeldError } from './engine-setup.js';
import { storageError, type RegisteredWorkflow } from './run-support.js';
import type { StepRecord, WorkflowRunRecord, WorkflowStore } from './types.js';

/** Awaits a store call, wrapping a failure as `ERR_WORKFLOW_STORAGE` (see `storageError`). */
export async function readStore<T>(call: () => Promise<T>, operation: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storageError(operation, error);
  }
}

/** A stored run this engine now holds, ready to execute. */
export interface ClaimedRun {
  /** The run as read before the claim. */
  readonly run: WorkflowRunRecord;
  /** The run as the claim returned it. */
  readonly claimed: WorkflowRunRecord;
  readonly registered: RegisteredWorkflow;
  readonly prior: StepRecord[];
}

/**
 * Claims `runId` for `engineId` and marks it running. Resolves `undefined` for a run
 * that already completed or was cancelled.
 *
 * @throws NotFoundError `ERR_WORKFLOW_RUN_NOT_FOUND` (or what `lookup` throws);
 *   InvalidStateError `ERR_WORKFLOW_DEFINITION_MISMATCH`, `ERR_WORKFLOW_LEASE_HELD`,
 *   `ERR_WORKFLOW_LEASE_LOST`; BackendError `ERR_WORKFLOW_STORAGE`.
 */
export async function claimForResume(
  store: WorkflowStore,
  engineId: string,
  leaseMs: number,
  runId: string,
  lookup: (workflowId: string) => RegisteredWorkflow,
): Promise<ClaimedRun | undefined> {
  const run = await readStore(() => store.getRun(runId), 'getRun');
  if (run === undefined) throw notFound(runId);
  if (run.status === 'completed' || run.status === 'cancelled') return undefined;
  const registered = lookup(run.workflowId);
  if (registered.workflow.hash !== run.definitionHash) {
    throw new InvalidStateError(
      `workflow run ${runId} was started with a different definition of '${run.workflowId}'`,
      { code: 'ERR_WORKFLOW_DEFINITION_MISMATCH' },
    );
  }
  const claim = await readStore(() => store.claimRun(runId, engineId, leaseMs), 'claimRun');
  if (!claim.claimed) throw leaseHeldError(runId, claim.run);
  if (claim.run.status === 'completed' || claim.run.status === 'cancelled') {
    // The engine that held it finished it between the read above and the claim (a claim
    // succeeds whatever the status): there is nothing left to resume.
    await readStore(() => store.releaseRun(runId, engineId), 'releaseRun');
    return undefined;
  }
  const patch = { status: 'running' as const, error: null, completedAt: null };
  const ok = await readStore(() => store.updateRun(runId, engineId, patch), 'updateRun');
  if (!ok) {
    throw new InvalidStateError(`lost the lease on run ${runId}`, {
      code: 'ERR_WORKFLOW_LEASE_LOST',
    });
  }
  const prior = await readStore(() => store.getSteps(runId), 'getSteps');
  return { run, claimed: claim.run, registered, prior };
}
