/**
 * Statements, options and queued writes of {@link SqliteWorkflowStore}: the SQL lives in
 * workflow-store.sql (named statements), read on first use.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { BackendError } from '../../core/errors.js';
import { integerInRange, invalid } from '../../core/validate.js';
import type { StepRecord } from '../../workflow/types.js';
import type { SqliteWorkflowStoreOptions } from './workflow-store.js';

export interface PendingStep {
  readonly owner: string;
  readonly record: StepRecord;
  readonly output: string;
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Whether `batch[i]` and `batch[i + 1]` go in one statement: same run and owner (one
 * fence), different steps (so the order of the two rows in the statement is irrelevant).
 */
export function pairs(batch: readonly PendingStep[], i: number): boolean {
  const a = batch[i];
  const b = batch[i + 1];
  return (
    a !== undefined &&
    b !== undefined &&
    a.owner === b.owner &&
    a.record.runId === b.record.runId &&
    a.record.stepId !== b.record.stepId
  );
}

/** The nine record fields of the saveStep statements, in their order. */
export function fields({ record, output }: Pick<PendingStep, 'record' | 'output'>): unknown[] {
  return [
    record.stepId,
    record.status,
    record.attempt,
    output,
    record.error,
    record.startedAt,
    record.completedAt,
    record.durationMs,
    record.fallbackStepId,
  ];
}

/** Whether `error` is better-sqlite3's report of a UNIQUE constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
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
  // Fragments shared by several statements: `{{name}}` is replaced by statement `name`.
  return statement.replace(/\{\{(\w+)\}\}/g, (_, fragment: string) => sql(fragment));
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
  'getRun',
  'countRuns',
  'insertRun',
  'updateRun',
  'listRuns',
  'listResumable',
  'claimRun',
  'renewLease',
  'releaseRun',
  'saveStep',
  'saveStepPair',
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

/**
 * Brings the file to the current layout in one immediate transaction (so processes
 * opening it at once migrate it once): migration 0002 rebuilds a layout-1 file (step
 * records keyed by run id text) as layout 2 (keyed by the run's integer seq), then the
 * idempotent `tables` and `indexes` run; migration 0003 adds the steps' written_at.
 */
export function migrate(db: Database.Database): void {
  if (db.readonly) {
    // A read-only view (`majra dashboard --sqlite`) cannot migrate: it reads a file of
    // the current layout as it is and refuses an older one with a clear message.
    const current =
      db.prepare(sql('hasLayout1')).get() === undefined &&
      db.prepare(sql('hasWrittenAt')).get() !== undefined;
    if (!current) {
      throw new Error(
        'the file has an older workflow store layout and is open read-only: open it once read-write (a SqliteWorkflowStore or a WorkflowEngine on it) to migrate it',
      );
    }
    return;
  }
  db.transaction(() => {
    if (db.prepare(sql('hasLayout1')).get() !== undefined) {
      db.exec(sql('migrateRunSeqBegin'));
      db.exec(sql('tables'));
      db.exec(sql('migrateRunSeqCopy'));
    }
    db.exec(sql('tables'));
    if (db.prepare(sql('hasWrittenAt')).get() === undefined) db.exec(sql('addWrittenAt'));
    db.exec(sql('indexes'));
  }).immediate();
}

/** The statements retention needs. @internal */
type RetentionSql = Pick<
  Record<StatementName, Database.Statement>,
  'deleteSteps' | 'deleteRun' | 'expiredRuns' | 'countRuns' | 'oldestFinished'
>;

/** Deletes a run and its step records (call inside a transaction). @internal */
export function deleteRunRows(statements: RetentionSql, runId: string): boolean {
  statements.deleteSteps.run(runId);
  return statements.deleteRun.run(runId).changes === 1;
}

/** Deletes the finished runs completed before `cutoff`; returns how many (in a transaction). @internal */
export function deleteExpiredRuns(statements: RetentionSql, cutoff: number): number {
  const ids = statements.expiredRuns.pluck().all({ cutoff }) as string[];
  for (const id of ids) deleteRunRows(statements, id);
  return ids.length;
}

/**
 * Makes room for one more run under `maxRuns` (0: unbounded) by deleting the oldest
 * finished runs (in a transaction). @internal
 */
export function evictForInsert(statements: RetentionSql, maxRuns: number): void {
  if (maxRuns === 0) return;
  const count = (statements.countRuns.get() as { n: number }).n;
  const excess = count - maxRuns + 1;
  if (excess <= 0) return;
  const ids = statements.oldestFinished.pluck().all({ limit: excess }) as string[];
  for (const id of ids) deleteRunRows(statements, id);
}

/**
 * Sets the connection's pragmas (busy timeout; WAL unless in memory or read-only;
 * synchronous), brings the file to the current layout and prepares every statement.
 *
 * @throws BackendError `ERR_WORKFLOW_STORAGE` when any of it fails.
 * @internal
 */
export function prepareDatabase(
  database: Database.Database,
  settings: { readonly busyTimeoutMs: number; readonly synchronous: string },
): Record<StatementName, Database.Statement> {
  try {
    database.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    if (!database.memory && !database.readonly) database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${settings.synchronous}`);
    migrate(database);
    return prepare(database);
  } catch (error) {
    throw new BackendError(`workflow storage: cannot prepare the database: ${String(error)}`, {
      code: 'ERR_WORKFLOW_STORAGE',
      cause: error,
    });
  }
}
