/**
 * Row mapping and statements of {@link SqliteWorkflowStore}: the SQL lives in
 * workflow-store.sql (named statements), read on first use.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/codec.js';
import { BackendError } from '../../core/errors.js';
import { integerInRange, invalid } from '../../core/validate.js';
import { isRunStatus, isStepStatus } from '../../workflow/store-support.js';
import type { StepRecord, WorkflowRunRecord } from '../../workflow/types.js';
import type { SqliteWorkflowStoreOptions } from './workflow-store.js';

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

export interface PendingStep {
  readonly owner: string;
  readonly record: StepRecord;
  readonly output: string;
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: Error) => void;
}

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

let statements: Map<string, string> | undefined;

/** The named statements of workflow-store.sql, read on first use. */
export function sql(name: string): string {
  if (statements === undefined) {
    const text = readFileSync(new URL('./workflow-store.sql', import.meta.url), 'utf8');
    statements = new Map();
    let current: string | undefined;
    let lines: string[] = [];
    const flush = (): void => {
      if (current !== undefined) statements?.set(current, lines.join('\n').trim());
    };
    for (const line of text.split('\n')) {
      const match = /^-- name: (\w+)\s*$/.exec(line);
      if (match !== null) {
        flush();
        current = match[1];
        lines = [];
      } else if (!line.startsWith('--')) {
        lines.push(line);
      }
    }
    flush();
  }
  const statement = statements.get(name);
  if (statement === undefined) throw new Error(`workflow-store.sql has no statement ${name}`);
  return statement;
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

export function checkOptions(options: SqliteWorkflowStoreOptions): {
  busyTimeoutMs: number;
  synchronous: 'NORMAL' | 'FULL';
} {
  const busyTimeoutMs = integerInRange('busyTimeoutMs', options.busyTimeoutMs ?? 5000, 0, 600_000);
  const sync: unknown = options.synchronous ?? 'normal';
  if (sync !== 'normal' && sync !== 'full') invalid('synchronous', "'normal' or 'full'", sync);
  return { busyTimeoutMs, synchronous: sync === 'full' ? 'FULL' : 'NORMAL' };
}

const STATEMENTS = [
  'runExists',
  'getRun',
  'countRuns',
  'insertRun',
  'updateRun',
  'listRuns',
  'listResumable',
  'claimRun',
  'renewLease',
  'releaseRun',
  'touchRun',
  'upsertStep',
  'getSteps',
  'deleteSteps',
  'deleteRun',
  'expiredRuns',
  'oldestFinished',
] as const;

export type StatementName = (typeof STATEMENTS)[number];

export function prepare(db: Database.Database): Record<StatementName, Database.Statement> {
  const out: Partial<Record<StatementName, Database.Statement>> = {};
  for (const name of STATEMENTS) out[name] = db.prepare(sql(name));
  return out as Record<StatementName, Database.Statement>;
}
