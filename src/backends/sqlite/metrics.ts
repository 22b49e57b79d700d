/**
 * Metric definitions of the SQLite stores. Labels are bounded: `store` is `queue` or
 * `workflow`, `operation` a store method name, `outcome` is `ok`, `conflict` (a
 * compare-and-set refused) or `error`; queue names,
 * run ids and paths are never labels.
 *
 * @module
 */
import { defineMetric } from '../../core/metrics.js';

/** Store operations, by store, operation and outcome. */
export const SQLITE_STORE_OPERATIONS = defineMetric({
  name: 'majra_sqlite_store_operations_total',
  type: 'counter',
  help: 'SQLite store operations, by store (queue, workflow), operation and outcome (ok, conflict, error).',
  labelNames: ['store', 'operation', 'outcome'],
});

/** Base labels of the queue store. @internal */
export const QUEUE_STORE_LABELS = Object.freeze({ store: 'queue' });
/** Base labels of the workflow store. @internal */
export const WORKFLOW_STORE_LABELS = Object.freeze({ store: 'workflow' });
