import { randomUUID } from 'node:crypto';
import type { WaitOptions } from '../core/abort.js';
import type { JsonValue } from '../core/codec.js';
import {
  CapacityExceededError,
  InvalidStateError,
  MajraError,
  NotFoundError,
  toError,
} from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { integerInRange, nonEmptyString } from '../core/validate.js';
import type { WorkflowDefinition } from './dag.js';
import { EventHub, type EventStreamOptions, type WorkflowEventStream } from './events.js';
import {
  notFound,
  resultFromRecord,
  settleOrAbort,
  type Executors,
  type ResumeInterruptedResult,
  type StartOptions,
  type WorkflowEngineOptions,
} from './engine-options.js';
import {
  checkRegistrable,
  finishedSteps,
  firstStepRecords,
  leaseHeldError,
  prepareWorkflow,
  resolveEngineSettings,
  type EngineSettings,
} from './engine-setup.js';
import {
  RUN_EVENT_LABELS,
  WORKFLOW_EVENTS_DROPPED_TOTAL,
  WORKFLOW_RUNS_ACTIVE,
  WORKFLOW_RUNS_TOTAL,
} from './metrics.js';
import { claimForResume, readStore } from './engine-resume.js';
import { RunExecution } from './run-execution.js';
import { storageError, type RegisteredWorkflow, type RunDeps } from './run-support.js';
import { toStoredJson } from './step-attempt.js';
import type { WorkflowRunResult } from './step-context.js';
import { MAX_STORE_ID_LENGTH } from './store-support.js';
import { isTerminalRunStatus, type StepRecord, type WorkflowStore } from './types.js';

/**
 * Runs workflow definitions (DAGs of async steps) durably: every step transition is
 * written to a {@link WorkflowStore}, each run is held by one engine at a time through a
 * renewed lease, and an interrupted run is resumed by another engine once the lease
 * expires, without re-running steps that completed or were skipped.
 *
 * @example
 * ```ts
 * const engine = new WorkflowEngine();
 * engine.register(
 *   { id: 'order', steps: [{ id: 'charge' }, { id: 'ship', dependsOn: ['charge'] }] },
 *   {
 *     charge: async ({ input, signal }) => chargeCard(input, { signal }),
 *     ship: ({ results }) => shipParcel(results['charge']?.output),
 *   },
 * );
 * const runId = await engine.start('order', { orderId: 42 });
 * const result = await engine.wait(runId); // { status: 'completed', output: { charge, ship }, ... }
 * ```
 */
export class WorkflowEngine implements Closeable {
  readonly #life = new Lifecycle('WorkflowEngine');
  readonly #s: EngineSettings;
  readonly #hub: EventHub;
  readonly #workflows = new Map<string, RegisteredWorkflow>();
  readonly #active = new Map<string, RunExecution>();
  /** Runs being started or resumed (between the capacity check and the execution). */
  readonly #pending = new Map<string, Promise<boolean>>();
  /** What every run execution of this engine shares. */
  readonly #runDeps: RunDeps;
  /** This engine's lease owner id. */
  readonly engineId: string;

  /** @throws InvalidArgumentError for an out-of-range or mistyped option. */
  constructor(options: WorkflowEngineOptions = {}) {
    const s = resolveEngineSettings(options);
    this.#s = s;
    this.engineId = s.engineId;
    this.#hub = new EventHub(s.maxEventStreams, () =>
      s.metrics.increment(WORKFLOW_EVENTS_DROPPED_TOTAL),
    );
    this.#runDeps = {
      store: s.store,
      clock: s.clock,
      metrics: s.metrics,
      events: this.#hub,
      random: s.random,
      owner: s.engineId,
      leaseMs: s.leaseMs,
      renewEveryMs: s.renewEveryMs,
      maxParallelSteps: s.maxParallelSteps,
      maxResultBytes: s.maxResultBytes,
      onError: s.onError,
      stepsRunning: { value: 0 },
      gate: s.gate,
    };
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Runs executing on this engine now. */
  get activeRuns(): number {
    return this.#active.size;
  }

  /** The store this engine writes to. */
  get store(): WorkflowStore {
    return this.#s.store;
  }

  /**
   * Validates `definition` and registers it with one executor per step (fallback steps
   * included). Nothing is stored: every engine that may run or resume the workflow
   * registers it at startup.
   *
   * @throws InvalidArgumentError `ERR_WORKFLOW_INVALID_DEFINITION` / `ERR_WORKFLOW_CYCLE`
   *   (see `validateDefinition`), or when an executor is missing, not a function, or
   *   names no step.
   * @throws InvalidStateError `ERR_WORKFLOW_ALREADY_REGISTERED`.
   * @throws CapacityExceededError when `maxWorkflows` are registered.
   */
  register(definition: WorkflowDefinition, executors: Executors): void {
    this.#life.assertOpen('register');
    const registered = prepareWorkflow(definition, executors, this.#s.gate !== undefined);
    checkRegistrable(this.#workflows, registered.workflow.id, this.#s.maxWorkflows);
    this.#workflows.set(registered.workflow.id, registered);
  }

  /** The tiers of a registered workflow (see `topologicalTiers`). */
  tiers(workflowId: string): string[][] {
    return this.#registered(workflowId).workflow.tiers.map((t) => [...t]);
  }

  #registered(workflowId: string): RegisteredWorkflow {
    const found = this.#workflows.get(workflowId);
    if (found === undefined) {
      throw new NotFoundError(`workflow '${workflowId}' is not registered`, {
        code: 'ERR_WORKFLOW_NOT_REGISTERED',
      });
    }
    return found;
  }

  #checkCapacity(): void {
    const { maxActiveRuns } = this.#s;
    if (this.#active.size + this.#pending.size >= maxActiveRuns) {
      throw new CapacityExceededError(`at most ${maxActiveRuns} runs can execute at once`, {
        details: { maxActiveRuns },
      });
    }
  }

  /**
   * Stores a new run of `workflowId` and starts it in the background. Resolves with the
   * run id as soon as the run is stored (so it survives a crash from then on); use
   * {@link wait} for the outcome.
   *
   * @throws NotFoundError `ERR_WORKFLOW_NOT_REGISTERED`; InvalidArgumentError
   *   `ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE` for an input JSON cannot hold;
   *   CapacityExceededError at `maxActiveRuns`; InvalidStateError `ERR_WORKFLOW_RUN_EXISTS`
   *   for a reused `runId`; BackendError `ERR_WORKFLOW_STORAGE`.
   */
  async start(workflowId: string, input?: unknown, options: StartOptions = {}): Promise<string> {
    this.#life.assertOpen('start');
    const registered = this.#registered(workflowId);
    const json = toStoredJson(input, this.#s.maxResultBytes, 'run input');
    const runId = nonEmptyString('runId', options.runId ?? randomUUID(), MAX_STORE_ID_LENGTH);
    if (this.#active.has(runId) || this.#pending.has(runId)) {
      throw new InvalidStateError(`workflow run ${runId} already exists`, {
        code: 'ERR_WORKFLOW_RUN_EXISTS',
      });
    }
    this.#checkCapacity();
    const startedAt = this.#s.clock.now();
    // A store that groups run writes commits the first steps' starts with the run.
    const first = firstStepRecords(this.#s, registered.workflow, runId, startedAt);
    const creating = this.#s.store
      .createRun(
        {
          id: runId,
          workflowId: registered.workflow.id,
          definitionHash: registered.workflow.hash,
          status: 'running',
          input: json,
          startedAt,
          ...(first.length > 0 ? { steps: first } : {}),
        },
        this.engineId,
        this.#s.leaseMs,
      )
      .then(() => true);
    this.#pending.set(runId, creating);
    try {
      await creating;
    } catch (error) {
      throw storageError('createRun', error);
    } finally {
      this.#pending.delete(runId);
    }
    this.#s.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.started);
    this.#launch(registered, runId, json, [], false, startedAt, first);
    return runId;
  }

  #launch(
    registered: RegisteredWorkflow,
    runId: string,
    input: JsonValue,
    prior: readonly StepRecord[],
    resumed: boolean,
    startedAt: number,
    started: readonly StepRecord[] = [],
  ): void {
    const execution = new RunExecution(
      this.#runDeps,
      registered,
      runId,
      input,
      { prior, started },
      resumed,
      startedAt,
    );
    this.#active.set(execution.runId, execution);
    this.#s.metrics.set(WORKFLOW_RUNS_ACTIVE, this.#active.size);
    const forget = (): void => {
      this.#active.delete(execution.runId);
      this.#s.metrics.set(WORKFLOW_RUNS_ACTIVE, this.#active.size);
    };
    execution.done.then(forget, forget);
    // A closed engine stops a run that was launched while close() was already draining.
    if (this.#life.isClosed) execution.close();
  }

  /**
   * Resolves with the run's final result: `completed`, `failed` or `cancelled` (a failed
   * run resolves; it does not reject). Works for runs executing on this engine and for
   * finished runs still in the store.
   *
   * @throws NotFoundError `ERR_WORKFLOW_RUN_NOT_FOUND`; InvalidStateError
   *   `ERR_WORKFLOW_RUN_NOT_ACTIVE` for an unfinished run this engine is not executing;
   *   `ERR_WORKFLOW_LEASE_LOST` when another engine took the run over; ClosedError when
   *   the engine closed first (the run stays resumable); AbortedError on `signal`.
   */
  async wait(runId: string, options: WaitOptions = {}): Promise<WorkflowRunResult> {
    nonEmptyString('runId', runId, MAX_STORE_ID_LENGTH);
    const pending = this.#pending.get(runId);
    if (pending !== undefined) {
      await settleOrAbort(pending, options.signal);
    }
    const execution = this.#active.get(runId);
    if (execution !== undefined) {
      return settleOrAbort(execution.done, options.signal);
    }
    const run = await readStore(() => this.#s.store.getRun(runId), 'getRun');
    if (run === undefined) throw notFound(runId);
    if (!isTerminalRunStatus(run.status)) {
      throw new InvalidStateError(
        `workflow run ${runId} is ${run.status} but not executing on this engine`,
        {
          code: 'ERR_WORKFLOW_RUN_NOT_ACTIVE',
          details: { owner: run.owner },
        },
      );
    }
    const records = await readStore(() => this.#s.store.getSteps(runId), 'getSteps');
    return resultFromRecord(run, finishedSteps(records));
  }

  /**
   * Cancels a run. On this engine: running steps are aborted through their signal and the
   * run ends `cancelled` (see {@link wait}). A stored unfinished run that no engine holds
   * (its lease expired) is marked `cancelled` directly.
   *
   * @throws NotFoundError `ERR_WORKFLOW_RUN_NOT_FOUND`; InvalidStateError
   *   `ERR_WORKFLOW_RUN_NOT_ACTIVE` for a finished run, `ERR_WORKFLOW_LEASE_HELD` for a run
   *   another live engine is executing.
   */
  async cancel(runId: string, reason?: string): Promise<void> {
    nonEmptyString('runId', runId, MAX_STORE_ID_LENGTH);
    if (reason !== undefined) nonEmptyString('reason', reason, 1024);
    await this.#pending.get(runId)?.catch(() => undefined);
    const execution = this.#active.get(runId);
    if (execution !== undefined) {
      execution.cancel(reason);
      return;
    }
    this.#life.assertOpen('cancel');
    const run = await readStore(() => this.#s.store.getRun(runId), 'getRun');
    if (run === undefined) throw notFound(runId);
    if (isTerminalRunStatus(run.status)) {
      throw new InvalidStateError(`workflow run ${runId} already finished (${run.status})`, {
        code: 'ERR_WORKFLOW_RUN_NOT_ACTIVE',
      });
    }
    const claim = await readStore(
      () => this.#s.store.claimRun(runId, this.engineId, this.#s.leaseMs),
      'claimRun',
    );
    if (!claim.claimed) throw leaseHeldError(runId, claim.run);
    const error = reason === undefined ? 'cancelled' : `cancelled: ${reason}`;
    const patch = { status: 'cancelled' as const, error, completedAt: this.#s.clock.now() };
    await readStore(() => this.#s.store.updateRun(runId, this.engineId, patch), 'updateRun');
    this.#s.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.cancelled);
  }

  /**
   * Resumes a stored run on this engine: claims its lease, then runs every step that has
   * no `completed` or `skipped` record (a step interrupted mid-attempt runs again with the
   * next attempt number). A `failed` run is retried the same way. Resolves `true` once the
   * run is executing here (use {@link wait}), `false` when it had already completed or
   * been cancelled.
   *
   * @throws NotFoundError `ERR_WORKFLOW_RUN_NOT_FOUND` / `ERR_WORKFLOW_NOT_REGISTERED`;
   *   InvalidStateError `ERR_WORKFLOW_LEASE_HELD` while another engine's lease is live,
   *   `ERR_WORKFLOW_DEFINITION_MISMATCH` when the registered definition's shape differs
   *   from the run's; CapacityExceededError at `maxActiveRuns`.
   */
  resume(runId: string): Promise<boolean> {
    try {
      this.#life.assertOpen('resume');
      nonEmptyString('runId', runId, MAX_STORE_ID_LENGTH);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    if (this.#active.has(runId)) return Promise.resolve(true);
    const pending = this.#pending.get(runId);
    if (pending !== undefined) return pending;
    try {
      this.#checkCapacity();
    } catch (error) {
      return Promise.reject(toError(error));
    }
    const resuming = this.#resume(runId);
    this.#pending.set(runId, resuming);
    const clear = (): void => {
      this.#pending.delete(runId);
    };
    resuming.then(clear, clear);
    return resuming;
  }

  async #resume(runId: string): Promise<boolean> {
    const claimed = await claimForResume(
      this.#s.store,
      this.engineId,
      this.#s.leaseMs,
      runId,
      (id) => this.#registered(id),
    );
    if (claimed === undefined) return false;
    const { run, registered, prior } = claimed;
    if (this.#life.isClosed) {
      await this.#s.store
        .releaseRun(runId, this.engineId)
        .catch((e: unknown) => this.#s.onError(toError(e)));
      this.#life.assertOpen('resume');
    }
    this.#s.metrics.increment(WORKFLOW_RUNS_TOTAL, 1, RUN_EVENT_LABELS.resumed);
    this.#launch(
      registered,
      runId,
      claimed.claimed.input,
      prior,
      true,
      run.startedAt ?? this.#s.clock.now(),
    );
    return true;
  }

  /**
   * Resumes every run the store lists as resumable (unfinished, no live lease), up to
   * `limit` (default 100). Runs another engine claims first, or whose workflow is not
   * registered here, are reported in `skipped`.
   */
  async resumeInterrupted(
    options: { readonly limit?: number } = {},
  ): Promise<ResumeInterruptedResult> {
    this.#life.assertOpen('resumeInterrupted');
    const limit = integerInRange('limit', options.limit ?? 100, 1, 10_000);
    const runs = await readStore(() => this.#s.store.listResumable(limit), 'listResumable');
    const result: ResumeInterruptedResult = { resumed: [], skipped: [] };
    for (const run of runs) {
      try {
        if (await this.resume(run.id)) result.resumed.push(run.id);
      } catch (error) {
        const e = error instanceof MajraError ? error : storageError('resume', error);
        result.skipped.push({ runId: run.id, error: e });
      }
    }
    return result;
  }

  /**
   * A bounded async iterable of run and step events from now on (see {@link WorkflowEventStream}).
   *
   * @throws CapacityExceededError when `maxEventStreams` streams are open.
   */
  events(options: EventStreamOptions = {}): WorkflowEventStream {
    this.#life.assertOpen('events');
    if (this.#hub.size >= this.#hub.maxStreams) {
      throw new CapacityExceededError(`at most ${this.#hub.maxStreams} event streams can be open`);
    }
    return this.#hub.open(options);
  }

  /**
   * Stops the engine: running steps are aborted, each active run's lease is released (the
   * runs stay `running` in the store, so any engine can resume them at once), event
   * streams end, and an engine-created store is closed. Waiters reject with ClosedError.
   */
  close(): Promise<void> {
    return this.#life.close(async () => {
      await Promise.allSettled([...this.#pending.values()]);
      const executions = [...this.#active.values()];
      for (const execution of executions) execution.close();
      await Promise.allSettled(executions.map((e) => e.done));
      this.#hub.endAll();
      if (this.#s.ownsStore) await this.#s.store.close();
    });
  }

  /**
   * Same as `close()`, so `await using engine = ...` closes it (leases are released, runs stay
   * resumable).
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export type {
  WorkflowEngineOptions,
  StartOptions,
  ResumeInterruptedResult,
} from './engine-options.js';
