import type { PoolClient } from 'pg';
import { systemClock, type Clock } from '../../core/clock.js';
import { BackendError, InvalidStateError, isMajraError } from '../../core/errors.js';
import { Lifecycle } from '../../core/lifecycle.js';
import type { MetricsSink } from '../../core/metrics.js';
import { operationMeter, type OperationMeter } from '../../core/operation-meter.js';
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
import { toRun, toStep, type RunRow, type StepRow } from '../../workflow/store-rows.js';
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
import { DEFAULT_SCHEMA, validateSchemaName } from './identifier.js';
import { STORE_OPERATIONS, WORKFLOW_STORE_LABELS } from './metrics.js';
import { migrate } from './migrate.js';
import {
  resolvePool,
  runQuery,
  withTransaction,
  type PostgresConnectionOptions,
  type Queryable,
  type ResolvedPool,
} from './pool.js';
import { StatementSet } from './sql-file.js';
import {
  fenceKey,
  lastPerStep,
  NO_RUN_UPDATE,
  onePair,
  stepColumns,
  updateColumns,
  StepWriter,
  type RunUpdate,
  type StepColumns,
} from './workflow-step-writer.js';

/** Options of {@link connectPostgresWorkflowStore}. */
export interface PostgresWorkflowStoreOptions
  extends WorkflowStoreOptions, PostgresConnectionOptions {
  /** Schema holding the tables (created and migrated at connect). @defaultValue 'majra' */
  readonly schema?: string | undefined;
  /** Clock for record times, leases and the TTL. @defaultValue systemClock */
  readonly clock?: Clock | undefined;
  /**
   * Counts operations (`majra_postgres_store_operations_total{store="workflow"}`) and
   * migrations applied at connect; default none.
   */
  readonly metrics?: MetricsSink | undefined;
}

/**
 * A failure as the store reports it: MajraErrors of the store's own (bad arguments, closed,
 * run exists) as they are; driver errors as `ERR_WORKFLOW_STORAGE` with the cause.
 */
function storageFailure(operation: string, error: unknown): Error {
  if (
    isMajraError(error) &&
    error.code !== 'ERR_POSTGRES_QUERY' &&
    error.code !== 'ERR_POSTGRES_UNAVAILABLE'
  ) {
    return error;
  }
  return new BackendError(
    `workflow storage: ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    { code: 'ERR_WORKFLOW_STORAGE', cause: error },
  );
}

/**
 * Opens a {@link PostgresWorkflowStore}: adopts `pool` or creates one from
 * `connectionString`, migrates `schema`, and resolves when ready.
 *
 * @example
 * ```ts
 * import { WorkflowEngine } from 'majra/workflow';
 * import { connectPostgresWorkflowStore } from 'majra/postgres';
 *
 * const store = await connectPostgresWorkflowStore({
 *   connectionString: process.env.DATABASE_URL,
 *   finishedRunTtlMs: 86_400_000,
 * });
 * const engine = new WorkflowEngine({ store });
 * ```
 */
export async function connectPostgresWorkflowStore(
  options: PostgresWorkflowStoreOptions = {},
): Promise<PostgresWorkflowStore> {
  const store = new PostgresWorkflowStore(options);
  try {
    await migrate(store.pool, { schema: store.schema, metrics: options.metrics });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * A {@link WorkflowStore} in PostgreSQL, shared by engines in any number of processes
 * and machines. Each write is one transaction (most are one statement), synchronously
 * committed; lease claims are a single conditional UPDATE, so when engines race for a run
 * exactly one wins; every engine write is fenced by `owner`. Times come from the injected
 * clock, not the server. Retention (`finishedRunTtlMs`, `maxRuns`) is applied inside
 * `createRun`'s transaction.
 */
export class PostgresWorkflowStore implements WorkflowStore {
  /** The schema holding the tables. */
  readonly schema: string;
  readonly #life = new Lifecycle('PostgresWorkflowStore');
  readonly #resolved: ResolvedPool;
  readonly #sql: StatementSet;
  readonly #clock: Clock;
  readonly #maxRuns: number;
  readonly #ttlMs: number | undefined;
  readonly #meter: OperationMeter | undefined;
  readonly #steps = new StepWriter((columns, updates) => this.#writeSteps(columns, updates));
  /** Step writes are committed in call order (see {@link WorkflowStore.writesInOrder}). */
  readonly writesInOrder = true;
  /** A run's first steps commit with its creation, its final update with its last steps. */
  readonly groupsRunWrites = true;

  /** Use {@link connectPostgresWorkflowStore}; the constructor validates and does no I/O. */
  constructor(options: PostgresWorkflowStoreOptions = {}) {
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    const retention = checkRetention(options);
    this.#maxRuns = retention.maxRuns;
    this.#ttlMs = retention.finishedRunTtlMs;
    this.#clock = options.clock ?? systemClock;
    this.#resolved = resolvePool(options);
    this.#sql = new StatementSet('./queries/workflow-store.sql', this.schema);
    this.#meter = operationMeter(options.metrics, STORE_OPERATIONS, WORKFLOW_STORE_LABELS);
  }

  /** The pool in use. */
  get pool(): ResolvedPool['pool'] {
    return this.#resolved.pool;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Commits queued step writes, then ends an owned pool (a pool you passed in stays open). Idempotent. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      await this.#steps.drain();
      await this.#resolved.release();
    });
  }

  /** Same as `close()`, so `await using store = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #op<T>(operation: string, body: () => Promise<T>): Promise<T> {
    this.#life.assertOpen(operation);
    // Queued step writes go first, so every operation sees (and orders after) them.
    if (!this.#steps.idle) await this.#steps.drain();
    try {
      const result = await body();
      this.#meter?.ok(operation);
      return result;
    } catch (error) {
      this.#meter?.error(operation);
      throw storageFailure(operation, error);
    }
  }

  #q<R>(db: Queryable, name: string, values: unknown[]): Promise<R[]> {
    return runQuery<R & Record<string, unknown>>(db, this.#sql.get(name), values, name);
  }

  createRun(run: NewWorkflowRun, owner: string, leaseMs: number): Promise<void> {
    return this.#op('createRun', async () => {
      checkNewRun(run, owner, leaseMs);
      const input = JSON.stringify(run.input);
      const insert = async (db: Queryable): Promise<void> => {
        const now = this.#clock.now();
        const rows = await this.#q(db, 'insertRun', [
          run.id,
          run.workflowId,
          run.definitionHash,
          run.status,
          input,
          now,
          run.startedAt,
          owner,
          now + leaseMs,
          ...stepColumns(run.steps ?? []),
        ]);
        if (rows.length === 0) {
          throw new InvalidStateError(`workflow run ${run.id} already exists`, {
            code: 'ERR_WORKFLOW_RUN_EXISTS',
          });
        }
      };
      // Without retention the insert is the whole write: one statement, no BEGIN/COMMIT.
      if (this.#ttlMs === undefined && this.#maxRuns === 0) return insert(this.pool);
      return withTransaction(this.pool, 'createRun', async (client) => {
        await this.#sweepIn(client);
        await this.#evictForInsert(client);
        await insert(client);
      });
    });
  }

  getRun(runId: string): Promise<WorkflowRunRecord | undefined> {
    return this.#op('getRun', async () => {
      checkId('runId', runId);
      const [row] = await this.#q<RunRow>(this.pool, 'getRun', [runId]);
      return row === undefined ? undefined : toRun(row);
    });
  }

  /**
   * Queued behind the step writes, and committed in the same statement as those not yet
   * sent ({@link WorkflowStore.groupsRunWrites}).
   */
  async updateRun(runId: string, owner: string, patch: WorkflowRunPatch): Promise<boolean> {
    this.#life.assertOpen('updateRun');
    try {
      checkId('runId', runId);
      checkId('owner', owner);
      checkRunPatch(patch);
    } catch (error) {
      this.#meter?.error('updateRun');
      throw storageFailure('updateRun', error);
    }
    try {
      const written = await this.#steps.update([
        runId,
        owner,
        patch.status !== undefined,
        patch.status ?? null,
        patch.output !== undefined,
        patch.output === undefined ? null : JSON.stringify(patch.output),
        patch.error !== undefined,
        patch.error ?? null,
        patch.startedAt !== undefined,
        patch.startedAt ?? null,
        patch.completedAt !== undefined,
        patch.completedAt ?? null,
        patch.status !== undefined && isTerminalRunStatus(patch.status),
      ]);
      this.#meter?.ok('updateRun');
      return written;
    } catch (error) {
      this.#meter?.error('updateRun');
      throw storageFailure('updateRun', error);
    }
  }

  listRuns(query?: ListRunsQuery): Promise<WorkflowRunRecord[]> {
    return this.#op('listRuns', async () => {
      const q = checkListQuery(query);
      const rows = await this.#q<RunRow>(this.pool, 'listRuns', [
        q.workflowId ?? null,
        q.statuses === undefined ? null : [...q.statuses],
        q.limit,
        q.offset,
      ]);
      return rows.map(toRun);
    });
  }

  listResumable(limit?: number): Promise<WorkflowRunRecord[]> {
    return this.#op('listResumable', async () => {
      const max = checkLimit('limit', limit);
      const rows = await this.#q<RunRow>(this.pool, 'listResumable', [this.#clock.now(), max]);
      return rows.map(toRun);
    });
  }

  claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    return this.#op('claimRun', async (): Promise<ClaimResult> => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      const now = this.#clock.now();
      const [claimed] = await this.#q<RunRow>(this.pool, 'claimRun', [
        runId,
        owner,
        now,
        now + leaseMs,
      ]);
      if (claimed !== undefined) return { claimed: true, run: toRun(claimed) };
      const [row] = await this.#q<RunRow>(this.pool, 'getRun', [runId]);
      return { claimed: false, run: row === undefined ? undefined : toRun(row) };
    });
  }

  renewLease(runId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#op('renewLease', async () => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      const now = this.#clock.now();
      const rows = await this.#q(this.pool, 'renewLease', [runId, owner, now, now + leaseMs]);
      return rows.length === 1;
    });
  }

  releaseRun(runId: string, owner: string): Promise<boolean> {
    return this.#op('releaseRun', async () => {
      checkId('runId', runId);
      checkId('owner', owner);
      const rows = await this.#q(this.pool, 'releaseRun', [runId, owner, this.#clock.now()]);
      return rows.length === 1;
    });
  }

  /**
   * Queues the write; writes queued in the same event-loop turn are committed together in
   * one statement, batches one after another in call order (see `StepWriter` in workflow-step-writer.ts).
   */
  saveStep(owner: string, record: StepRecord): Promise<boolean> {
    try {
      this.#life.assertOpen('saveStep');
      checkId('owner', owner);
      checkStepRecord(record);
      return this.#steps.save(owner, record, JSON.stringify(record.output));
    } catch (error) {
      return Promise.reject(storageFailure('saveStep', error));
    }
  }

  /** One group commit: the `saveSteps` statement over the column arrays and the run updates. */
  async #writeSteps(
    columns: StepColumns,
    updates: readonly RunUpdate[],
  ): Promise<ReadonlySet<string>> {
    try {
      const one = onePair(columns, updates);
      if (one !== undefined) {
        const [runId, owner] = one;
        const rows = await this.#q(this.pool, 'saveRunSteps', [
          this.#clock.now(),
          runId,
          owner,
          ...lastPerStep(columns),
          ...(updates[0]?.slice(2) ?? NO_RUN_UPDATE),
        ]);
        return new Set(rows.length === 1 ? [fenceKey(runId, owner)] : []);
      }
      const rows = await this.#q<{ run_id: string; owner: string }>(this.pool, 'saveSteps', [
        this.#clock.now(),
        ...columns,
        ...updateColumns(updates),
      ]);
      return new Set(rows.map((row) => fenceKey(row.run_id, row.owner)));
    } catch (error) {
      throw storageFailure(updates.length === 0 ? 'saveStep' : 'saveStep+updateRun', error);
    }
  }

  getSteps(runId: string): Promise<StepRecord[]> {
    return this.#op('getSteps', async () => {
      checkId('runId', runId);
      return (await this.#q<StepRow>(this.pool, 'getSteps', [runId])).map(toStep);
    });
  }

  deleteRun(runId: string): Promise<boolean> {
    return this.#op('deleteRun', async () => {
      checkId('runId', runId);
      const [row] = await this.#q<{ n: number }>(this.pool, 'deleteRuns', [[runId]]);
      return (row?.n ?? 0) === 1;
    });
  }

  sweep(): Promise<number> {
    return this.#op('sweep', () =>
      withTransaction(this.pool, 'sweep', (client) => this.#sweepIn(client)),
    );
  }

  countRuns(): Promise<number> {
    return this.#op('countRuns', async () => {
      const [row] = await this.#q<{ n: number }>(this.pool, 'countRuns', []);
      return row?.n ?? 0;
    });
  }

  async #deleteRuns(client: PoolClient, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [row] = await this.#q<{ n: number }>(client, 'deleteRuns', [ids]);
    return row?.n ?? 0;
  }

  async #sweepIn(client: PoolClient): Promise<number> {
    if (this.#ttlMs === undefined) return 0;
    const rows = await this.#q<{ id: string }>(client, 'expiredRuns', [
      this.#clock.now() - this.#ttlMs,
    ]);
    return this.#deleteRuns(
      client,
      rows.map((r) => r.id),
    );
  }

  async #evictForInsert(client: PoolClient): Promise<void> {
    if (this.#maxRuns === 0) return;
    const [count] = await this.#q<{ n: number }>(client, 'countRuns', []);
    const excess = (count?.n ?? 0) - this.#maxRuns + 1;
    if (excess <= 0) return;
    const rows = await this.#q<{ id: string }>(client, 'oldestFinished', [excess]);
    await this.#deleteRuns(
      client,
      rows.map((r) => r.id),
    );
  }
}
