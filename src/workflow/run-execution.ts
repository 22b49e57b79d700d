/**
 * The execution of one run on one engine: schedules steps as their triggers are met
 * (at most `maxParallelSteps` at a time), applies retries and error policies, writes
 * step records through the lease-fenced store, renews the lease, and finalises the run.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import type { ResolvedStep, ValidatedWorkflow } from './dag.js';
import {
  WORKFLOW_STEP_DURATION_SECONDS,
  WORKFLOW_STEPS_TOTAL,
  STEP_OUTCOME_LABELS as OUTCOME,
} from './metrics.js';
import {
  emitRunEvent,
  emitStepEvent,
  reasonFor,
  storageError,
  type RegisteredWorkflow,
  type RunDeps,
  type AttemptsOutcome,
  type RunRecords,
  type Stop,
} from './run-support.js';
import { LeaseRenewal } from './lease-renewal.js';
import { RunWrites } from './run-writes.js';
import { RunAbort } from './run-abort.js';
import { finalizeRun } from './run-finalize.js';
import {
  afterWrite,
  dependencyResults,
  resumeFrom,
  stepOf,
  stepRecord,
  type MutableStepRecord,
} from './run-steps.js';
import { runAttempts, type AttemptRun } from './step-attempts.js';
import { FirstAttempt } from './first-attempt.js';
import { StepScheduler } from './run-scheduler.js';
import type { StepExecutor, StepResult, WorkflowRunResult } from './step-context.js';
import type { StepRecord, StepStatus } from './types.js';

/** What a `running` write that the store already holds resolves with. */
const SAVED = Promise.resolve(true);

/** @internal One run executing on one engine. */
export class RunExecution {
  readonly runId: string;
  readonly workflowId: string;
  readonly #deps: RunDeps;
  readonly #wf: ValidatedWorkflow;
  readonly #executors: ReadonlyMap<string, StepExecutor>;
  readonly #resumed: boolean;
  readonly #startedAt: number;
  readonly #results = new Map<string, StepResult>();
  readonly #nextAttempt = new Map<string, number>();
  /** Steps whose first `running` record was stored with the run (see firstStepRecords). */
  readonly #started = new Map<string, StepRecord>();
  readonly #abort: RunAbort;
  readonly #attemptRun: AttemptRun;
  #stop: Stop | undefined;
  readonly #writes: RunWrites;
  readonly #scheduler: StepScheduler;
  /** The clocks #finish last read: its dependents start at them (see StepScheduler). */
  #finishedAt = -1;
  #finishedAtMono = 0;
  readonly #renewal: LeaseRenewal;
  #finished = false;
  /** Settles with the run's result; rejects on lease loss, engine close, or a store failure. */
  readonly done: Promise<WorkflowRunResult>;

  constructor(
    deps: RunDeps,
    registered: RegisteredWorkflow,
    runId: string,
    input: JsonValue,
    records: RunRecords,
    resumed: boolean,
    startedAt: number,
  ) {
    this.#deps = deps;
    this.#wf = registered.workflow;
    this.#executors = registered.executors;
    this.runId = runId;
    this.workflowId = registered.workflow.id;
    this.#resumed = resumed;
    this.#startedAt = startedAt;
    this.#renewal = new LeaseRenewal(deps, runId, () => this.halt({ kind: 'lease-lost' }));
    this.#writes = new RunWrites(
      deps,
      () => this.#stop,
      (stop) => this.halt(stop),
    );
    // Executors, backoff sleeps and queue admissions listen on the run signal.
    this.#abort = new RunAbort(deps.maxParallelSteps * 2 + 16);
    this.#attemptRun = {
      runId,
      workflowId: this.workflowId,
      input,
      resumed,
      executors: this.#executors,
      abort: this.#abort,
      deps,
      emitStep: (stepId, status, attempt, error, fallbackStepId, retryInMs) =>
        emitStepEvent(deps, this, stepId, status, attempt, error, fallbackStepId, retryInMs),
    };
    this.#scheduler = new StepScheduler(
      this.#wf,
      this.#results,
      deps.clock,
      deps.maxParallelSteps,
      {
        stopped: () => this.#stop !== undefined,
        start: (id, now, mono) => this.#runStep(id, now, mono),
        skip: (id) => this.#skipUnreachable(id),
      },
    );
    for (const record of records.started) this.#started.set(record.stepId, record);
    resumeFrom(records.prior, this.#results, this.#nextAttempt);
    this.done = this.#run();
    // `done` is awaited by wait(); a run nobody waits for must not raise an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Asks the run to stop; the first stop reason wins. */
  halt(stop: Stop): void {
    if (this.#stop !== undefined || this.#finished) return;
    this.#stop = stop;
    this.#abort.abort(reasonFor(stop, this.runId));
  }

  /** Cancels the run: running steps are aborted and the run ends `cancelled`. */
  cancel(reason?: string): void {
    this.halt({
      kind: 'cancelled',
      error: reason === undefined ? 'cancelled' : `cancelled: ${reason}`,
    });
  }

  /** Stops for engine close: no more writes except releasing the lease. */
  close(): void {
    this.halt({ kind: 'closed' });
  }

  async #run(): Promise<WorkflowRunResult> {
    const monoStart = this.#deps.clock.monotonic();
    this.#emitRun('running', null);
    this.#renewal.start();
    try {
      await this.#scheduler.run();
      return await this.#finalize(monoStart);
    } finally {
      this.#finished = true;
      this.#renewal.stop();
    }
  }

  #emitRun(status: WorkflowRunResult['status'], error: string | null): void {
    emitRunEvent(this.#deps, this, this.#resumed, status, error);
  }

  #emitStep(
    stepId: string,
    status: StepStatus,
    attempt: number,
    error: string | null = null,
    fallbackStepId: string | null = null,
  ): void {
    emitStepEvent(this.#deps, this, stepId, status, attempt, error, fallbackStepId);
  }

  #step(id: string): ResolvedStep {
    return stepOf(this.#wf, id);
  }

  /**
   * An `any` step none of whose dependencies completed: recorded `skipped`, never run.
   * Like the other final writes below, returns a promise only when the write is awaited.
   */
  #skipUnreachable(id: string): Promise<void> | undefined {
    const error = 'no dependency completed';
    this.#results.set(id, { status: 'skipped', output: null, error });
    const attempt = Math.max(1, (this.#nextAttempt.get(id) ?? 1) - 1);
    const record = stepRecord(this.runId, id, 'skipped', attempt, null);
    record.error = error;
    record.completedAt = this.#deps.clock.now();
    const after = (): void => {
      this.#deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, OUTCOME.skipped);
      this.#emitStep(id, 'skipped', 0, error);
    };
    return afterWrite(this.#writes.saveFinal(record), after);
  }

  /**
   * Runs one step to its final record; never throws (reports to the scheduler). `now` and
   * `mono` are the clocks read when it was started. Its first attempt goes through a
   * FirstAttempt unless a queue gate or a timeout needs runAttempts' full path.
   */
  #runStep(id: string, now: number, mono: number): void {
    const step = this.#step(id);
    const stored = this.#started.get(id);
    if (stored !== undefined) this.#started.delete(id);
    const startedAt = stored?.startedAt ?? now;
    const results = dependencyResults(step, this.#results);
    const first = this.#nextAttempt.get(id) ?? 1;
    if (this.#deps.gate !== undefined || step.timeoutMs !== undefined || this.#abort.isAborted()) {
      void this.#attempts(step, results, first, startedAt, mono, stored?.attempt);
      return;
    }
    const attempt = new FirstAttempt(this.#attemptRun, this, step, results, first, startedAt, mono);
    attempt.start(
      stored?.attempt === first
        ? undefined
        : this.#writes.save(stepRecord(this.runId, id, 'running', first, startedAt)),
    );
  }

  /** @internal The outcome of a step's FirstAttempt (see FirstAttemptSink). */
  attempted(a: FirstAttempt, outcome: 'completed' | 'aborted' | 'failed'): void {
    const { step, attempt, startedAt, mono } = a;
    const id = step.id;
    if (outcome === 'failed') {
      // `a` holds the error runAttempts goes on from.
      void this.#attempts(step, a.results, attempt, startedAt, mono, undefined, a);
      return;
    }
    let finishing: Promise<void> | undefined;
    try {
      finishing =
        outcome === 'completed'
          ? this.#finish(id, 'completed', a.output, null, attempt, null, startedAt, mono)
          : this.#recordAborted(stepRecord(this.runId, id, 'failed', attempt, startedAt));
    } catch (error) {
      this.halt({ kind: 'storage', error: storageError('step', error) });
    }
    if (finishing === undefined) {
      const completed = outcome === 'completed';
      this.#scheduler.settled(step.id, completed ? this.#finishedAt : -1, this.#finishedAtMono);
      return;
    }
    finishing.then(
      () => this.#scheduler.settled(step.id),
      (error: unknown) => {
        this.halt({ kind: 'storage', error: storageError('step', error) });
        this.#scheduler.settled(step.id);
      },
    );
  }

  /**
   * The attempts of a step through runAttempts, to its final record; never rejects.
   * `storedAttempt`: the attempt whose `running` record the store already holds.
   * `failedFirst`: attempt `first` was made (by a FirstAttempt) and threw.
   */
  async #attempts(
    step: ResolvedStep,
    results: Record<string, StepResult>,
    first: number,
    startedAt: number,
    mono: number,
    storedAttempt: number | undefined,
    failedFirst?: { readonly error: unknown },
  ): Promise<void> {
    const id = step.id;
    // Whether the step's final write returned in the turn #finish read the clocks in.
    let finishedNow = -1;
    let stored = storedAttempt;
    try {
      const outcome = await runAttempts(
        this.#attemptRun,
        step,
        step,
        results,
        first,
        undefined,
        (attempt) => {
          if (stored === attempt) {
            stored = undefined;
            return SAVED;
          }
          return this.#writes.save(stepRecord(this.runId, id, 'running', attempt, startedAt));
        },
        failedFirst,
      );
      const finishing = this.#conclude(step, outcome, results, startedAt, mono);
      if (finishing !== undefined) await finishing;
      else if (outcome.kind === 'completed') finishedNow = this.#finishedAt;
    } catch (error) {
      this.halt({ kind: 'storage', error: storageError('step', error) });
    } finally {
      this.#scheduler.settled(id, finishedNow, this.#finishedAtMono);
    }
  }

  /** What a step's attempts' outcome means: its final record (a promise when awaited). */
  #conclude(
    step: ResolvedStep,
    outcome: AttemptsOutcome,
    results: Record<string, StepResult>,
    startedAt: number,
    mono: number,
  ): Promise<void> | undefined {
    const id = step.id;
    if (outcome.kind === 'aborted') {
      return this.#recordAborted(stepRecord(this.runId, id, 'failed', outcome.attempt, startedAt));
    }
    if (outcome.kind === 'completed') {
      const { output, attempt } = outcome;
      return this.#finish(id, 'completed', output, null, attempt, null, startedAt, mono);
    }
    return this.#failed(step, outcome.error, outcome.attempt, results, startedAt, mono);
  }

  /** A step whose attempts failed: its fallback, then its error policy. */
  async #failed(
    step: ResolvedStep,
    failure: string,
    attempt: number,
    results: Record<string, StepResult>,
    startedAt: number,
    mono: number,
  ): Promise<void> {
    const id = step.id;
    let error = `step '${id}' failed: ${failure}`;
    let policy = step.onError;
    let fallbackStepId: string | null = null;
    if (typeof policy === 'object') {
      const handler = this.#step(policy.fallback);
      fallbackStepId = handler.id;
      this.#emitStep(id, 'running', attempt, failure, fallbackStepId);
      const fb = await runAttempts(this.#attemptRun, handler, step, results, 1, {
        stepId: id,
        error: failure,
      });
      if (fb.kind === 'aborted') {
        await this.#recordAborted(stepRecord(this.runId, id, 'failed', attempt, startedAt));
        return;
      }
      if (fb.kind === 'completed') {
        await this.#finish(
          id,
          'completed',
          fb.output,
          null,
          attempt,
          fallbackStepId,
          startedAt,
          mono,
        );
        return;
      }
      error = `step '${id}' failed: ${failure}; fallback '${handler.id}' failed: ${fb.error}`;
      policy = typeof handler.onError === 'string' ? handler.onError : 'fail';
    }
    if (policy === 'skip') {
      await this.#finish(id, 'skipped', null, error, attempt, fallbackStepId, startedAt, mono);
    } else {
      await this.#finish(id, 'failed', null, error, attempt, fallbackStepId, startedAt, mono);
      if (policy === 'fail') this.halt({ kind: 'failed', error });
    }
  }

  /** Records a step's outcome: result, final record, metrics, event. */
  #finish(
    id: string,
    status: 'completed' | 'failed' | 'skipped',
    output: JsonValue,
    error: string | null,
    attempt: number,
    fallbackStepId: string | null,
    startedAt: number,
    mono: number,
  ): Promise<void> | undefined {
    const clock = this.#deps.clock;
    const now = clock.now();
    const end = clock.monotonic();
    this.#finishedAt = now;
    this.#finishedAtMono = end;
    const durationMs = Math.max(0, Math.round(end - mono));
    const record: StepRecord = {
      runId: this.runId,
      stepId: id,
      status,
      attempt,
      output,
      error,
      startedAt,
      completedAt: now,
      durationMs,
      fallbackStepId,
    };
    this.#results.set(id, { status, output, error });
    const write = this.#writes.saveFinal(record);
    // No closure when the write is not awaited (a store that writes in order).
    if (write === undefined) {
      this.#recorded(record, durationMs);
      return undefined;
    }
    return write.then(() => {
      this.#recorded(record, durationMs);
    });
  }

  /** Metrics and event of a step whose final record is written. */
  #recorded(record: StepRecord, durationMs: number): void {
    const labels = OUTCOME[record.status as 'completed' | 'failed' | 'skipped'];
    this.#deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, labels);
    this.#deps.metrics.observe(WORKFLOW_STEP_DURATION_SECONDS, durationMs / 1000, labels);
    const { stepId, status, attempt, error, fallbackStepId } = record;
    this.#emitStep(stepId, status, attempt, error, fallbackStepId);
  }

  /** Records a step whose attempt was cut short by a stop (only for cancel and failure stops). */
  #recordAborted(record: MutableStepRecord): Promise<void> | undefined {
    const stop = this.#stop;
    if (stop?.kind !== 'cancelled' && stop?.kind !== 'failed') return undefined;
    const error = stop.kind === 'cancelled' ? `run ${stop.error}` : 'aborted: the run failed';
    this.#results.set(record.stepId, { status: 'failed', output: null, error });
    record.error = error;
    record.completedAt = this.#deps.clock.now();
    const after = (): void => this.#emitStep(record.stepId, 'failed', record.attempt, error);
    return afterWrite(this.#writes.saveFinal(record), after);
  }

  async #finalize(monoStart: number): Promise<WorkflowRunResult> {
    // A store that groups run writes commits the final update with the step writes still
    // queued, so it need not wait for them (finalizeRun checks their outcome).
    const grouped = this.#deps.store.groupsRunWrites === true && this.#writes.unflushed > 0;
    const pending = this.#writes.drained();
    if (!grouped) await pending;
    return finalizeRun({
      runId: this.runId,
      workflowId: this.workflowId,
      deps: this.#deps,
      stop: () => this.#stop,
      pending: grouped ? pending : undefined,
      results: this.#results,
      startedAt: this.#startedAt,
      durationMs: Math.max(0, this.#deps.clock.monotonic() - monoStart),
      emitRun: (status, error) => this.#emitRun(status, error),
    });
  }
}
