/**
 * Metric definitions of the workflow engine. Labels take values from small fixed sets
 * (never a run, step or workflow id).
 *
 * @module
 */
import { defineMetric, labelTable } from '../core/metrics.js';

// Seconds, the Prometheus base unit (as every other majra duration metric).
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];

/** Runs by lifecycle event: started, resumed, completed, failed, cancelled, lease_lost, interrupted. */
export const WORKFLOW_RUNS_TOTAL = defineMetric({
  name: 'majra_workflow_runs_total',
  type: 'counter',
  help: 'Workflow runs by lifecycle event.',
  labelNames: ['event'],
});

/** Wall time of finished runs by final status (from start or resume to the end). */
export const WORKFLOW_RUN_DURATION_SECONDS = defineMetric({
  name: 'majra_workflow_run_duration_seconds',
  type: 'histogram',
  help: 'Duration of finished workflow runs in seconds, by final status.',
  labelNames: ['status'],
  buckets: DURATION_BUCKETS,
});

/** Runs executing on this engine. */
export const WORKFLOW_RUNS_ACTIVE = defineMetric({
  name: 'majra_workflow_runs_active',
  type: 'gauge',
  help: 'Workflow runs executing on this engine.',
});

/** Step outcomes: completed, failed, skipped, and attempt-level retried and timed_out. */
export const WORKFLOW_STEPS_TOTAL = defineMetric({
  name: 'majra_workflow_steps_total',
  type: 'counter',
  help: 'Workflow step outcomes and attempt events.',
  labelNames: ['outcome'],
});

/** Step duration (all attempts and backoff) by outcome. */
export const WORKFLOW_STEP_DURATION_SECONDS = defineMetric({
  name: 'majra_workflow_step_duration_seconds',
  type: 'histogram',
  help: 'Duration of workflow steps in seconds (all attempts), by outcome.',
  labelNames: ['outcome'],
  buckets: DURATION_BUCKETS,
});

/** Step attempts in flight on this engine. */
export const WORKFLOW_STEPS_RUNNING = defineMetric({
  name: 'majra_workflow_steps_running',
  type: 'gauge',
  help: 'Workflow step attempts executing on this engine.',
});

/** Store calls that failed (the run fails or the error goes to onError). */
export const WORKFLOW_STORE_ERRORS_TOTAL = defineMetric({
  name: 'majra_workflow_store_errors_total',
  type: 'counter',
  help: 'Workflow store operations that failed.',
  labelNames: ['operation'],
});

/** Events overwritten in slow `events()` streams (drop-oldest). */
export const WORKFLOW_EVENTS_DROPPED_TOTAL = defineMetric({
  name: 'majra_workflow_events_dropped_total',
  type: 'counter',
  help: 'Workflow events dropped from slow event-stream readers (drop-oldest).',
});

/** Frozen `event` labels of {@link WORKFLOW_RUNS_TOTAL}. @internal */
export const RUN_EVENT_LABELS = labelTable('event', [
  'started',
  'resumed',
  'completed',
  'failed',
  'cancelled',
  'lease_lost',
  'interrupted',
]);

/** Frozen `status` labels of {@link WORKFLOW_RUN_DURATION_SECONDS}. @internal */
export const RUN_STATUS_LABELS = labelTable('status', ['completed', 'failed', 'cancelled']);

/** Frozen `outcome` labels of the step metrics. @internal */
export const STEP_OUTCOME_LABELS = labelTable('outcome', [
  'completed',
  'failed',
  'skipped',
  'retried',
  'timed_out',
]);

/** Frozen `operation` labels of {@link WORKFLOW_STORE_ERRORS_TOTAL}. @internal */
export const STORE_OPERATION_LABELS = labelTable('operation', [
  'renewLease',
  'saveStep',
  'updateRun',
]);
