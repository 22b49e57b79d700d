import { defineMetric } from '../../core/metrics.js';

/** Jobs inserted (idempotent duplicates excluded). */
export const JOBS_ENQUEUED = defineMetric({
  name: 'majra_postgres_jobs_enqueued_total',
  type: 'counter',
  help: 'Jobs inserted into the PostgreSQL job queue.',
});
/** Jobs handed to a worker by a claim. */
export const JOBS_CLAIMED = defineMetric({
  name: 'majra_postgres_jobs_claimed_total',
  type: 'counter',
  help: 'Jobs claimed from the PostgreSQL job queue.',
});
/** Jobs acknowledged as completed. */
export const JOBS_COMPLETED = defineMetric({
  name: 'majra_postgres_jobs_completed_total',
  type: 'counter',
  help: 'Jobs completed (acknowledged) in the PostgreSQL job queue.',
});
/** Failed attempts, by outcome: retry or dead. */
export const JOBS_FAILED = defineMetric({
  name: 'majra_postgres_jobs_failed_total',
  type: 'counter',
  help: 'Failed job attempts, by outcome (retry, dead).',
  labelNames: ['outcome'],
});
/** Jobs cancelled. */
export const JOBS_CANCELLED = defineMetric({
  name: 'majra_postgres_jobs_cancelled_total',
  type: 'counter',
  help: 'Jobs cancelled in the PostgreSQL job queue.',
});
/** Jobs whose lease expired and were taken back. */
export const JOBS_REAPED = defineMetric({
  name: 'majra_postgres_jobs_reaped_total',
  type: 'counter',
  help: 'Running jobs whose lease expired and were requeued or dead-lettered.',
});
/** Acks that found the lease gone (cancelled, reaped, or reclaimed). */
export const LEASES_LOST = defineMetric({
  name: 'majra_postgres_jobs_leases_lost_total',
  type: 'counter',
  help: 'Acks, nacks or renewals that found the job no longer held by this worker.',
});
/** Handler run time. */
export const JOB_DURATION = defineMetric({
  name: 'majra_postgres_job_duration_seconds',
  type: 'histogram',
  help: 'Time from claim to ack or nack of a job, in seconds.',
  buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
});
/** Queue-store and workflow-store operations, by outcome. */
export const STORE_OPERATIONS = defineMetric({
  name: 'majra_postgres_store_operations_total',
  type: 'counter',
  help: 'PostgreSQL store operations, by store (queue, workflow), operation and outcome (ok, conflict, error).',
  labelNames: ['store', 'operation', 'outcome'],
});
/** Migrations applied. */
export const MIGRATIONS_APPLIED = defineMetric({
  name: 'majra_postgres_migrations_applied_total',
  type: 'counter',
  help: 'Schema migrations applied by migrate (0 when the schema was already current).',
});

/** Base labels of the queue store. @internal */
export const QUEUE_STORE_LABELS = Object.freeze({ store: 'queue' });
/** Base labels of the workflow store. @internal */
export const WORKFLOW_STORE_LABELS = Object.freeze({ store: 'workflow' });
