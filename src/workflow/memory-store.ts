import { systemClock, type Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { InvalidStateError } from '../core/errors.js';
import { Lifecycle } from '../core/lifecycle.js';
import {
  checkId,
  checkLeaseMs,
  checkLimit,
  checkListQuery,
  checkNewRun,
  checkRetention,
  checkRunPatch,
  checkStepRecord,
} from './store-support.js';
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
} from './types.js';

/** Options of {@link MemoryWorkflowStore}. */
export interface MemoryWorkflowStoreOptions extends WorkflowStoreOptions {
  /**
   * Soft cap on stored runs (see {@link WorkflowStoreOptions.maxRuns}); default 10 000 so
   * the store is bounded out of the box. `0` removes the cap.
   */
  readonly maxRuns?: number;
  /** Clock for record times, leases and the TTL; default the system clock. */
  readonly clock?: Clock;
}

/** Settled answers shared by every write (a settled promise cannot change). */
const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

/** Default {@link MemoryWorkflowStoreOptions.maxRuns}. */
export const DEFAULT_MEMORY_MAX_RUNS = 10_000;

/** A stored run, updated in place: callers only ever get copies (see copyRun). */
type MutableRun = { -readonly [K in keyof WorkflowRunRecord]: WorkflowRunRecord[K] };

interface Entry {
  readonly run: MutableRun;
  readonly steps: Map<string, StepRecord>;
}

/**
 * A deep copy of a JSON value. Plain objects and arrays are copied directly (much cheaper
 * than structuredClone for the small values steps produce); anything else a caller may
 * have passed despite the type (a class instance, a cycle: past `depth` 64) goes through
 * structuredClone as before.
 */
function copyJson(value: JsonValue, depth = 0): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (depth > 64 || (proto !== Object.prototype && proto !== Array.prototype)) {
    return structuredClone(value);
  }
  if (Array.isArray(value)) {
    const copy = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyJson(value[i] as JsonValue, depth + 1);
    return copy;
  }
  const copy: Record<string, JsonValue> = {};
  for (const key of Object.keys(value)) {
    const item = copyJson(value[key] as JsonValue, depth + 1);
    // JSON.parse makes `__proto__` an own key; assigning it would set the prototype.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: item,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      copy[key] = item;
    }
  }
  return copy;
}

function copyRun(run: WorkflowRunRecord): WorkflowRunRecord {
  return { ...run, input: copyJson(run.input), output: copyJson(run.output) };
}

function copyStep(step: StepRecord): StepRecord {
  return { ...step, output: copyJson(step.output) };
}

function byCreation(a: WorkflowRunRecord, b: WorkflowRunRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A {@link WorkflowStore} in process memory: fast, bounded (`maxRuns`, default 10 000,
 * plus an optional finished-run TTL), and gone when the process exits. Leases still
 * work, so several engines in one process can share it.
 *
 * @example
 * ```ts
 * const store = new MemoryWorkflowStore({ maxRuns: 1000, finishedRunTtlMs: 3_600_000 });
 * const engine = new WorkflowEngine({ store });
 * ```
 */
export class MemoryWorkflowStore implements WorkflowStore {
  readonly #life = new Lifecycle('MemoryWorkflowStore');
  /** Writes apply synchronously, so they are in call order. */
  readonly writesInOrder = true;
  readonly #clock: Clock;
  readonly #maxRuns: number;
  readonly #ttlMs: number | undefined;
  readonly #runs = new Map<string, Entry>();
  /** Finished run ids → completedAt, kept in ascending completedAt order. */
  #finished = new Map<string, number>();
  /** The newest entry of #finished (may be stale-high after deletes; only costs a re-sort). */
  #lastFinished = { id: '', at: Number.NEGATIVE_INFINITY };

  /** @throws InvalidArgumentError for a negative or fractional `maxRuns` / `finishedRunTtlMs`. */
  constructor(options: MemoryWorkflowStoreOptions = {}) {
    const retention = checkRetention({
      ...options,
      maxRuns: options.maxRuns ?? DEFAULT_MEMORY_MAX_RUNS,
    });
    this.#maxRuns = retention.maxRuns;
    this.#ttlMs = retention.finishedRunTtlMs;
    this.#clock = options.clock ?? systemClock;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Drops every record. Idempotent. */
  close(): Promise<void> {
    return this.#life.close(() => {
      this.#runs.clear();
      this.#finished.clear();
    });
  }

  /** Same as `close()`, so `await using store = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  createRun(run: NewWorkflowRun, owner: string, leaseMs: number): Promise<void> {
    return this.#op('createRun', () => {
      checkNewRun(run, owner, leaseMs);
      if (this.#runs.has(run.id)) {
        throw new InvalidStateError(`workflow run ${run.id} already exists`, {
          code: 'ERR_WORKFLOW_RUN_EXISTS',
        });
      }
      this.#sweep();
      this.#evictForInsert();
      const now = this.#clock.now();
      this.#runs.set(run.id, {
        run: {
          id: run.id,
          workflowId: run.workflowId,
          definitionHash: run.definitionHash,
          status: run.status,
          input: copyJson(run.input),
          output: null,
          error: null,
          createdAt: now,
          startedAt: run.startedAt,
          completedAt: null,
          updatedAt: now,
          owner,
          leaseExpiresAt: now + leaseMs,
        },
        steps: new Map(run.steps?.map((record) => [record.stepId, copyStep(record)])),
      });
    });
  }

  getRun(runId: string): Promise<WorkflowRunRecord | undefined> {
    return this.#op('getRun', () => {
      checkId('runId', runId);
      const entry = this.#runs.get(runId);
      return entry === undefined ? undefined : copyRun(entry.run);
    });
  }

  updateRun(runId: string, owner: string, patch: WorkflowRunPatch): Promise<boolean> {
    return this.#op('updateRun', () => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkRunPatch(patch);
      const entry = this.#runs.get(runId);
      if (entry?.run.owner !== owner) return false;
      const run = entry.run;
      const status = patch.status ?? run.status;
      run.status = status;
      if (patch.output !== undefined) run.output = copyJson(patch.output);
      if (patch.error !== undefined) run.error = patch.error;
      if (patch.startedAt !== undefined) run.startedAt = patch.startedAt;
      if (patch.completedAt !== undefined) run.completedAt = patch.completedAt;
      run.updatedAt = this.#clock.now();
      if (isTerminalRunStatus(status)) {
        run.owner = null;
        run.leaseExpiresAt = null;
      }
      this.#trackFinished(run);
      return true;
    });
  }

  listRuns(query?: ListRunsQuery): Promise<WorkflowRunRecord[]> {
    return this.#op('listRuns', () => {
      const q = checkListQuery(query);
      const statuses = q.statuses === undefined ? undefined : new Set(q.statuses);
      const matching: WorkflowRunRecord[] = [];
      for (const { run } of this.#runs.values()) {
        if (q.workflowId !== undefined && run.workflowId !== q.workflowId) continue;
        if (statuses !== undefined && !statuses.has(run.status)) continue;
        matching.push(run);
      }
      return matching
        .sort(byCreation)
        .slice(q.offset, q.offset + q.limit)
        .map(copyRun);
    });
  }

  listResumable(limit?: number): Promise<WorkflowRunRecord[]> {
    return this.#op('listResumable', () => {
      const max = checkLimit('limit', limit);
      const now = this.#clock.now();
      const matching: WorkflowRunRecord[] = [];
      for (const { run } of this.#runs.values()) {
        if (run.status !== 'pending' && run.status !== 'running') continue;
        if (run.owner !== null && run.leaseExpiresAt !== null && run.leaseExpiresAt > now) continue;
        matching.push(run);
      }
      return matching.sort(byCreation).slice(0, max).map(copyRun);
    });
  }

  claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    return this.#op('claimRun', (): ClaimResult => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      const entry = this.#runs.get(runId);
      if (entry === undefined) return { claimed: false, run: undefined };
      const now = this.#clock.now();
      const { run } = entry;
      const free =
        run.owner === null ||
        run.owner === owner ||
        run.leaseExpiresAt === null ||
        run.leaseExpiresAt <= now;
      if (!free) return { claimed: false, run: copyRun(run) };
      run.owner = owner;
      run.leaseExpiresAt = now + leaseMs;
      run.updatedAt = now;
      return { claimed: true, run: copyRun(run) };
    });
  }

  renewLease(runId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#op('renewLease', () => {
      checkId('runId', runId);
      checkId('owner', owner);
      checkLeaseMs(leaseMs);
      const entry = this.#runs.get(runId);
      if (entry?.run.owner !== owner) return false;
      const now = this.#clock.now();
      entry.run.leaseExpiresAt = now + leaseMs;
      entry.run.updatedAt = now;
      return true;
    });
  }

  releaseRun(runId: string, owner: string): Promise<boolean> {
    return this.#op('releaseRun', () => {
      checkId('runId', runId);
      checkId('owner', owner);
      const entry = this.#runs.get(runId);
      if (entry?.run.owner !== owner) return false;
      entry.run.owner = null;
      entry.run.leaseExpiresAt = null;
      entry.run.updatedAt = this.#clock.now();
      return true;
    });
  }

  saveStep(owner: string, record: StepRecord): Promise<boolean> {
    // #op inlined: every step writes twice, and its closure and promise are garbage.
    try {
      this.#life.assertOpen('saveStep');
      checkId('owner', owner);
      checkStepRecord(record);
      const entry = this.#runs.get(record.runId);
      if (entry?.run.owner !== owner) return FALSE;
      entry.steps.set(record.stepId, copyStep(record));
      entry.run.updatedAt = this.#clock.now();
      return TRUE;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  getSteps(runId: string): Promise<StepRecord[]> {
    return this.#op('getSteps', () => {
      checkId('runId', runId);
      const entry = this.#runs.get(runId);
      if (entry === undefined) return [];
      return [...entry.steps.values()]
        .sort((a, b) => {
          if (a.startedAt !== b.startedAt) {
            if (a.startedAt === null) return 1;
            if (b.startedAt === null) return -1;
            return a.startedAt - b.startedAt;
          }
          return a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0;
        })
        .map(copyStep);
    });
  }

  deleteRun(runId: string): Promise<boolean> {
    return this.#op('deleteRun', () => {
      checkId('runId', runId);
      this.#finished.delete(runId);
      return this.#runs.delete(runId);
    });
  }

  sweep(): Promise<number> {
    return this.#op('sweep', () => this.#sweep());
  }

  countRuns(): Promise<number> {
    return this.#op('countRuns', () => this.#runs.size);
  }

  /** Runs stored right now (synchronous, for tests and metrics). */
  get runCount(): number {
    return this.#runs.size;
  }

  /** Step records stored right now, over all runs. */
  get stepCount(): number {
    let n = 0;
    for (const entry of this.#runs.values()) n += entry.steps.size;
    return n;
  }

  #op<T>(operation: string, body: () => T): Promise<T> {
    try {
      this.#life.assertOpen(operation);
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #trackFinished(run: WorkflowRunRecord): void {
    this.#finished.delete(run.id);
    if (!isTerminalRunStatus(run.status)) return;
    const at = run.completedAt ?? run.updatedAt;
    const outOfOrder = this.#finished.size > 0 && at < this.#lastFinished.at;
    this.#finished.set(run.id, at);
    if (outOfOrder) {
      // A wall clock that went backwards: restore completedAt order.
      this.#finished = new Map(
        [...this.#finished].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      );
    }
    let lastId = run.id;
    let lastAt = at;
    if (outOfOrder) for (const [id, v] of this.#finished) [lastId, lastAt] = [id, v];
    this.#lastFinished = { id: lastId, at: lastAt };
  }

  #sweep(): number {
    if (this.#ttlMs === undefined) return 0;
    const cutoff = this.#clock.now() - this.#ttlMs;
    let removed = 0;
    for (const [id, at] of this.#finished) {
      if (at > cutoff) break;
      this.#finished.delete(id);
      this.#runs.delete(id);
      removed++;
    }
    return removed;
  }

  #evictForInsert(): void {
    if (this.#maxRuns === 0) return;
    for (const id of this.#finished.keys()) {
      if (this.#runs.size < this.#maxRuns) return;
      this.#finished.delete(id);
      this.#runs.delete(id);
    }
  }
}
