/**
 * PostgreSQL backend: a durable job queue for many workers across processes
 * (`FOR UPDATE SKIP LOCKED` claims, leases, retries, dead-letter, scheduling,
 * cancellation, idempotency keys, LISTEN/NOTIFY wake-ups) and the schema migrations
 * runner. Requires the optional peer dependency `pg`.
 *
 * @example
 * ```ts
 * import { connectPostgresJobQueue } from 'majra/postgres';
 *
 * const jobs = await connectPostgresJobQueue({
 *   connectionString: 'postgres://postgres@127.0.0.1:5432/app',
 *   schema: 'jobs',
 *   onError: (error) => console.error(error),
 * });
 * await jobs.enqueue('email', { to: 'a@example.com' }, { priority: 5 });
 * const worker = jobs.work('email', async (job, { signal }) => {
 *   await sendEmail(job.payload, { signal });
 * }, { concurrency: 8 });
 * // ...
 * await jobs.close(); // stops the worker after its running jobs finish
 * ```
 *
 * @module
 */
export { connectPostgresJobQueue, PostgresJobQueue } from './job-queue.js';
export { JobWorker } from './worker.js';
export { migrate } from './migrate.js';
export type { MigrateOptions, MigrationReport } from './migrate.js';
export { quoteIdentifier, validateSchemaName, DEFAULT_SCHEMA } from './identifier.js';
export type { PostgresConnectionOptions, Queryable } from './pool.js';
export type {
  BackoffOptions,
  ClaimedJob,
  EnqueueCallOptions,
  EnqueueOptions,
  EnqueueResult,
  JobContext,
  JobHandler,
  JobInfo,
  JobState,
  NackOptions,
  PostgresJobQueueOptions,
  RetentionOptions,
  WorkOptions,
} from './job-types.js';
export { connectPostgresQueueStore, PostgresQueueStore } from './queue-store.js';
export type { PostgresQueueStoreOptions } from './queue-store.js';
export { connectPostgresWorkflowStore, PostgresWorkflowStore } from './workflow-store.js';
export type { PostgresWorkflowStoreOptions } from './workflow-store.js';
