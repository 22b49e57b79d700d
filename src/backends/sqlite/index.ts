/**
 * SQLite backends (better-sqlite3 12.x, an optional peer dependency): durable storage
 * for `ManagedQueue` through the `QueueStore` port, and for the workflow engine through
 * the `WorkflowStore` port.
 *
 * @example
 * ```ts
 * import { SqliteQueueStore, SqliteWorkflowStore } from 'majra/sqlite';
 * import { ManagedQueue, Priority } from 'majra/queue';
 * import { WorkflowEngine } from 'majra/workflow';
 *
 * const store = SqliteQueueStore.open('jobs.db');
 * const queue = await ManagedQueue.restore<{ n: number }>(store, { running: 'requeue' });
 * await queue.enqueue(Priority.Normal, { n: 1 }); // committed to jobs.db before it resolves
 * await queue.close();
 * await store.close();
 *
 * const workflows = SqliteWorkflowStore.open('workflows.db');
 * const engine = new WorkflowEngine({ store: workflows });
 * await engine.resumeInterrupted(); // pick up runs a crashed process left behind
 * ```
 *
 * @module
 */
export { SqliteQueueStore } from './queue-store.js';
export type { SqliteQueueStoreOptions } from './queue-store.js';
export { SqliteWorkflowStore } from './workflow-store.js';
export type { SqliteWorkflowStoreOptions } from './workflow-store.js';
