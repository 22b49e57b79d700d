/**
 * Argument checks shared by every {@link WorkflowStore} implementation, so the memory,
 * SQLite and PostgreSQL stores reject the same inputs with the same errors before any I/O.
 *
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import { integerInRange, invalid, nonEmptyString, nonNegativeInteger } from '../core/validate.js';
import type {
  ListRunsQuery,
  NewWorkflowRun,
  StepRecord,
  StepStatus,
  WorkflowRunPatch,
  WorkflowRunStatus,
  WorkflowStoreOptions,
} from './types.js';

/** Longest id (run, workflow, step, owner) a store accepts. */
export const MAX_STORE_ID_LENGTH = 256;
/** Largest `limit` of list queries. */
export const MAX_LIST_LIMIT = 10_000;
/** Default `limit` of list queries. */
export const DEFAULT_LIST_LIMIT = 100;
/** Longest lease a store accepts (one day). */
export const MAX_LEASE_MS = 86_400_000;

const RUN_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
]);
const STEP_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'running',
  'completed',
  'failed',
  'skipped',
]);

/** Checks an id argument (run, workflow, step or owner id). */
export function checkId(name: string, value: unknown): string {
  return nonEmptyString(name, value, MAX_STORE_ID_LENGTH);
}

/** Checks a lease duration: an integer number of ms in 1..{@link MAX_LEASE_MS}. */
export function checkLeaseMs(value: unknown): number {
  return integerInRange('leaseMs', value, 1, MAX_LEASE_MS);
}

/** True when `value` is a run status. */
export function isRunStatus(value: unknown): value is WorkflowRunStatus {
  return typeof value === 'string' && RUN_STATUSES.has(value);
}

/** True when `value` is a step status. */
export function isStepStatus(value: unknown): value is StepStatus {
  return typeof value === 'string' && STEP_STATUSES.has(value);
}

function checkRunStatus(name: string, value: unknown): WorkflowRunStatus {
  if (!isRunStatus(value)) invalid(name, 'a workflow run status', value);
  return value;
}

function checkTime(name: string, value: unknown): number | null {
  if (value === null) return null;
  return nonNegativeInteger(name, value);
}

function checkJson(name: string, value: unknown): JsonValue {
  if (value === undefined) invalid(name, 'a JSON value (use null for none)', value);
  return value as JsonValue;
}

/** Checks the argument of `createRun`. */
export function checkNewRun(run: NewWorkflowRun, owner: unknown, leaseMs: unknown): void {
  if (typeof run !== 'object' || (run as unknown) === null) invalid('run', 'an object', run);
  checkId('run.id', run.id);
  checkId('run.workflowId', run.workflowId);
  nonEmptyString('run.definitionHash', run.definitionHash, MAX_STORE_ID_LENGTH);
  checkRunStatus('run.status', run.status);
  if (run.status !== 'pending' && run.status !== 'running') {
    invalid('run.status', "'pending' or 'running'", run.status);
  }
  checkJson('run.input', run.input);
  checkTime('run.startedAt', run.startedAt);
  checkId('owner', owner);
  checkLeaseMs(leaseMs);
  if (run.steps !== undefined) {
    if (!Array.isArray(run.steps)) invalid('run.steps', 'an array of step records', run.steps);
    const ids = new Set<string>();
    for (const record of run.steps as readonly StepRecord[]) {
      checkStepRecord(record);
      if (record.runId !== run.id) invalid('run.steps[].runId', `'${run.id}'`, record.runId);
      if (ids.has(record.stepId)) invalid('run.steps[].stepId', 'unique step ids', record.stepId);
      ids.add(record.stepId);
    }
  }
}

/** Checks the argument of `updateRun`. */
export function checkRunPatch(patch: WorkflowRunPatch): void {
  if (typeof patch !== 'object' || (patch as unknown) === null)
    invalid('patch', 'an object', patch);
  if (patch.status !== undefined) checkRunStatus('patch.status', patch.status);
  if ('output' in patch) checkJson('patch.output', patch.output);
  if (patch.error !== undefined && patch.error !== null && typeof patch.error !== 'string') {
    invalid('patch.error', 'a string or null', patch.error);
  }
  if (patch.startedAt !== undefined) checkTime('patch.startedAt', patch.startedAt);
  if (patch.completedAt !== undefined) checkTime('patch.completedAt', patch.completedAt);
}

/** Checks the argument of `saveStep`. */
export function checkStepRecord(record: StepRecord): void {
  if (typeof record !== 'object' || (record as unknown) === null) {
    invalid('record', 'an object', record);
  }
  checkId('record.runId', record.runId);
  checkId('record.stepId', record.stepId);
  if (!isStepStatus(record.status)) invalid('record.status', 'a step status', record.status);
  integerInRange('record.attempt', record.attempt, 1, Number.MAX_SAFE_INTEGER);
  checkJson('record.output', record.output);
  if (record.error !== null && typeof record.error !== 'string') {
    invalid('record.error', 'a string or null', record.error);
  }
  checkTime('record.startedAt', record.startedAt);
  checkTime('record.completedAt', record.completedAt);
  checkTime('record.durationMs', record.durationMs);
  if (record.fallbackStepId !== null) checkId('record.fallbackStepId', record.fallbackStepId);
}

/** Normalised list query: validated limit and offset. */
export interface CheckedListQuery {
  /** Only runs of this workflow, or all. */
  readonly workflowId: string | undefined;
  /** Only runs in these statuses, or all. */
  readonly statuses: readonly WorkflowRunStatus[] | undefined;
  /** Most rows to return. */
  readonly limit: number;
  /** Rows to skip first. */
  readonly offset: number;
}

/** Checks and normalises the argument of `listRuns`. */
export function checkListQuery(query: ListRunsQuery = {}): CheckedListQuery {
  const workflowId =
    query.workflowId === undefined ? undefined : checkId('query.workflowId', query.workflowId);
  let statuses: WorkflowRunStatus[] | undefined;
  if (query.statuses !== undefined) {
    if (!Array.isArray(query.statuses)) {
      invalid('query.statuses', 'an array of statuses', query.statuses);
    }
    statuses = query.statuses.map((s, i) => checkRunStatus(`query.statuses[${i}]`, s));
  }
  return {
    workflowId,
    statuses,
    limit: checkLimit('query.limit', query.limit),
    offset: nonNegativeInteger('query.offset', query.offset ?? 0),
  };
}

/** Checks a list limit (default {@link DEFAULT_LIST_LIMIT}). */
export function checkLimit(name: string, value: unknown): number {
  return integerInRange(name, value ?? DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT);
}

/** Normalised retention options. */
export interface CheckedRetention {
  /** 0 = no cap. */
  readonly maxRuns: number;
  /** undefined = no TTL. */
  readonly finishedRunTtlMs: number | undefined;
}

/** Checks the retention options of a store constructor. */
export function checkRetention(options: WorkflowStoreOptions): CheckedRetention {
  const maxRuns = nonNegativeInteger('maxRuns', options.maxRuns ?? 0);
  const ttl = options.finishedRunTtlMs;
  return {
    maxRuns,
    finishedRunTtlMs: ttl === undefined ? undefined : nonNegativeInteger('finishedRunTtlMs', ttl),
  };
}
