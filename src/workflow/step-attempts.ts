/**
 * The attempts of one step: runs its executor (through the queue gate when the engine
 * has one) up to the retry policy's limit, with backoff between attempts, and reports
 * the outcome. Split from the run execution, which decides what an outcome means.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import { sleep } from '../core/abort.js';
import { MajraError } from '../core/errors.js';
import type { ResolvedStep } from './dag.js';
import { WORKFLOW_STEPS_RUNNING, WORKFLOW_STEPS_TOTAL } from './metrics.js';
import { backoffDelay } from './retry.js';
import type { AttemptsOutcome, RunDeps } from './run-support.js';
import { errorText, runAttempt, toStoredJson } from './step-attempt.js';
import type { StepContext, StepExecutor, StepResult } from './step-context.js';
import type { StepStatus } from './types.js';

/** What the attempts of a step need from the run executing it. */
export interface AttemptRun {
  readonly runId: string;
  readonly workflowId: string;
  readonly input: JsonValue;
  readonly resumed: boolean;
  readonly executors: ReadonlyMap<string, StepExecutor>;
  /** The run's signal: aborts every attempt and backoff of the run. */
  readonly signal: AbortSignal;
  readonly deps: RunDeps;
  readonly emitStep: (
    stepId: string,
    status: StepStatus,
    attempt: number,
    extra?: { retryInMs?: number; error?: string | null },
  ) => void;
}

/**
 * Attempts `exec`'s executor up to its retry policy's limit. `owner` is the step whose
 * dependencies feed the context (the failed step, for a fallback).
 */
export async function runAttempts(
  run: AttemptRun,
  exec: ResolvedStep,
  owner: ResolvedStep,
  results: Readonly<Record<string, StepResult>>,
  firstAttempt: number,
  fallbackFor: { stepId: string; error: string } | undefined,
  beforeAttempt?: (attempt: number) => Promise<boolean>,
): Promise<AttemptsOutcome> {
  const executor = run.executors.get(exec.id);
  const signal = run.signal;
  // A function read defeats narrowing: the signal aborts across awaits.
  const aborted = (): boolean => signal.aborted;
  const policy = exec.retry;
  let lastError = 'no attempt made';
  let attempt = firstAttempt;
  for (let k = 0; k < policy.maxAttempts; k++) {
    attempt = firstAttempt + k;
    if (aborted()) return { kind: 'aborted', attempt };
    if (beforeAttempt !== undefined && !(await beforeAttempt(attempt))) {
      return { kind: 'aborted', attempt };
    }
    if (aborted()) return { kind: 'aborted', attempt };
    if (fallbackFor === undefined) run.emitStep(owner.id, 'running', attempt);
    const context = (attemptSignal: AbortSignal): StepContext => ({
      runId: run.runId,
      workflowId: run.workflowId,
      stepId: exec.id,
      input: run.input,
      results,
      attempt,
      isResume: run.resumed,
      signal: attemptSignal,
      ...(fallbackFor === undefined ? {} : { fallbackFor }),
    });
    const gate = run.deps.gate;
    let ticket: string | undefined;
    let ok = false;
    const running = run.deps.stepsRunning;
    try {
      if (gate !== undefined) {
        ticket = await gate.acquire(
          { runId: run.runId, stepId: exec.id, attempt },
          exec.priority,
          exec.resources,
          signal,
        );
      }
      running.value++;
      run.deps.metrics.set(WORKFLOW_STEPS_RUNNING, running.value);
      try {
        const value = await runAttempt(
          (attemptSignal) => executor?.(context(attemptSignal)),
          signal,
          exec.timeoutMs,
          run.deps.clock,
          exec.id,
        );
        const output = toStoredJson(value, run.deps.maxResultBytes, `result of step '${exec.id}'`);
        ok = true;
        return { kind: 'completed', output, attempt };
      } finally {
        running.value--;
        run.deps.metrics.set(WORKFLOW_STEPS_RUNNING, running.value);
      }
    } catch (error) {
      if (aborted()) return { kind: 'aborted', attempt };
      lastError = errorText(error);
      if (error instanceof MajraError && error.code === 'ERR_WORKFLOW_STEP_TIMEOUT') {
        run.deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, { outcome: 'timed_out' });
      }
    } finally {
      if (gate !== undefined && ticket !== undefined) gate.release(ticket, ok);
    }
    if (k < policy.maxAttempts - 1) {
      const delay = backoffDelay(policy, k + 1, run.deps.random);
      run.deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, { outcome: 'retried' });
      run.emitStep(owner.id, 'pending', attempt, { retryInMs: delay, error: lastError });
      try {
        await sleep(delay, { signal, clock: run.deps.clock });
      } catch {
        return { kind: 'aborted', attempt };
      }
    }
  }
  return { kind: 'failed', error: lastError, attempt };
}
