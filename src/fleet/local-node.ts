import type { JsonValue } from '../core/codec.js';
import { nonEmptyString } from '../core/validate.js';
import type { ManagedQueue } from '../queue/managed-queue.js';
import { parseResourcePool } from '../queue/resource-ledger.js';
import type { ResourcePool } from '../queue/types.js';
import type { FleetJobPayload, FleetNode, FleetNodeLoad, FleetTask } from './types.js';

/**
 * A fleet node backed by a {@link ManagedQueue} in this process. Its queue holds
 * `{ jobId, payload }`: workers read the fleet job id from `job.payload.jobId`, which
 * stays the same if the job is stolen by another node.
 */
export class LocalFleetNode<T extends JsonValue = JsonValue> implements FleetNode<T> {
  readonly nodeId: string;
  readonly resources: ResourcePool | undefined;
  /** The node's queue: workers dequeue from it; payloads carry the fleet job id. */
  readonly queue: ManagedQueue<FleetJobPayload<T>>;
  /** Queued jobs only: fleet id → local id, and back. */
  readonly #local = new Map<string, string>();
  readonly #fleet = new Map<string, string>();
  readonly #listeners = new Set<(jobId: string) => void>();

  /**
   * Wraps `queue` as fleet node `nodeId`; `options.resources` is the node's capacity for fitting
   * jobs.
   */
  constructor(
    nodeId: string,
    queue: ManagedQueue<FleetJobPayload<T>>,
    options: { readonly resources?: ResourcePool } = {},
  ) {
    this.nodeId = nonEmptyString('nodeId', nodeId, 1024);
    this.queue = queue;
    this.resources =
      options.resources === undefined ? undefined : parseResourcePool(options.resources);
    queue.onEvent((event) => {
      if (event.type === 'dequeued' || event.type === 'stateChanged' || event.type === 'evicted') {
        this.#left(event.id);
      }
    });
  }

  async enqueue(task: FleetTask<T>): Promise<void> {
    const localId = await this.queue.enqueue(
      task.priority,
      { jobId: task.id, payload: task.payload },
      task.resources === undefined ? {} : { resources: task.resources },
    );
    // A waiting worker may already have taken it.
    if (this.queue.get(localId)?.state === 'queued') {
      this.#local.set(task.id, localId);
      this.#fleet.set(localId, task.id);
    } else {
      this.#notify(task.id);
    }
  }

  load(): Promise<FleetNodeLoad> {
    return Promise.resolve({ queued: this.queue.queuedCount, running: this.queue.runningCount });
  }

  async take(jobIds: readonly string[]): Promise<FleetTask<T>[]> {
    const out: FleetTask<T>[] = [];
    for (const id of jobIds) {
      const localId = this.#local.get(id);
      if (localId === undefined) continue;
      const job = this.queue.get(localId);
      if (job?.state !== 'queued') continue;
      // Forget it first, so the cancellation below is not reported as a dequeue.
      this.#local.delete(id);
      this.#fleet.delete(localId);
      await this.queue.cancel(localId);
      out.push({
        id,
        priority: job.priority,
        payload: job.payload.payload,
        ...(job.resources === undefined ? {} : { resources: job.resources }),
      });
    }
    return out;
  }

  onDequeued(listener: (jobId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #left(localId: string): void {
    const id = this.#fleet.get(localId);
    if (id === undefined) return;
    this.#fleet.delete(localId);
    this.#local.delete(id);
    this.#notify(id);
  }

  #notify(jobId: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(jobId);
      } catch {
        // Listeners own their errors.
      }
    }
  }
}
