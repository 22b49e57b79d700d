/**
 * The attempts of one step: runs its executor (through the queue gate when the engine
 * has one) up to the retry policy's limit, with backoff between attempts, and reports
 * the outcome. Split from the run execution, which decides what an outcome means.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import { MajraError, toError } from '../core/errors.js';
import type { ResolvedStep } from './dag.js';
import {
  STEP_OUTCOME_LABELS as OUTCOME,
  WORKFLOW_STEPS_RUNNING,
  WORKFLOW_STEPS_TOTAL,
} from './metrics.js';
import { backoffDelay } from './retry.js';
import type { AttemptsOutcome, RunDeps } from './run-support.js';
import { AttemptContext } from './attempt-context.js';
import { isThenable, type RunAbort } from './run-abort.js';
import { errorText, runWithTimeout, toStoredJson } from './step-attempt.js';
import type { StepExecutor, StepResult } from './step-context.js';
import type { StepStatus } from './types.js';

/** What the attempts of a step need from the run executing it. */
export interface AttemptRun {
  readonly runId: string;
  readonly workflowId: string;
  readonly input: JsonValue;
  readonly resumed: boolean;
  readonly executors: ReadonlyMap<string, StepExecutor>;
  /** The run's abort state: aborts every attempt and backoff of the run. */
  readonly abort: RunAbort;
  readonly deps: RunDeps;
  readonly emitStep: (
    stepId: string,
    status: StepStatus,
    attempt: number,
    error?: string | null,
    fallbackStepId?: string | null,
    retryInMs?: number | null,
  ) => void;
}

type FallbackFor = { readonly stepId: string; readonly error: string };

/** Calls the executor; waits for a promise it returns until the run aborts. */
function callExecutor(
  run: AttemptRun,
  exec: ResolvedStep,
  executor: StepExecutor,
  results: Readonly<Record<string, StepResult>>,
  attempt: number,
  fallbackFor: FallbackFor | undefined,
): unknown {
  const abort = run.abort;
  if (abort.reason !== undefined) throw abort.reason;
  const timeoutMs = exec.timeoutMs;
  if (timeoutMs !== undefined) {
    return runWithTimeout(
      (own) => executor(new AttemptContext(run, exec.id, results, attempt, fallbackFor, own)),
      abort,
      timeoutMs,
      run.deps.clock,
      exec.id,
    );
  }
  const value = executor(new AttemptContext(run, exec.id, results, attempt, fallbackFor, abort));
  return isThenable(value) ? abort.race(value) : value;
}

/**
 * The text an attempt's failure is recorded with, or undefined when the run aborted
 * (the failure is then the abort's, not the step's).
 */
export function attemptFailure(run: AttemptRun, error: unknown): string | undefined {
  if (run.abort.isAborted()) return undefined;
  if (error instanceof MajraError && error.code === 'ERR_WORKFLOW_STEP_TIMEOUT') {
    run.deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, OUTCOME.timed_out);
  }
  // As text of an Error: a thrown non-Error reads as toError renders it.
  return errorText(toError(error));
}

/**
 * Attempts `exec`'s executor up to its retry policy's limit. `owner` is the step whose
 * dependencies feed the context (the failed step, for a fallback). `failedFirst`: attempt
 * `firstAttempt` was already made (see FirstAttempt) and threw this error.
 */
export async function runAttempts(
  run: AttemptRun,
  exec: ResolvedStep,
  owner: ResolvedStep,
  results: Readonly<Record<string, StepResult>>,
  firstAttempt: number,
  fallbackFor: FallbackFor | undefined,
  beforeAttempt?: (attempt: number) => Promise<boolean>,
  failedFirst?: { readonly error: unknown },
): Promise<AttemptsOutcome> {
  // Every step has an executor: register() checks it.
  const executor = run.executors.get(exec.id) as StepExecutor;
  const abort = run.abort;
  const { deps } = run;
  const policy = exec.retry;
  const gate = deps.gate;
  const running = deps.stepsRunning;
  let lastError = 'no attempt made';
  let attempt = firstAttempt;
  for (let k = 0; k < policy.maxAttempts; k++) {
    attempt = firstAttempt + k;
    if (k === 0 && failedFirst !== undefined) {
      const failure = attemptFailure(run, failedFirst.error);
      if (failure === undefined) return { kind: 'aborted', attempt };
      lastError = failure;
    } else {
      if (abort.isAborted()) return { kind: 'aborted', attempt };
      if (beforeAttempt !== undefined && !(await beforeAttempt(attempt))) {
        return { kind: 'aborted', attempt };
      }
      if (abort.isAborted()) return { kind: 'aborted', attempt };
      if (fallbackFor === undefined) run.emitStep(owner.id, 'running', attempt);
      let ticket: string | undefined;
      let ok = false;
      try {
        if (gate !== undefined) {
          ticket = await gate.acquire(
            { runId: run.runId, stepId: exec.id, attempt },
            exec.priority,
            exec.resources,
            abort.signal,
          );
        }
        running.value++;
        deps.metrics.set(WORKFLOW_STEPS_RUNNING, running.value);
        try {
          const value = await callExecutor(run, exec, executor, results, attempt, fallbackFor);
          const output = toStoredJson(value, deps.maxResultBytes, 'result of step', exec.id);
          ok = true;
          return { kind: 'completed', output, attempt };
        } finally {
          running.value--;
          deps.metrics.set(WORKFLOW_STEPS_RUNNING, running.value);
        }
      } catch (error) {
        const failure = attemptFailure(run, error);
        if (failure === undefined) return { kind: 'aborted', attempt };
        lastError = failure;
      } finally {
        if (gate !== undefined && ticket !== undefined) gate.release(ticket, ok);
      }
    }
    if (k < policy.maxAttempts - 1) {
      const delay = backoffDelay(policy, k + 1, deps.random);
      deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, OUTCOME.retried);
      run.emitStep(owner.id, 'pending', attempt, lastError, null, delay);
      try {
        await abort.sleep(delay, deps.clock);
      } catch {
        return { kind: 'aborted', attempt };
      }
    }
  }
  return { kind: 'failed', error: lastError, attempt };
}
