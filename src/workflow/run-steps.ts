/**
 * Pure helpers of a run execution: when a step may run, what its executor sees of its
 * dependencies, and the step records it writes.
 *
 * @internal
 * @module
 */
import type { ResolvedStep, ValidatedWorkflow } from './dag.js';
import type { StepResult } from './step-context.js';
import type { StepRecord, StepStatus } from './types.js';

/** The step `id` of `wf` (ids come from the validated definition). */
export function stepOf(wf: ValidatedWorkflow, id: string): ResolvedStep {
  const step = wf.steps.get(id);
  if (step === undefined) throw new Error(`unknown step ${id}`); // unreachable: validated
  return step;
}

/** A step record being filled in before it is written. */
export type MutableStepRecord = { -readonly [K in keyof StepRecord]: StepRecord[K] };

/**
 * Whether `step` can run now given the results so far: `wait` for unfinished
 * dependencies, `skip` for an `any` step none of whose dependencies completed.
 */
export function evaluate(
  step: ResolvedStep,
  results: ReadonlyMap<string, StepResult>,
): 'wait' | 'run' | 'skip' {
  if (step.dependsOn.length === 0) return 'run';
  let finished = 0;
  let completed = 0;
  for (const dep of step.dependsOn) {
    const result = results.get(dep);
    if (result === undefined) continue;
    finished++;
    if (result.status === 'completed') completed++;
  }
  if (step.trigger === 'any') {
    if (completed > 0) return 'run';
    return finished === step.dependsOn.length ? 'skip' : 'wait';
  }
  return finished === step.dependsOn.length ? 'run' : 'wait';
}

/** The results of `step`'s dependencies that finished, by step id. */
export function dependencyResults(
  step: ResolvedStep,
  results: ReadonlyMap<string, StepResult>,
): Record<string, StepResult> {
  const out: Record<string, StepResult> = {};
  for (const dep of step.dependsOn) {
    const result = results.get(dep);
    if (result !== undefined) out[dep] = result;
  }
  return out;
}

/** A step record with no output, error, completion or fallback yet. */
export function stepRecord(
  runId: string,
  stepId: string,
  status: StepStatus,
  attempt: number,
  startedAt: number | null,
): MutableStepRecord {
  return {
    runId,
    stepId,
    status,
    attempt,
    output: null,
    error: null,
    startedAt,
    completedAt: null,
    durationMs: null,
    fallbackStepId: null,
  };
}

/** Runs `after` once `write` settles, or at once (returning nothing) when there is none. */
export function afterWrite(
  write: Promise<unknown> | undefined,
  after: () => void,
): Promise<void> | undefined {
  if (write !== undefined) return write.then(after);
  after();
  return undefined;
}

/**
 * Seeds a resumed run's state from its stored records: results of the steps that
 * completed or were skipped, and the next attempt number of the others.
 */
export function resumeFrom(
  prior: readonly StepRecord[],
  results: Map<string, StepResult>,
  nextAttempt: Map<string, number>,
): void {
  for (const record of prior) {
    if (record.status === 'completed' || record.status === 'skipped') {
      results.set(record.stepId, {
        status: record.status,
        output: record.output,
        error: record.error,
      });
    } else {
      nextAttempt.set(record.stepId, record.attempt + 1);
    }
  }
}
