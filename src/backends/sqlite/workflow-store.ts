import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.js';
import { BackendError, InvalidStateError, MajraError } from '../../core/errors.js';
import {
  checkOptions,
  deleteExpiredRuns,
  deleteRunRows,
  evictForInsert,
  fields,
  isUniqueViolation,
  pairs,
  prepareDatabase,
  type PendingStep,
  type StatementName,
} from './workflow-store-sql.js';
import { toRun, toStep, type RunRow, type StepRow } from '../../workflow/store-rows.js';
import { Lifecycle } from '../../core/lifecycle.js';
import type { MetricsSink } from '../../core/metrics.js';
import { operationMeter, type OperationMeter } from '../../core/operation-meter.js';
import { invalid } from '../../core/validate.js';
import { SQLITE_STORE_OPERATIONS, WORKFLOW_STORE_LABELS } from './metrics.js';
import {
  checkId,
  checkLeaseMs,
  checkLimit,
  checkListQuery,
  checkNewRun,
  checkRetention,
  checkRunPatch,
  checkStepRecord,
} from '../../workflow/store-support.js';
import {
  isTerminalRunStatus,
  type ClaimResult,
  type ListRunsQuery,
  type NewWorkflowRun,
  type StepRecord,
  type WorkflowRunPatch,
  type WorkflowRunRecord,
  type WorkflowStore,
  type WorkflowStoreOptions,
} from '../../workflow/types.js';

/** Options of {@link SqliteWorkflowStore}. */
export interface SqliteWorkflowStoreOptions extends WorkflowStoreOptions {
  /** Clock for record times, leases and the TTL; default the system clock. */
  readonly clock?: Clock;
  /** How long a write waits for another process's lock (SQLite `busy_timeout`); default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` for file databases: `normal` (default) survives process crashes,
   * and a power loss may drop the last commits; `full` fsyncs every commit.
   */
  readonly synchronous?: 'normal' | 'full';
  /** Counts operations in `majra_sqlite_store_operations_total{store="workflow"}`; default none. */
  readonly metrics?: MetricsSink;
}

/**
 * A {@link WorkflowStore} in a SQLite file (better-sqlite3 12), shareable by several
 * processes on one machine: WAL journal, `synchronous=NORMAL` (durable across process
 * crashes; a power loss may drop the last commits), a busy timeout, and each write in one
 * immediate transaction (or one statement, its own transaction), so a lease claim is
 * atomic across processes. Step writes issued in the same event-loop turn share one
 * commit (group commit), so a linear workflow costs about one commit per step; a step
 * write only reads the run row (its fence), and a run's `updatedAt` is read as the later
 * of the run row's and its latest step write's.
 *
 * @example
 * ```ts
 * import { SqliteWorkflowStore } from 'majra/sqlite';
 * import { WorkflowEngine } from 'majra/workflow';
 * const store = SqliteWorkflowStore.open('./workflows.db', { finishedRunTtlMs: 86_400_000 });
 * const engine = new WorkflowEngine({ store });
 * ```
 */
export class SqliteWorkflowStore implements WorkflowStore {
  readonly #life = new Lifecycle('SqliteWorkflowStore');
  readonly #db: Database.Database;
  readonly #ownsDb: boolean;
  readonly #clock: Clock;
  readonly #maxRuns: number;
  readonly #ttlMs: number | undefined;
  readonly #sql: Record<StatementName, Database.Statement>;
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly #pending: PendingStep[] = [];
  readonly #meter: OperationMeter | undefined;
  /** Step writes are committed in call order (see {@link WorkflowStore.writesInOrder}). */
  readonly writesInOrder = true;
  /** A run's first steps commit with its creation, its final update with its last steps. */
  readonly groupsRunWrites = true;

  /**
   * Opens (creating when missing) the database file `filename` (`':memory:'` for a
   * private in-memory database). The store owns the connection and closes it.
   */
  static open(filename: string, options: SqliteWorkflowStoreOptions = {}): SqliteWorkflowStore {
    if (typeof filename !== 'string' || filename === '')
      invalid('filename', 'a file path', filename);
    checkOptions(options);
    let db: Database.Database;
    try {
      db = new Database(filename);
    } catch (error) {
      throw new BackendError(`workflow storage: cannot open ${filename}`, {
        code: 'ERR_WORKFLOW_STORAGE',
        cause: error,
      });
    }
    try {
      return new SqliteWorkflowStore(db, options, true);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Uses an open better-sqlite3 connection (which the store does not close). Creates the
   * tables when missing and sets WAL, `synchronous=NORMAL` and the busy timeout on it.
   */
  constructor(database: Database.Database, options: SqliteWorkflowStoreOptions = {}, owns = false) {
    if (!(database instanceof Database)) invalid('database', 'a better-sqlite3 Database', database);
    const retention = checkRetention(options);
    this.#maxRuns = retention.maxRuns;
    this.#ttlMs = retention.finishedRunTtlMs;
    this.#clock = options.clock ?? systemClock;
    this.#meter = operationMeter(options.metrics, SQLITE_STORE_OPERATIONS, WORKFLOW_STORE_LABELS);
    this.#db = database;
    this.#ownsDb = owns;
    this.#sql = prepareDatabase(database, checkOptions(options));
    this.#tx = database.transaction((fn: () => unknown) => fn());
  }

  /** The underlying connection (for inspection; do not close it while the store is open). */
  get database(): Database.Database {
    return this.#db;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Commits queued step writes, then closes the connection when the store opened it. Idempotent. */
  close(): Promise<void> {
    return this.#life.close(() => {
      this.#flush();
      if (this.#ownsDb && this.#db.open) this.#db.close();
    });
  }

  /** Same as `close()`, so `await using store = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Runs `body` as `operation`. Queued step writes go first (`flushFirst`, default), so
   * every operation sees (and orders after) them; an operation that commits them itself
   * passes `false`.
   */
  #op<T>(operation: string, body: () => T, flushFirst = true): Promise<T> {
    try {
      this.#life.assertOpen(operation);
      if (flushFirst) this.#flush();
      const result = body();
      this.#meter?.ok(operation);
      return Promise.resolve(result);
    } catch (error) {
      this.#meter?.error(operation);
      if (error instanceof MajraError) return Promise.reject(error);
      return Promise.reject(
        new BackendError(`workflow storage: ${operation} failed: ${String(error)}`, {
          code: 'ERR_WORKFLOW_STORAGE',
          cause: error,
        }),
      );
    }
  }

  createRun(run: NewWorkflowRun, owner: string, leaseMs: number): Promise<void> {
    return this.#op('createRun', () => {
      checkNewRun(run, owner, leaseMs);
      const input = JSON.stringify(run.input);
      this.#inTx(() => {
        this.#sweep();
        evictForInsert(this.#sql, this.#maxRuns);
        const now = this.#clock.now();
        let runSeq: number;
        try {
          runSeq = Number(
            this.#sql.insertRun.run(
              run.id,
              run.workflowId,
              run.definitionHash,
              run.status,
              input,
              now,
              run.startedAt,
              now,
              owner,
              now + leaseMs,
            ).lastInsertRowid,
          );
        } catch (error) {
          // The UNIQUE id refuses a second run with this id (and the transaction, with
          // what eviction did, rolls back).
          if (isUniqueViolation(error)) {
            throw new InvalidStateError(`workflow run ${run.id} already exists`, {
              code: 'ERR_WORKFLOW_RUN_EXISTS',
            });
          }
          throw error;
        }
        for (const record of run.steps ?? []) {
          this.#sql.upsertStep.run(
            runSeq,
            ...fields({ record, output: JSON.stringify(record.output) }),
            now,
          );
        }
      });
    });
  }

  getRun(runId: string): Promise<WorkflowRunRecord | undefined> {
    return this.#op('getRun', () => {
      checkId('runId', runId);
      const row = this.#sql.getRun.get(runId) as RunRow | undefined;
      return row === undefined ? undefined : toRun(row);
    });
  }

  updateRun(runId: string, owner: string, patch: WorkflowRunPatch): Promise<boolean> {
    return this.#op(
      'updateRun',
      () => {
        checkId('runId', runId);
        checkId('owner', owner);
        checkRunPatch(patch);
        const terminal = patch.status !== undefined && isTerminalRunStatus(patch.status) ? 1 : 0;
        const params = [
          patch.status === undefined ? 0 : 1,
          patch.status ?? null,
          patch.output === undefined ? 0 : 1,
          patch.output === undefined ? null : JSON.stringify(patch.output),
          patch.error === undefined ? 0 : 1,
          patch.error ?? null,
          patch.startedAt === undefined ? 0 : 1,
          patch.startedAt ?? null,
          patch.completedAt === undefined ? 0 : 1,
          patch.completedAt ?? null,
          this.#clock.now(),
          terminal,
          terminal,
          runId,
          owner,
        ];
        // Queued step writes of this run commit in the same transaction (groupsRunWrites).
        return this.#withQueued(() => this.#sql.updateRun.run(params).changes === 1) === true;
      },
      false,
    );
  }

  listRuns(query?: ListRunsQuery): Promise<WorkflowRunRecord[]> {
    return this.#op('listRuns', () => {
      const q = checkListQuery(query);
      const rows = this.#sql.listRuns.all({
        workflowId: q.workflowId ?? null,
        statuses: q.statuses === undefined ? null : JSON.stringify(q.statuses),
        limit: q.limit,
        offset: q.offset,
      }) as RunRow[];
      return rows.map(toRun);
    });
  }

  listResumable(limit?: number): Promise<WorkflowRunRecord[]> {
    return this.#op('listResumable', () => {
      const max = checkLimit('limit', limit);
      const rows = this.#sql.listResumable.all({ now: this.#clock.now(), limit: max }) as RunRow[];
      return rows.map(toRun);
    });
  }

  claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    return this.#op('claimRun', (): ClaimResult => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      return this.#inTx((): ClaimResult => {
        const now = this.#clock.now();
        const info = this.#sql.claimRun.run({ id: runId, owner, now, expires: now + leaseMs });
        const row = this.#sql.getRun.get(runId) as RunRow | undefined;
        const run = row === undefined ? undefined : toRun(row);
        if (info.changes === 1 && run !== undefined) return { claimed: true, run };
        return { claimed: false, run };
      });
    });
  }

  renewLease(runId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#op('renewLease', () => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      const now = this.#clock.now();
      return (
        this.#sql.renewLease.run({ id: runId, owner, now, expires: now + leaseMs }).changes === 1
      );
    });
  }

  releaseRun(runId: string, owner: string): Promise<boolean> {
    return this.#op('releaseRun', () => {
      checkId('runId', runId);
      checkId('owner', owner);
      return this.#sql.releaseRun.run({ id: runId, owner, now: this.#clock.now() }).changes === 1;
    });
  }

  /**
   * Queues the write and commits every step write queued in the same event-loop turn in
   * one transaction (group commit), in call order; each resolves with its own fence result.
   */
  saveStep(owner: string, record: StepRecord): Promise<boolean> {
    try {
      this.#life.assertOpen('saveStep');
      checkId('owner', owner);
      checkStepRecord(record);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const output = JSON.stringify(record.output);
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.push({ owner, record, output, resolve, reject });
      // process.nextTick runs once the current turn's microtasks are drained (a step's
      // outcome and its dependents' starts share the batch), without waiting for another
      // event-loop iteration as setImmediate did (~2 µs of CPU per step).
      if (this.#pending.length === 1) process.nextTick(() => this.#flush());
    });
  }

  /** Commits the queued step writes (no-op when none); called before every other operation. */
  #flush(): void {
    if (this.#pending.length === 0) return;
    try {
      this.#withQueued(undefined);
    } catch {
      // Each queued write was rejected with the error.
    }
  }

  /**
   * Runs `fn` in one transaction with the queued step writes, after them (or alone, with
   * no transaction of its own, when none is queued). With no `fn`, a batch that is one
   * statement (one record, or a pair: see `pairs`) runs without BEGIN/COMMIT: a
   * statement alone is its own transaction, and the fence is inside it. When the
   * transaction fails every queued write is rejected and the error is rethrown.
   */
  #withQueued<T>(fn: (() => T) | undefined): T | undefined {
    if (this.#pending.length === 0) return fn?.();
    const batch = this.#pending.splice(0);
    const written: boolean[] = [];
    let result: T | undefined;
    try {
      if (!this.#db.open) throw new Error('the database connection is not open');
      if (fn === undefined && (batch.length === 1 || (batch.length === 2 && pairs(batch, 0)))) {
        this.#writeSteps(batch, written);
      } else {
        result = this.#inTx(() => {
          this.#writeSteps(batch, written);
          return fn?.();
        });
      }
    } catch (error) {
      const wrapped = new BackendError(`workflow storage: saveStep failed: ${String(error)}`, {
        code: 'ERR_WORKFLOW_STORAGE',
        cause: error,
      });
      this.#meter?.error('saveStep', batch.length);
      for (const item of batch) item.reject(wrapped);
      throw error;
    }
    this.#meter?.ok('saveStep', batch.length);
    for (let i = 0; i < batch.length; i++) batch[i]?.resolve(written[i] === true);
    return result;
  }

  /**
   * Writes a batch in call order, each record fenced by its statement (one statement per
   * record, or per pair of consecutive records of one run: a linear step's outcome and its
   * successor's start). Sets `written[i]` to whether record i passed its fence.
   */
  #writeSteps(batch: readonly PendingStep[], written: boolean[]): void {
    const now = this.#clock.now();
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as PendingStep;
      const { runId } = item.record;
      if (pairs(batch, i)) {
        const next = batch[i + 1] as PendingStep;
        const params = [now, ...fields(item), ...fields(next), runId, item.owner];
        const ok = this.#sql.saveStepPair.run(params).changes > 0;
        written[i] = ok;
        written[++i] = ok;
      } else {
        const params = [now, ...fields(item), runId, item.owner];
        written[i] = this.#sql.saveStep.run(params).changes > 0;
      }
    }
  }

  getSteps(runId: string): Promise<StepRecord[]> {
    return this.#op('getSteps', () => {
      checkId('runId', runId);
      return (this.#sql.getSteps.all(runId) as StepRow[]).map(toStep);
    });
  }

  deleteRun(runId: string): Promise<boolean> {
    return this.#op('deleteRun', () => {
      checkId('runId', runId);
      return this.#inTx(() => deleteRunRows(this.#sql, runId));
    });
  }

  sweep(): Promise<number> {
    return this.#op('sweep', () => this.#inTx(() => this.#sweep()));
  }

  countRuns(): Promise<number> {
    return this.#op('countRuns', () => (this.#sql.countRuns.get() as { n: number }).n);
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction (the wrapper is built once: it is costly). */
  #inTx<T>(fn: () => T): T {
    return this.#tx.immediate(fn) as T;
  }

  #sweep(): number {
    if (this.#ttlMs === undefined) return 0;
    return deleteExpiredRuns(this.#sql, this.#clock.now() - this.#ttlMs);
  }
}
