/**
 * What {@link WorkflowEngine} validates before it holds any state: its options (resolved
 * to settings with defaults) and a workflow being registered with its executors.
 *
 * @internal
 * @module
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import {
  CapacityExceededError,
  InvalidArgumentError,
  InvalidStateError,
  type MajraError,
} from '../core/errors.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { integerInRange, invalid, isFunction, nonEmptyString } from '../core/validate.js';
import { ManagedQueue } from '../queue/managed-queue.js';
import { validateDefinition, type ValidatedWorkflow, type WorkflowDefinition } from './dag.js';
import { notFound, type Executors, type WorkflowEngineOptions } from './engine-options.js';
import { MemoryWorkflowStore } from './memory-store.js';
import { QueueGate } from './queue-gate.js';
import type { RegisteredWorkflow } from './run-support.js';
import { stepRecord } from './run-steps.js';
import type { StepExecutor, StepResult } from './step-context.js';
import { MAX_LEASE_MS, MAX_STORE_ID_LENGTH } from './store-support.js';
import type { StepRecord, WorkflowRunRecord, WorkflowStore } from './types.js';

/** The engine's options, validated, with defaults applied. */
export interface EngineSettings {
  readonly store: WorkflowStore;
  /** True when the engine created the store (and closes it). */
  readonly ownsStore: boolean;
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  readonly maxParallelSteps: number;
  readonly maxActiveRuns: number;
  readonly maxWorkflows: number;
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  readonly maxResultBytes: number;
  readonly engineId: string;
  readonly random: () => number;
  readonly onError: (error: Error) => void;
  readonly gate: QueueGate | undefined;
  readonly maxEventStreams: number;
}

/** @throws InvalidArgumentError for an out-of-range or mistyped option (checked in field order). */
export function resolveEngineSettings(options: WorkflowEngineOptions): EngineSettings {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? new MemoryWorkflowStore({ clock });
  const metrics = options.metrics ?? noopMetrics;
  const maxParallelSteps = integerInRange(
    'maxParallelSteps',
    options.maxParallelSteps ?? 20,
    1,
    10_000,
  );
  const maxActiveRuns = integerInRange(
    'maxActiveRuns',
    options.maxActiveRuns ?? 10_000,
    1,
    1_000_000,
  );
  const maxWorkflows = integerInRange('maxWorkflows', options.maxWorkflows ?? 1000, 1, 100_000);
  const leaseMs = integerInRange('leaseMs', options.leaseMs ?? 30_000, 2, MAX_LEASE_MS);
  const renewEveryMs = integerInRange(
    'renewEveryMs',
    options.renewEveryMs ?? Math.max(1, Math.floor(leaseMs / 3)),
    1,
    leaseMs - 1,
  );
  const maxResultBytes = integerInRange(
    'maxResultBytes',
    options.maxResultBytes ?? 1_048_576,
    1,
    268_435_456,
  );
  const engineId = nonEmptyString(
    'engineId',
    options.engineId ?? randomUUID(),
    MAX_STORE_ID_LENGTH,
  );
  if (options.random !== undefined) isFunction('random', options.random);
  if (options.onError !== undefined) isFunction('onError', options.onError);
  const onError = options.onError ?? (() => undefined);
  if (options.queue !== undefined && !(options.queue instanceof ManagedQueue)) {
    invalid('queue', 'a ManagedQueue', options.queue);
  }
  return {
    store,
    ownsStore: options.store === undefined,
    clock,
    metrics,
    maxParallelSteps,
    maxActiveRuns,
    maxWorkflows,
    leaseMs,
    renewEveryMs,
    maxResultBytes,
    engineId,
    random: options.random ?? Math.random,
    onError,
    gate: options.queue === undefined ? undefined : new QueueGate(options.queue, onError),
    maxEventStreams: integerInRange('maxEventStreams', options.maxEventStreams ?? 64, 1, 10_000),
  };
}

/**
 * Validates `definition` and pairs it with one executor per step (fallback steps
 * included); steps may declare `resources` only when the engine has a queue.
 *
 * @throws InvalidArgumentError `ERR_WORKFLOW_INVALID_DEFINITION` / `ERR_WORKFLOW_CYCLE`.
 */
export function prepareWorkflow(
  definition: WorkflowDefinition,
  executors: Executors,
  hasQueue: boolean,
): RegisteredWorkflow {
  const workflow = validateDefinition(definition);
  const code = 'ERR_WORKFLOW_INVALID_DEFINITION';
  if (typeof executors !== 'object' || (executors as unknown) === null) {
    invalid('executors', 'an object or Map of step id to function', executors, code);
  }
  const entries: [string, unknown][] =
    executors instanceof Map
      ? [...(executors as ReadonlyMap<string, unknown>).entries()]
      : Object.entries(executors as Readonly<Record<string, unknown>>);
  const byId = new Map<string, StepExecutor>();
  for (const [id, fn] of entries) {
    if (!workflow.steps.has(id)) {
      throw new InvalidArgumentError(
        `executors: '${id}' is not a step of workflow '${workflow.id}'`,
        { code },
      );
    }
    isFunction(`executors['${id}']`, fn, code);
    byId.set(id, fn as StepExecutor);
  }
  for (const id of workflow.steps.keys()) {
    if (!byId.has(id)) {
      throw new InvalidArgumentError(`executors: missing an executor for step '${id}'`, { code });
    }
  }
  if (!hasQueue) {
    for (const step of workflow.steps.values()) {
      if (step.resources !== undefined) {
        throw new InvalidArgumentError(
          `step '${step.id}' declares resources, but the engine has no queue option`,
          { code },
        );
      }
    }
  }
  return { workflow, executors: byId };
}

/**
 * Checks that a workflow `id` can be added to `registered`.
 *
 * @throws InvalidStateError `ERR_WORKFLOW_ALREADY_REGISTERED`; CapacityExceededError at
 *   `maxWorkflows`.
 */
export function checkRegistrable(
  registered: ReadonlyMap<string, unknown>,
  id: string,
  maxWorkflows: number,
): void {
  if (registered.has(id)) {
    throw new InvalidStateError(`workflow '${id}' is already registered`, {
      code: 'ERR_WORKFLOW_ALREADY_REGISTERED',
    });
  }
  if (registered.size >= maxWorkflows) {
    throw new CapacityExceededError(`at most ${maxWorkflows} workflows can be registered`, {
      details: { maxWorkflows },
    });
  }
}

/** `ERR_WORKFLOW_LEASE_HELD` for a run another engine holds (not found when `run` is unknown). */
export function leaseHeldError(runId: string, run: WorkflowRunRecord | undefined): MajraError {
  if (run === undefined) return notFound(runId);
  return new InvalidStateError(
    `workflow run ${runId} is held by engine ${String(run.owner)} until ${String(run.leaseExpiresAt)}`,
    {
      code: 'ERR_WORKFLOW_LEASE_HELD',
      details: { owner: run.owner, leaseExpiresAt: run.leaseExpiresAt },
    },
  );
}

/** The results of the steps that finished (completed, failed or skipped), by step id. */
export function finishedSteps(records: readonly StepRecord[]): Record<string, StepResult> {
  const steps: Record<string, StepResult> = {};
  for (const r of records) {
    if (r.status === 'completed' || r.status === 'failed' || r.status === 'skipped') {
      steps[r.stepId] = { status: r.status, output: r.output, error: r.error };
    }
  }
  return steps;
}

/**
 * The `running` records (attempt 1, started at `startedAt`) of the steps a new run starts
 * first: the roots of the definition, in definition order, at most `maxParallelSteps`.
 * Only for a store that groups run writes (which stores them with the run, in the same
 * commit); none otherwise.
 */
export function firstStepRecords(
  settings: Pick<EngineSettings, 'store' | 'maxParallelSteps'>,
  workflow: ValidatedWorkflow,
  runId: string,
  startedAt: number,
): StepRecord[] {
  const records: StepRecord[] = [];
  if (settings.store.groupsRunWrites !== true) return records;
  for (const step of workflow.steps.values()) {
    if (records.length >= settings.maxParallelSteps) break;
    if (step.isFallback || step.dependsOn.length > 0) continue;
    records.push(stepRecord(runId, step.id, 'running', 1, startedAt));
  }
  return records;
}
