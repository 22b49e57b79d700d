/**
 * The `WorkflowStore` port: where the workflow engine keeps runs, step records and the
 * lease that makes one engine at a time responsible for a run. Memory, SQLite and
 * PostgreSQL implement it; all of them pass `test/conformance/workflow-store.suite.ts`.
 *
 * The engine owns the semantics (what a step is, retries, error policies); a store only
 * has to keep records durably and make the few compare-and-set operations below atomic.
 *
 * @module
 */
import type { Closeable } from '../core/lifecycle.js';
import type { JsonValue } from '../core/codec.js';

/**
 * Status of a run. `pending` is accepted by stores but the engine creates runs directly
 * as `running`; `completed`, `failed` and `cancelled` are terminal.
 */
export type WorkflowRunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Status of one step inside a run. `completed` and `skipped` are final: a resumed run never re-runs them. */
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/** The run statuses that count as finished (subject to `maxRuns` eviction and the finished-run TTL). */
export const TERMINAL_RUN_STATUSES: readonly WorkflowRunStatus[] = Object.freeze([
  'completed',
  'failed',
  'cancelled',
]);

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalRunStatus(status: WorkflowRunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** A run as a store returns it. Times are wall-clock epoch milliseconds from the store's clock. */
export interface WorkflowRunRecord {
  /** Run id (the engine uses `crypto.randomUUID()`); at most 256 characters. */
  readonly id: string;
  /** Id of the registered workflow definition. */
  readonly workflowId: string;
  /**
   * Fingerprint of the definition's shape (step ids, dependencies, triggers, fallbacks)
   * when the run was created. Resume refuses a definition whose fingerprint differs.
   */
  readonly definitionHash: string;
  /** Where the run is in its lifecycle. */
  readonly status: WorkflowRunStatus;
  /** The run input, `null` when none was given. */
  readonly input: JsonValue;
  /** Step id → output of every completed step, set when the run completes; otherwise `null`. */
  readonly output: JsonValue;
  /** Why the run failed (or was cancelled), `null` otherwise. */
  readonly error: string | null;
  /** When the row was created, epoch ms. */
  readonly createdAt: number;
  /** When execution started, epoch ms; `null` while pending. */
  readonly startedAt: number | null;
  /** Set when the run reached a terminal status; retention is measured from it. */
  readonly completedAt: number | null;
  /** Time of the last write to the run row (create, update, claim, renew, release). */
  readonly updatedAt: number;
  /** Id of the engine holding the lease, `null` when nobody holds it. */
  readonly owner: string | null;
  /** When the current lease expires (`null` when `owner` is `null`). */
  readonly leaseExpiresAt: number | null;
}

/** What the engine passes to {@link WorkflowStore.createRun}. */
export interface NewWorkflowRun {
  /** The run id (chosen by the engine, or given to `start`). */
  readonly id: string;
  /** The workflow definition's id. */
  readonly workflowId: string;
  /** Hash of the definition's shape, checked again on resume. */
  readonly definitionHash: string;
  /** `pending` or `running`. */
  readonly status: WorkflowRunStatus;
  /** The run input (JSON). */
  readonly input: JsonValue;
  /** Start time, epoch ms, or `null` for a pending run. */
  readonly startedAt: number | null;
  /**
   * Step records to store in the same transaction as the run (each with `runId` equal
   * to `id`, one per step id). The engine passes the `running` records of the steps it
   * starts first when the store sets {@link WorkflowStore.groupsRunWrites}, so a run's
   * creation and its first steps' starts cost one commit. Absent: none.
   */
  readonly steps?: readonly StepRecord[];
}

/** Fields {@link WorkflowStore.updateRun} may change; absent fields are left as they are. */
export interface WorkflowRunPatch {
  /** New status. */
  readonly status?: WorkflowRunStatus;
  /** The run output (set when it completes). */
  readonly output?: JsonValue;
  /** Failure or cancellation reason; `null` clears it (a resumed failed run). */
  readonly error?: string | null;
  /** Start time, epoch ms. */
  readonly startedAt?: number | null;
  /** Time the run reached a final status, epoch ms. */
  readonly completedAt?: number | null;
}

/**
 * The single record of one step in one run, keyed by `(runId, stepId)` and overwritten
 * as the step progresses (running → completed/failed/skipped). There is one record per
 * step per run, whatever the number of attempts or resumes.
 */
export interface StepRecord {
  /** The run the step belongs to. */
  readonly runId: string;
  /** The step's id in the definition. */
  readonly stepId: string;
  /** `running` while an attempt runs, else the latest outcome. */
  readonly status: StepStatus;
  /**
   * 1-based number of the attempt this record describes, counted over the whole life of
   * the run: an attempt interrupted by a crash keeps its number and the resumed engine
   * continues with the next one.
   */
  readonly attempt: number;
  /** The step's output when `completed` (`null` otherwise, or when it returned nothing). */
  readonly output: JsonValue;
  /** Error text of the last failed attempt, `null` when none. */
  readonly error: string | null;
  /** When the step's first attempt in the current execution started. */
  readonly startedAt: number | null;
  /** When the last attempt finished, epoch ms. */
  readonly completedAt: number | null;
  /** Wall time from `startedAt` to `completedAt`, including backoff, or `null`. */
  readonly durationMs: number | null;
  /** Id of the fallback step whose result this record holds, `null` when none ran. */
  readonly fallbackStepId: string | null;
}

/** Filter and paging for {@link WorkflowStore.listRuns}. */
export interface ListRunsQuery {
  /** Only runs of this workflow. */
  readonly workflowId?: string;
  /** Only runs in one of these statuses. An empty array matches nothing. */
  readonly statuses?: readonly WorkflowRunStatus[];
  /** Maximum number of runs returned; 1..10 000, default 100. */
  readonly limit?: number;
  /** Number of matching runs skipped first; default 0. */
  readonly offset?: number;
}

/** Result of {@link WorkflowStore.claimRun}. */
export type ClaimResult =
  | {
      /** The caller now holds the lease; `run` is the row after the claim. */
      readonly claimed: true;
      /** The run row after the claim. */
      readonly run: WorkflowRunRecord;
    }
  | {
      /** Someone else holds a live lease (`run` shows who), or the run does not exist (`run` undefined). */
      readonly claimed: false;
      /** The current row (its `owner` holds the lease), or undefined when no such run exists. */
      readonly run: WorkflowRunRecord | undefined;
    };

/** Retention and clock options every store accepts. */
export interface WorkflowStoreOptions {
  /**
   * Soft cap on stored runs. When a new run would make the count exceed it, the store
   * first deletes finished runs (oldest `completedAt` first; ties in any order) with their step
   * records until the count is below the cap; when only unfinished runs remain the insert
   * still goes ahead, so active runs are never dropped. `0` or absent: no cap.
   */
  readonly maxRuns?: number;
  /**
   * Finished runs (and their step records) older than this, measured from `completedAt`,
   * are deleted by {@link WorkflowStore.sweep}, which `createRun` also calls. Absent: kept
   * until `maxRuns` evicts them or {@link WorkflowStore.deleteRun} is called.
   */
  readonly finishedRunTtlMs?: number;
}

/**
 * Durable storage for the workflow engine.
 *
 * Contract common to every method:
 * - Every method is async and rejects with a `MajraError`: `InvalidArgumentError` for bad
 *   arguments (checked before any I/O), `ClosedError` (`ERR_CLOSED`) after `close()`,
 *   `BackendError` with code `ERR_WORKFLOW_STORAGE` (driver error as `cause`) when the
 *   database fails. A failed call changes nothing.
 * - Times (`createdAt`, `updatedAt`, `completedAt`, lease expiry, TTL) come from the
 *   store's injected `clock.now()`, never from the database server, so one clock drives
 *   the engine and the store in tests.
 * - Records returned are copies: mutating them never changes the store.
 * - JSON fields (`input`, `output`) round-trip exactly as JSON (`JSON.parse(JSON.stringify(x))`).
 * - Writes by an engine to a run it works on are *fenced* by `owner`: they succeed only
 *   while the run's `owner` equals the caller's id, and report `false` (writing nothing)
 *   otherwise. An engine that lost its lease can therefore never overwrite the work of
 *   the engine that took over.
 * - Each write method is atomic (one transaction): a step write costs one commit.
 */
export interface WorkflowStore extends Closeable {
  /**
   * Optional. `true` when the store commits {@link WorkflowStore.saveStep} calls in call
   * order (a later write never becomes durable before an earlier one). The engine then
   * starts a step's dependents without waiting for the step's final write to resolve,
   * which lets a store group writes into fewer commits. Absent or `false`: the engine
   * awaits each step's final write before starting dependents.
   */
  readonly writesInOrder?: boolean;

  /**
   * Optional. `true` when the store, besides {@link WorkflowStore.writesInOrder}, stores
   * {@link NewWorkflowRun.steps} with the run, and commits an {@link WorkflowStore.updateRun}
   * call after every `saveStep` call made before it, in the same transaction as those
   * not yet committed: the update then fails when they fail and is refused when they
   * are fenced out. The engine then issues a run's final update without waiting for its
   * last step writes, so a linear run of n steps costs n + 1 commits (creation with the
   * first start, one per step outcome with the next start, the last outcome with the
   * final update) instead of n + 3. Absent or `false`: the engine writes a run's first
   * steps after creating it and awaits step writes before the final update.
   */
  readonly groupsRunWrites?: boolean;

  /**
   * Inserts a new run claimed by `owner` with a lease of `leaseMs` (so `owner` is set and
   * `leaseExpiresAt = now + leaseMs`), `createdAt = updatedAt = now`, `output = null`,
   * `error = null`, `completedAt = null`. In the same transaction it applies retention:
   * the finished-run TTL sweep, then `maxRuns` eviction (see {@link WorkflowStoreOptions}).
   *
   * @throws InvalidStateError `ERR_WORKFLOW_RUN_EXISTS` when a run with this id exists
   *   (the existing run is unchanged).
   */
  createRun(run: NewWorkflowRun, owner: string, leaseMs: number): Promise<void>;

  /** The run, or `undefined` when unknown (or already deleted by retention). */
  getRun(runId: string): Promise<WorkflowRunRecord | undefined>;

  /**
   * Applies `patch` to the run if `owner` holds it (fenced), and sets `updatedAt = now`.
   * When the patch moves the run to a terminal status the lease is released in the same
   * write (`owner` and `leaseExpiresAt` become `null`).
   *
   * @returns `true` when written; `false` when the run is unknown or held by someone else.
   */
  updateRun(runId: string, owner: string, patch: WorkflowRunPatch): Promise<boolean>;

  /**
   * Runs matching `query`, ordered by `createdAt` ascending, then `id` ascending.
   *
   * @throws InvalidArgumentError for a limit outside 1..10 000 or a negative offset.
   */
  listRuns(query?: ListRunsQuery): Promise<WorkflowRunRecord[]>;

  /**
   * Runs an engine may take over: status `pending` or `running` and no live lease (owner
   * `null`, or `leaseExpiresAt <= now`). Ordered by `createdAt`, then `id`; at most
   * `limit` (1..10 000, default 100).
   */
  listResumable(limit?: number): Promise<WorkflowRunRecord[]>;

  /**
   * Atomically takes the lease of a run, whatever its status: succeeds when nobody holds
   * it, when the lease has expired (`leaseExpiresAt <= now`), or when `owner` already
   * holds it (a re-claim extends it). On success sets `owner`, `leaseExpiresAt = now +
   * leaseMs` and `updatedAt`. When two engines claim the same run at the same time exactly
   * one succeeds.
   */
  claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimResult>;

  /**
   * Extends the lease to `now + leaseMs` when `owner` still holds it, even if it has
   * expired in the meantime provided nobody else claimed it.
   *
   * @returns `false` when the run is unknown or owned by someone else (the lease is lost).
   */
  renewLease(runId: string, owner: string, leaseMs: number): Promise<boolean>;

  /**
   * Gives the lease up (owner and expiry become `null`) when `owner` holds it; the run is
   * otherwise unchanged, so another engine may claim it at once.
   *
   * @returns `true` when released, `false` when `owner` did not hold it.
   */
  releaseRun(runId: string, owner: string): Promise<boolean>;

  /**
   * Inserts or replaces the record of `(record.runId, record.stepId)`, fenced by `owner`
   * like {@link WorkflowStore.updateRun}. Also sets the run's `updatedAt`.
   *
   * @returns `true` when written; `false` when the run is unknown or held by someone else.
   */
  saveStep(owner: string, record: StepRecord): Promise<boolean>;

  /**
   * Every step record of the run, ordered by `startedAt` ascending (`null` last), then
   * `stepId`. Empty for an unknown run.
   */
  getSteps(runId: string): Promise<StepRecord[]>;

  /**
   * Deletes the run and its step records, whatever its status or lease.
   *
   * @returns `true` when the run existed.
   */
  deleteRun(runId: string): Promise<boolean>;

  /**
   * Deletes finished runs whose `completedAt <= now - finishedRunTtlMs` with their step
   * records. A no-op returning 0 when no TTL is configured. Unfinished runs are never
   * deleted, whatever their age.
   *
   * @returns the number of runs deleted.
   */
  sweep(): Promise<number>;

  /** Number of runs stored (any status). */
  countRuns(): Promise<number>;
}
