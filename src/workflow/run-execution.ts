/**
 * The execution of one run on one engine: schedules steps as their triggers are met
 * (at most `maxParallelSteps` at a time), applies retries and error policies, writes
 * step records through the lease-fenced store, renews the lease, and finalises the run.
 *
 * @internal
 * @module
 */
import { setMaxListeners } from 'node:events';
import type { TimerHandle } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { toError } from '../core/errors.js';
import type { ResolvedStep, ValidatedWorkflow } from './dag.js';
import {
  WORKFLOW_STEP_DURATION_SECONDS,
  WORKFLOW_STEPS_TOTAL,
  WORKFLOW_STORE_ERRORS_TOTAL,
  STEP_OUTCOME_LABELS as OUTCOME,
  STORE_OPERATION_LABELS as STORE_OP,
} from './metrics.js';
import {
  emitRunEvent,
  emitStepEvent,
  reasonFor,
  storageError,
  type RegisteredWorkflow,
  type RunDeps,
  type RunRecords,
  type StepEventExtra,
  type Stop,
} from './run-support.js';
import { finalizeRun } from './run-finalize.js';
import { runAttempts, type AttemptRun } from './step-attempts.js';
import type { StepExecutor, StepResult, WorkflowRunResult } from './step-context.js';
import type { StepRecord, StepStatus } from './types.js';

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
  readonly #controller = new AbortController();
  readonly #attemptRun: AttemptRun;
  #stop: Stop | undefined;
  /** Final step writes issued but not yet committed (see #saveFinal). */
  readonly #unflushed = new Set<Promise<boolean>>();
  #renewTimer: TimerHandle | undefined;
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
    // Every attempt and backoff sleep listens on the run signal; parallel steps add up.
    setMaxListeners(deps.maxParallelSteps * 2 + 16, this.#controller.signal);
    this.#attemptRun = {
      runId,
      workflowId: this.workflowId,
      input,
      resumed,
      executors: this.#executors,
      signal: this.#controller.signal,
      deps,
      emitStep: (stepId, status, attempt, extra) => this.#emitStep(stepId, status, attempt, extra),
    };
    for (const record of records.started) this.#started.set(record.stepId, record);
    for (const record of records.prior) {
      if (record.status === 'completed' || record.status === 'skipped') {
        this.#results.set(record.stepId, {
          status: record.status,
          output: record.output,
          error: record.error,
        });
      } else {
        this.#nextAttempt.set(record.stepId, record.attempt + 1);
      }
    }
    this.done = this.#run();
    // `done` is awaited by wait(); a run nobody waits for must not raise an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Asks the run to stop; the first stop reason wins. */
  halt(stop: Stop): void {
    if (this.#stop !== undefined || this.#finished) return;
    this.#stop = stop;
    this.#controller.abort(reasonFor(stop, this.runId));
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
    this.#armRenew();
    try {
      await this.#schedule();
      return await this.#finalize(monoStart);
    } finally {
      this.#finished = true;
      this.#renewTimer?.cancel();
    }
  }

  #emitRun(status: WorkflowRunResult['status'], error: string | null): void {
    emitRunEvent(this.#deps, this, this.#resumed, status, error);
  }

  #emitStep(stepId: string, status: StepStatus, attempt: number, extra?: StepEventExtra): void {
    emitStepEvent(this.#deps, this, stepId, status, attempt, extra);
  }

  #armRenew(): void {
    if (this.#finished) return;
    this.#renewTimer = this.#deps.clock.setTimer(this.#deps.renewEveryMs, () => {
      void this.#renew();
    });
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#finished) return;
    try {
      const ok = await this.#deps.store.renewLease(
        this.runId,
        this.#deps.owner,
        this.#deps.leaseMs,
      );
      if (!ok) this.halt({ kind: 'lease-lost' });
    } catch (error) {
      // Keep trying: the lease is only lost once another engine claims the run.
      this.#deps.metrics.increment(WORKFLOW_STORE_ERRORS_TOTAL, 1, STORE_OP.renewLease);
      this.#deps.onError(toError(error));
    }
    this.#armRenew();
  }

  /** A fenced step write; a refused write means the lease is lost. Never throws. */
  async #save(record: StepRecord): Promise<boolean> {
    const stop = this.#stop?.kind;
    if (stop === 'lease-lost' || stop === 'closed' || stop === 'storage') return false;
    try {
      if (await this.#deps.store.saveStep(this.#deps.owner, record)) return true;
      this.halt({ kind: 'lease-lost' });
    } catch (error) {
      this.#deps.metrics.increment(WORKFLOW_STORE_ERRORS_TOTAL, 1, STORE_OP.saveStep);
      this.halt({ kind: 'storage', error: storageError('saveStep', error) });
    }
    return false;
  }

  /**
   * Writes a step's final record. With a store that commits in call order the engine
   * does not wait: dependents may start at once, since their own `running` write (which
   * they do await) commits after this one. `#finalize` awaits every such write.
   */
  async #saveFinal(record: StepRecord): Promise<void> {
    const write = this.#save(record);
    if (this.#deps.store.writesInOrder !== true) {
      await write;
      return;
    }
    this.#unflushed.add(write);
    void write.then(() => this.#unflushed.delete(write));
  }

  /** Runs every remaining step as its trigger is met, then waits for all to settle. */
  async #schedule(): Promise<void> {
    const waiting = new Set<string>();
    for (const step of this.#wf.steps.values()) {
      if (!step.isFallback && !this.#results.has(step.id)) waiting.add(step.id);
    }
    let candidates = [...waiting];
    const ready: string[] = [];
    let readyAt = 0;
    let running = 0;
    // Steps report completion into `done` and wake the loop; no per-iteration race over
    // every in-flight promise (that is quadratic for wide workflows).
    const done: string[] = [];
    let wake: (() => void) | undefined;
    const onSettled = (id: string): void => {
      running--;
      done.push(id);
      const w = wake;
      wake = undefined;
      w?.();
    };
    for (;;) {
      while (candidates.length > 0 && this.#stop === undefined) {
        const next: string[] = [];
        for (const id of candidates) {
          if (!waiting.has(id)) continue;
          const decision = this.#evaluate(id);
          if (decision === 'wait') continue;
          waiting.delete(id);
          if (decision === 'run') {
            ready.push(id);
          } else {
            await this.#skipUnreachable(id);
            next.push(...this.#step(id).dependents);
          }
        }
        candidates = next;
      }
      while (
        this.#stop === undefined &&
        readyAt < ready.length &&
        running < this.#deps.maxParallelSteps
      ) {
        const id = ready[readyAt++];
        if (id === undefined) break;
        running++;
        this.#runStep(id).then(
          () => onSettled(id),
          (error: unknown) => {
            this.halt({ kind: 'storage', error: storageError('step', error) });
            onSettled(id);
          },
        );
      }
      if (running === 0 && done.length === 0) return;
      if (done.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      for (const id of done.splice(0)) candidates.push(...this.#step(id).dependents);
    }
  }

  #step(id: string): ResolvedStep {
    const step = this.#wf.steps.get(id);
    if (step === undefined) throw new Error(`unknown step ${id}`); // unreachable: validated
    return step;
  }

  #evaluate(id: string): 'wait' | 'run' | 'skip' {
    const step = this.#step(id);
    if (step.dependsOn.length === 0) return 'run';
    let finished = 0;
    let completed = 0;
    for (const dep of step.dependsOn) {
      const result = this.#results.get(dep);
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

  /** An `any` step none of whose dependencies completed: recorded `skipped`, never run. */
  async #skipUnreachable(id: string): Promise<void> {
    const now = this.#deps.clock.now();
    const error = 'no dependency completed';
    this.#results.set(id, { status: 'skipped', output: null, error });
    await this.#saveFinal({
      runId: this.runId,
      stepId: id,
      status: 'skipped',
      attempt: Math.max(1, (this.#nextAttempt.get(id) ?? 1) - 1),
      output: null,
      error,
      startedAt: null,
      completedAt: now,
      durationMs: null,
      fallbackStepId: null,
    });
    this.#deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, OUTCOME.skipped);
    this.#emitStep(id, 'skipped', 0, { error });
  }

  #dependencyResults(step: ResolvedStep): Record<string, StepResult> {
    const results: Record<string, StepResult> = {};
    for (const dep of step.dependsOn) {
      const result = this.#results.get(dep);
      if (result !== undefined) results[dep] = result;
    }
    return results;
  }

  async #runStep(id: string): Promise<void> {
    const step = this.#step(id);
    let stored = this.#started.get(id);
    this.#started.delete(id);
    const startedAt = stored?.startedAt ?? this.#deps.clock.now();
    const mono = this.#deps.clock.monotonic();
    const results = this.#dependencyResults(step);
    const base = (attempt: number, status: StepStatus): StepRecord => ({
      runId: this.runId,
      stepId: id,
      status,
      attempt,
      output: null,
      error: null,
      startedAt,
      completedAt: null,
      durationMs: null,
      fallbackStepId: null,
    });
    const first = this.#nextAttempt.get(id) ?? 1;
    const outcome = await runAttempts(
      this.#attemptRun,
      step,
      step,
      results,
      first,
      undefined,
      (attempt) => {
        if (stored?.attempt === attempt) {
          stored = undefined;
          return Promise.resolve(true);
        }
        return this.#save(base(attempt, 'running'));
      },
    );
    const finish = async (
      status: 'completed' | 'failed' | 'skipped',
      output: JsonValue,
      error: string | null,
      attempt: number,
      fallbackStepId: string | null,
    ): Promise<void> => {
      const completedAt = this.#deps.clock.now();
      const durationMs = Math.max(0, Math.round(this.#deps.clock.monotonic() - mono));
      this.#results.set(id, { status, output, error });
      await this.#saveFinal({
        ...base(attempt, status),
        output,
        error,
        completedAt,
        durationMs,
        fallbackStepId,
      });
      this.#deps.metrics.increment(WORKFLOW_STEPS_TOTAL, 1, OUTCOME[status]);
      this.#deps.metrics.observe(
        WORKFLOW_STEP_DURATION_SECONDS,
        durationMs / 1000,
        OUTCOME[status],
      );
      this.#emitStep(id, status, attempt, { error, fallbackStepId });
    };
    if (outcome.kind === 'aborted') {
      await this.#recordAborted(base(outcome.attempt, 'failed'));
      return;
    }
    if (outcome.kind === 'completed') {
      await finish('completed', outcome.output, null, outcome.attempt, null);
      return;
    }
    let error = `step '${id}' failed: ${outcome.error}`;
    let policy = step.onError;
    let fallbackStepId: string | null = null;
    if (typeof policy === 'object') {
      const handler = this.#step(policy.fallback);
      fallbackStepId = handler.id;
      this.#emitStep(id, 'running', outcome.attempt, { fallbackStepId, error: outcome.error });
      const fb = await runAttempts(this.#attemptRun, handler, step, results, 1, {
        stepId: id,
        error: outcome.error,
      });
      if (fb.kind === 'aborted') {
        await this.#recordAborted(base(outcome.attempt, 'failed'));
        return;
      }
      if (fb.kind === 'completed') {
        await finish('completed', fb.output, null, outcome.attempt, fallbackStepId);
        return;
      }
      error = `step '${id}' failed: ${outcome.error}; fallback '${handler.id}' failed: ${fb.error}`;
      policy = typeof handler.onError === 'string' ? handler.onError : 'fail';
    }
    if (policy === 'skip') {
      await finish('skipped', null, error, outcome.attempt, fallbackStepId);
    } else {
      await finish('failed', null, error, outcome.attempt, fallbackStepId);
      if (policy === 'fail') this.halt({ kind: 'failed', error });
    }
  }

  /** Records a step whose attempt was cut short by a stop (only for cancel and failure stops). */
  async #recordAborted(record: StepRecord): Promise<void> {
    const stop = this.#stop;
    if (stop?.kind !== 'cancelled' && stop?.kind !== 'failed') return;
    const error = stop.kind === 'cancelled' ? `run ${stop.error}` : 'aborted: the run failed';
    this.#results.set(record.stepId, { status: 'failed', output: null, error });
    await this.#saveFinal({ ...record, error, completedAt: this.#deps.clock.now() });
    this.#emitStep(record.stepId, 'failed', record.attempt, { error });
  }

  async #finalize(monoStart: number): Promise<WorkflowRunResult> {
    // A store that groups run writes commits the final update with the step writes still
    // queued, so it need not wait for them (finalizeRun checks their outcome).
    const grouped = this.#deps.store.groupsRunWrites === true && this.#unflushed.size > 0;
    const pending = Promise.all(this.#unflushed);
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
