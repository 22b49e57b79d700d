/**
 * Group commit of step writes for {@link PostgresWorkflowStore}: `saveStep` calls made in
 * the same event-loop turn (once the microtasks of that turn have run) go to the server
 * as one statement, hence one round trip and one commit. In a linear workflow that batch
 * is the last step's outcome plus the next step's `running` record, so a step costs one
 * commit instead of two. One batch is in flight at a time, so batches commit in call
 * order, which is what lets the engine skip waiting for a step's final write
 * ({@link WorkflowStore.writesInOrder}).
 *
 * @internal
 * @module
 */
import type { StepRecord } from '../../workflow/types.js';

/** One queued write (a step record, or a run update) and its caller's settlement. */
type QueuedWrite = (
  | { readonly owner: string; readonly record: StepRecord; readonly output: string }
  | { readonly update: RunUpdate }
) & {
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: Error) => void;
};

/**
 * A fenced run update, as the `saveSteps` statement takes it after the step columns:
 * run id, owner, then flag and value of status, output JSON text, error, started_at,
 * completed_at, and whether the update releases the lease.
 */
export type RunUpdate = [
  runId: string,
  owner: string,
  hasStatus: boolean,
  status: string | null,
  hasOutput: boolean,
  output: string | null,
  hasError: boolean,
  error: string | null,
  hasStartedAt: boolean,
  startedAt: number | null,
  hasCompletedAt: boolean,
  completedAt: number | null,
  terminal: boolean,
];

/** Column arrays of the `saveSteps` statement (after `$1`, the time of the touch). */
export type StepColumns = [
  owners: string[],
  runIds: string[],
  stepIds: string[],
  statuses: string[],
  attempts: number[],
  outputs: string[],
  errors: (string | null)[],
  startedAt: (number | null)[],
  completedAt: (number | null)[],
  durationMs: (number | null)[],
  fallbackStepIds: (string | null)[],
];

/** The `saveRunSteps` patch parameters of a batch without a run update. */
export const NO_RUN_UPDATE: readonly unknown[] = Object.freeze([
  false,
  null,
  false,
  null,
  false,
  null,
  false,
  null,
  false,
  null,
  false,
]);

/**
 * The step columns of the `insertRun` statement (every field but owner and run id, which
 * the run supplies) for the records stored with a new run.
 */
export function stepColumns(records: readonly StepRecord[]): unknown[][] {
  return [
    records.map((r) => r.stepId),
    records.map((r) => r.status),
    records.map((r) => r.attempt),
    records.map((r) => JSON.stringify(r.output)),
    records.map((r) => r.error),
    records.map((r) => r.startedAt),
    records.map((r) => r.completedAt),
    records.map((r) => r.durationMs),
    records.map((r) => r.fallbackStepId),
  ];
}

/**
 * The (run id, owner) pair every write of a batch shares, or `undefined` when the batch
 * spans several (then it needs the general `saveSteps` statement).
 */
export function onePair(
  columns: StepColumns,
  updates: readonly RunUpdate[],
): [runId: string, owner: string] | undefined {
  if (updates.length > 1) return undefined;
  const [owners, runIds] = columns;
  const runId = updates[0]?.[0] ?? runIds[0];
  const owner = updates[0]?.[1] ?? owners[0];
  if (runId === undefined || owner === undefined) return undefined;
  for (let i = 0; i < runIds.length; i++) {
    if (runIds[i] !== runId || owners[i] !== owner) return undefined;
  }
  return [runId, owner];
}

/** The run updates of a batch as the 13 column arrays `saveSteps` takes after the steps. */
export function updateColumns(updates: readonly RunUpdate[]): unknown[][] {
  return Array.from({ length: 13 }, (_, field) => updates.map((update) => update[field]));
}

/**
 * The step columns of `saveRunSteps` (every field but owner and run id) for a one-pair
 * batch, keeping the last write of each step id: one statement cannot upsert a row twice.
 */
export function lastPerStep(columns: StepColumns): unknown[][] {
  const stepIds = columns[2];
  const last = new Map<string, number>();
  for (let i = 0; i < stepIds.length; i++) last.set(stepIds[i] ?? '', i);
  const keep = [...last.values()];
  return columns.slice(2).map((column) => keep.map((i) => (column as unknown[])[i]));
}

/**
 * Writes a batch; resolves with the keys ({@link fenceKey}) of the (run, owner) pairs
 * that held the lease, or rejects with the error every write of the batch gets.
 */
export type WriteBatch = (
  columns: StepColumns,
  updates: readonly RunUpdate[],
) => Promise<ReadonlySet<string>>;

/** Most writes sent in one statement; the rest go in the next batch. */
const MAX_BATCH = 1000;

/** The key a batch reports a held lease under. */
export function fenceKey(runId: string, owner: string): string {
  return `${owner}\u0000${runId}`;
}

/** @internal Queues step writes and commits them in order, one batch at a time. */
export class StepWriter {
  readonly #write: WriteBatch;
  readonly #queue: QueuedWrite[] = [];
  #inFlight: Promise<void> | undefined;
  #scheduled = false;

  constructor(write: WriteBatch) {
    this.#write = write;
  }

  /** True when no write is queued or in flight. */
  get idle(): boolean {
    return this.#inFlight === undefined && this.#queue.length === 0;
  }

  /**
   * Queues a validated write (`output` is the record's output as JSON text); resolves
   * `true` when written, `false` when fenced out.
   */
  save(owner: string, record: StepRecord, output: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#enqueue({ owner, record, output, resolve, reject });
    });
  }

  /**
   * Queues a validated run update behind the writes queued so far: it commits in the
   * same statement as those not yet sent. Resolves `true` when written, `false` when
   * fenced out.
   */
  update(update: RunUpdate): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#enqueue({ update, resolve, reject });
    });
  }

  #enqueue(item: QueuedWrite): void {
    this.#queue.push(item);
    if (!this.#scheduled && this.#inFlight === undefined) {
      this.#scheduled = true;
      // process.nextTick runs once the current turn's microtasks are drained: the
      // writes an engine issues in one burst (a step's outcome, its dependents'
      // starts) share the batch without waiting for another event-loop turn.
      process.nextTick(() => {
        this.#scheduled = false;
        this.#next();
      });
    }
  }

  /** Resolves once every write queued so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (!this.idle) {
      if (this.#inFlight === undefined) this.#next();
      await this.#inFlight;
    }
  }

  #next(): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    // One statement applies each run's update once and fences each (run, owner) pair
    // once, so a write that follows an update of its run (in call order) waits for the
    // next batch, where it meets the updated row.
    const updated = new Set<string>();
    let size = 0;
    while (size < this.#queue.length && size < MAX_BATCH) {
      const item = this.#queue[size];
      if (item === undefined) break;
      const runId = 'update' in item ? item.update[0] : item.record.runId;
      if (updated.has(runId)) break;
      if ('update' in item) updated.add(runId);
      size++;
    }
    const batch = this.#queue.splice(0, size);
    this.#inFlight = this.#commit(batch).finally(() => {
      this.#inFlight = undefined;
      // Writes queued while this batch was in flight follow it at once.
      this.#next();
    });
  }

  async #commit(batch: readonly QueuedWrite[]): Promise<void> {
    const columns: StepColumns = [[], [], [], [], [], [], [], [], [], [], []];
    const updates: RunUpdate[] = [];
    for (const item of batch) {
      if ('update' in item) {
        updates.push(item.update);
        continue;
      }
      const { owner, record, output } = item;
      columns[0].push(owner);
      columns[1].push(record.runId);
      columns[2].push(record.stepId);
      columns[3].push(record.status);
      columns[4].push(record.attempt);
      columns[5].push(output);
      columns[6].push(record.error);
      columns[7].push(record.startedAt);
      columns[8].push(record.completedAt);
      columns[9].push(record.durationMs);
      columns[10].push(record.fallbackStepId);
    }
    let held: ReadonlySet<string>;
    try {
      held = await this.#write(columns, updates);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const item of batch) item.reject(reason);
      return;
    }
    for (const item of batch) {
      const [runId, owner] = 'update' in item ? item.update : [item.record.runId, item.owner];
      item.resolve(held.has(fenceKey(runId, owner)));
    }
  }
}
