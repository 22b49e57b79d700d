/**
 * SQLite backends (better-sqlite3 12.x, an optional peer dependency): durable storage
 * for `ManagedQueue` through the `QueueStore` port.
 *
 * @example
 * ```ts
 * import { SqliteQueueStore } from 'majra/sqlite';
 * import { ManagedQueue, Priority } from 'majra/queue';
 *
 * const store = SqliteQueueStore.open('jobs.db');
 * const queue = await ManagedQueue.restore<{ n: number }>(store, { running: 'requeue' });
 * await queue.enqueue(Priority.Normal, { n: 1 }); // committed to jobs.db before it resolves
 * await queue.close();
 * await store.close();
 * ```
 *
 * @module
 */
export { SqliteQueueStore } from './queue-store.js';
export type { SqliteQueueStoreOptions } from './queue-store.js';
