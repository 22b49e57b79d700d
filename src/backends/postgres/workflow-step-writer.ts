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

/** One queued write and its caller's settlement. */
interface QueuedWrite {
  readonly owner: string;
  readonly record: StepRecord;
  readonly output: string;
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: Error) => void;
}

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

/**
 * Writes a batch; resolves with the keys ({@link fenceKey}) of the (run, owner) pairs
 * that held the lease, or rejects with the error every write of the batch gets.
 */
export type WriteBatch = (columns: StepColumns) => Promise<ReadonlySet<string>>;

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
      this.#queue.push({ owner, record, output, resolve, reject });
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
    });
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
    const batch = this.#queue.splice(0, MAX_BATCH);
    this.#inFlight = this.#commit(batch).finally(() => {
      this.#inFlight = undefined;
      // Writes queued while this batch was in flight follow it at once.
      this.#next();
    });
  }

  async #commit(batch: readonly QueuedWrite[]): Promise<void> {
    const columns: StepColumns = [[], [], [], [], [], [], [], [], [], [], []];
    for (const { owner, record, output } of batch) {
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
      held = await this.#write(columns);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const item of batch) item.reject(reason);
      return;
    }
    for (const item of batch) item.resolve(held.has(fenceKey(item.record.runId, item.owner)));
  }
}
