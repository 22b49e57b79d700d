/**
 * The embedded workflow engine: DAGs of plain async steps with retries, error policies,
 * timeouts, cancellation and durable resume. Runs and step records go to a
 * {@link WorkflowStore}: in memory here, SQLite in `majra/sqlite`, PostgreSQL in
 * `majra/postgres`.
 *
 * @example
 * ```ts
 * import { WorkflowEngine } from 'majra/workflow';
 *
 * const engine = new WorkflowEngine({ maxParallelSteps: 4 });
 * engine.register(
 *   {
 *     id: 'report',
 *     steps: [
 *       { id: 'fetch', retry: { maxAttempts: 3, backoff: 'exponential', delayMs: 200 } },
 *       { id: 'render', dependsOn: ['fetch'], timeoutMs: 5_000 },
 *       { id: 'mail', dependsOn: ['render'], onError: 'continue' },
 *     ],
 *   },
 *   {
 *     fetch: async ({ input, signal }) => (await fetch(String(input), { signal })).json(),
 *     render: ({ results }) => `<h1>${JSON.stringify(results['fetch']?.output)}</h1>`,
 *     mail: () => undefined,
 *   },
 * );
 * const runId = await engine.start('report', 'https://example.com/data.json');
 * const result = await engine.wait(runId);
 * console.log(result.status, result.output);
 * await engine.close();
 * ```
 *
 * @module
 */
export { WorkflowEngine } from './engine.js';
export type { WorkflowEngineOptions, StartOptions, ResumeInterruptedResult } from './engine.js';
export type { Executors } from './engine-options.js';
export { validateDefinition, topologicalTiers, MAX_STEPS, MAX_STEP_TIMEOUT_MS } from './dag.js';
export type {
  WorkflowDefinition,
  WorkflowStepDefinition,
  TriggerMode,
  ErrorPolicy,
  ValidatedWorkflow,
  ResolvedStep,
} from './dag.js';
export {
  resolveRetryPolicy,
  backoffDelay,
  DEFAULT_RETRY,
  MAX_ATTEMPTS,
  MAX_BACKOFF_MS,
} from './retry.js';
export type { RetryPolicy, ResolvedRetryPolicy, BackoffStrategy } from './retry.js';
export { WorkflowEventStream } from './events.js';
export type { WorkflowEvent, EventStreamOptions } from './events.js';
export type { StepContext, StepExecutor, StepResult, WorkflowRunResult } from './step-context.js';
export type { StepTicket } from './queue-gate.js';
export { MemoryWorkflowStore, DEFAULT_MEMORY_MAX_RUNS } from './memory-store.js';
export type { MemoryWorkflowStoreOptions } from './memory-store.js';
export { TERMINAL_RUN_STATUSES, isTerminalRunStatus } from './types.js';
export type {
  WorkflowStore,
  WorkflowStoreOptions,
  WorkflowRunRecord,
  WorkflowRunStatus,
  WorkflowRunPatch,
  NewWorkflowRun,
  StepRecord,
  StepStatus,
  ListRunsQuery,
  ClaimResult,
} from './types.js';
export {
  checkId,
  checkLeaseMs,
  checkLimit,
  checkListQuery,
  checkNewRun,
  checkRetention,
  checkRunPatch,
  checkStepRecord,
  isRunStatus,
  isStepStatus,
  MAX_STORE_ID_LENGTH,
  MAX_LIST_LIMIT,
  DEFAULT_LIST_LIMIT,
  MAX_LEASE_MS,
} from './store-support.js';
export type { CheckedListQuery, CheckedRetention } from './store-support.js';
export {
  WORKFLOW_RUNS_TOTAL,
  WORKFLOW_RUN_DURATION_SECONDS,
  WORKFLOW_RUNS_ACTIVE,
  WORKFLOW_STEPS_TOTAL,
  WORKFLOW_STEP_DURATION_SECONDS,
  WORKFLOW_STEPS_RUNNING,
  WORKFLOW_STORE_ERRORS_TOTAL,
  WORKFLOW_EVENTS_DROPPED_TOTAL,
} from './metrics.js';
