/**
 * In-process job queues: a five-tier `PriorityQueue` (O(1), FIFO per tier), an awaitable
 * `ConcurrentPriorityQueue`, a `DagScheduler` for dependency ordering, and
 * `ManagedQueue`, a job queue with lifecycle states, resource-fitting dequeue, an exact
 * concurrency cap, per-job cancellation signals, finished-job TTL, bounded event
 * streams, metrics, and durable storage through the `QueueStore` port
 * (`SqliteQueueStore` in `majra/sqlite`).
 *
 * @example
 * ```ts
 * import { ManagedQueue, Priority } from 'majra/queue';
 *
 * const queue = new ManagedQueue<{ file: string }>({ maxConcurrency: 2 });
 * await queue.enqueue(Priority.High, { file: 'a.png' }, { resources: { gpuCount: 1, vramMb: 8000 } });
 * const job = await queue.dequeueWait({ gpuCount: 1, vramMb: 24_000 });
 * job.signal?.addEventListener('abort', () => console.log('cancelled'));
 * await queue.complete(job.id);
 * ```
 *
 * @module
 */
export {
  Priority,
  PRIORITY_NAMES,
  PRIORITY_COUNT,
  PRIORITIES_DESCENDING,
  isPriority,
  parsePriority,
  priorityName,
} from './priority.js';
export type { PriorityName } from './priority.js';
export { PriorityQueue, createQueueItem } from './priority-queue.js';
export type { QueueItem, PriorityQueueOptions } from './priority-queue.js';
export { ConcurrentPriorityQueue } from './concurrent-priority-queue.js';
export { DagScheduler, topologicalSort } from './dag-scheduler.js';
export type { Dag } from './dag-scheduler.js';
export {
  ResourceLedger,
  UNLIMITED_POOL,
  poolSatisfies,
  parseResourceReq,
  parseResourcePool,
} from './resource-ledger.js';
export { ManagedQueue } from './managed-queue.js';
export type {
  ManagedQueueOptions,
  RestoreOptions,
  EnqueueOptions,
} from './managed-queue-options.js';
export type { QueueEventStream, QueueEventStreamOptions, QueueEventListener } from './event-hub.js';
export { MemoryQueueStore } from './memory-queue-store.js';
export { JOB_STATES, isTerminal, isJobState } from './types.js';
export type {
  Awaitable,
  JobState,
  ResourceReq,
  ResourcePool,
  StoredJob,
  JobTransition,
  QueueStore,
  QueueEvent,
  ManagedJob,
} from './types.js';
export {
  QUEUE_ENQUEUED,
  QUEUE_DEQUEUED,
  QUEUE_TRANSITIONS,
  QUEUE_DEPTH,
  QUEUE_RUNNING,
  QUEUE_EVICTED,
  QUEUE_EVENTS_DROPPED,
  QUEUE_STORE_ERRORS,
} from './metrics.js';
