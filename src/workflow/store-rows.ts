/**
 * Rows of the SQL workflow stores (SQLite and PostgreSQL share one table layout) and their
 * conversion to the records of the {@link WorkflowStore} port. A row that does not
 * convert is reported as `ERR_WORKFLOW_STORAGE`, never returned as garbage.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import { BackendError } from '../core/errors.js';
import { isRunStatus, isStepStatus } from './store-support.js';
import type { StepRecord, WorkflowRunRecord } from './types.js';

/** A row of `majra_workflow_runs`. Times are epoch ms; JSON columns hold JSON text. */
export interface RunRow {
  id: string;
  workflow_id: string;
  definition_hash: string;
  status: string;
  input_json: string;
  output_json: string;
  error: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  owner: string | null;
  lease_expires_at: number | null;
}

/** A row of `majra_workflow_steps`. */
export interface StepRow {
  run_id: string;
  step_id: string;
  status: string;
  attempt: number;
  output_json: string;
  error: string | null;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
  fallback_step_id: string | null;
}

function corrupt(what: string, value: unknown): BackendError {
  return new BackendError(`workflow storage: corrupt ${what}: ${String(value)}`, {
    code: 'ERR_WORKFLOW_STORAGE',
  });
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw corrupt(what, (error as Error).message);
  }
}

/** The run record of a row. @throws BackendError `ERR_WORKFLOW_STORAGE` for a corrupt row. */
export function toRun(row: RunRow): WorkflowRunRecord {
  if (!isRunStatus(row.status)) throw corrupt('run status', row.status);
  return {
    id: row.id,
    workflowId: row.workflow_id,
    definitionHash: row.definition_hash,
    status: row.status,
    input: parseJson(row.input_json, 'run input'),
    output: parseJson(row.output_json, 'run output'),
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    updatedAt: row.updated_at,
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at,
  };
}

/** The step record of a row. @throws BackendError `ERR_WORKFLOW_STORAGE` for a corrupt row. */
export function toStep(row: StepRow): StepRecord {
  if (!isStepStatus(row.status)) throw corrupt('step status', row.status);
  return {
    runId: row.run_id,
    stepId: row.step_id,
    status: row.status,
    attempt: row.attempt,
    output: parseJson(row.output_json, 'step output'),
    error: row.error,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    durationMs: row.duration_ms,
    fallbackStepId: row.fallback_step_id,
  };
}
