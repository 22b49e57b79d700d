import { InvalidStateError } from '../core/errors.js';
import type { JobTransition, QueueStore, StoredJob } from './types.js';

function conflict(message: string, id: string): InvalidStateError {
  return new InvalidStateError(message, { code: 'ERR_QUEUE_STORE_CONFLICT', details: { id } });
}

/**
 * A {@link QueueStore} in process memory: rows survive a `ManagedQueue` being closed
 * and restored within one process, not a process exit. It is the reference
 * implementation of the port (it runs the same conformance suite as the SQLite and
 * PostgreSQL stores) and handy in tests. Rows are kept as frozen copies; its size is
 * whatever the queue has not evicted.
 *
 * @example
 * ```ts
 * const store = new MemoryQueueStore();
 * const a = await ManagedQueue.restore(store, { running: 'requeue' });
 * await a.enqueue(Priority.Normal, { n: 1 });
 * await a.close();
 * const b = await ManagedQueue.restore(store, { running: 'requeue' }); // same job, same id
 * ```
 */
export class MemoryQueueStore implements QueueStore {
  readonly #rows = new Map<string, StoredJob>();

  /** Rows held. */
  get size(): number {
    return this.#rows.size;
  }

  insert(job: StoredJob): void {
    if (this.#rows.has(job.id)) throw conflict(`job ${job.id} already exists in the store`, job.id);
    this.#rows.set(job.id, Object.freeze({ ...job }));
  }

  transition(change: JobTransition): void {
    const row = this.#rows.get(change.id);
    if (row?.state !== change.from) {
      throw conflict(
        row === undefined
          ? `job ${change.id} is not in the store`
          : `job ${change.id} is ${row.state} in the store, expected ${change.from}`,
        change.id,
      );
    }
    this.#rows.set(
      change.id,
      Object.freeze({
        ...row,
        state: change.to,
        attempts: change.attempts,
        startedAt: change.startedAt,
        finishedAt: change.finishedAt,
      }),
    );
  }

  load(): StoredJob[] {
    return [...this.#rows.values()].sort((a, b) => a.seq - b.seq);
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) this.#rows.delete(id);
  }
}
