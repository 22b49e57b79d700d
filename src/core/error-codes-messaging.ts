/**
 * Error codes of the in-process messaging primitives: pub/sub, queues and workflows.
 * Part of `ERROR_CODES` (error-codes.ts), which lists every area in the order of
 * docs/errors.md; append new codes at the end of their area.
 *
 * @module
 */
import type { CodeEntry } from './error-codes.js';

/** The pub/sub, queue and workflow codes, in docs/errors.md order. */
export const MESSAGING_ERROR_CODES = {
  // --- pubsub -----------------------------------------------------------------------
  ERR_PUBSUB_INVALID_TOPIC: {
    errorClass: 'InvalidArgumentError',
    description:
      'A published topic is empty, deeper than 32 levels, too long, or contains `+`, `*`, `#` or NUL.',
  },
  ERR_PUBSUB_INVALID_PATTERN: {
    errorClass: 'InvalidArgumentError',
    description:
      'A subscription pattern is empty, deeper than 32 levels, has a partial-level wildcard or a `#` that is not last.',
  },
  ERR_PUBSUB_CLOSED: {
    errorClass: 'ClosedError',
    description: 'The pub/sub hub or channel was closed; it accepts no publish or subscribe.',
  },
  ERR_PUBSUB_RECEIVER_CLOSED: {
    errorClass: 'ClosedError',
    description:
      'The receiver was closed (by its consumer, or its producer ended and it is drained).',
  },
  ERR_PUBSUB_SUBSCRIPTION_LIMIT: {
    errorClass: 'CapacityExceededError',
    description: 'The hub already holds `maxSubscriptions` subscriptions.',
  },
  ERR_PUBSUB_FULL: {
    errorClass: 'CapacityExceededError',
    description:
      "A subscriber with the 'block' overflow policy is full; synchronous publish refuses (use publishAsync).",
  },
  // --- queue ------------------------------------------------------------------------
  ERR_QUEUE_INVALID_PRIORITY: {
    errorClass: 'InvalidArgumentError',
    description: 'A priority is not one of the five tiers (an integer 0..4 or a tier name).',
  },
  ERR_QUEUE_INVALID_RESOURCES: {
    errorClass: 'InvalidArgumentError',
    description:
      'A resource request or pool has a negative, NaN or non-integer GPU count or VRAM size.',
  },
  ERR_QUEUE_DAG_CYCLE: {
    errorClass: 'InvalidArgumentError',
    description:
      'A dependency graph contains a cycle; `details.members` lists the unresolved nodes.',
  },
  ERR_QUEUE_JOB_NOT_FOUND: {
    errorClass: 'NotFoundError',
    description: 'No job with that id exists in the queue (never enqueued, or already evicted).',
  },
  ERR_QUEUE_INVALID_TRANSITION: {
    errorClass: 'InvalidStateError',
    description:
      'A job state change that the lifecycle does not allow (e.g. completing a queued job).',
  },
  ERR_QUEUE_FULL: {
    errorClass: 'CapacityExceededError',
    description: 'Enqueue refused: the queue already holds `maxQueued` queued jobs.',
  },
  ERR_QUEUE_STORE_FAILED: {
    errorClass: 'BackendError',
    description:
      'The QueueStore failed; the operation was rejected and in-memory state is unchanged.',
  },
  ERR_QUEUE_STORE_CONFLICT: {
    errorClass: 'InvalidStateError',
    description:
      'The QueueStore row is not in the expected state (duplicate id, missing row, or changed by another writer).',
  },
  ERR_QUEUE_STORE_CORRUPT: {
    errorClass: 'BackendError',
    description:
      'A row loaded from the QueueStore has an unknown state, priority or malformed field.',
  },
  // --- workflow ---------------------------------------------------------------------
  ERR_WORKFLOW_INVALID_DEFINITION: {
    errorClass: 'InvalidArgumentError',
    description:
      'A workflow definition is malformed: empty, duplicate or unknown step ids, bad retry, timeout or fallback.',
  },
  ERR_WORKFLOW_CYCLE: {
    errorClass: 'InvalidArgumentError',
    description: 'A workflow definition has a dependency cycle; the message names the cycle path.',
  },
  ERR_WORKFLOW_NOT_REGISTERED: {
    errorClass: 'NotFoundError',
    description: 'No workflow with this id is registered on the engine.',
  },
  ERR_WORKFLOW_ALREADY_REGISTERED: {
    errorClass: 'InvalidStateError',
    description: 'A workflow with this id is already registered on the engine.',
  },
  ERR_WORKFLOW_RUN_NOT_FOUND: {
    errorClass: 'NotFoundError',
    description: 'No run with this id exists (in the store, or active on this engine).',
  },
  ERR_WORKFLOW_RUN_EXISTS: {
    errorClass: 'InvalidStateError',
    description: 'A run with this id is already stored.',
  },
  ERR_WORKFLOW_RUN_NOT_ACTIVE: {
    errorClass: 'InvalidStateError',
    description: 'The run is not executing on this engine (finished, or run by another engine).',
  },
  ERR_WORKFLOW_LEASE_HELD: {
    errorClass: 'InvalidStateError',
    description:
      'Another engine holds a live lease on the run; it can be resumed once that lease expires.',
  },
  ERR_WORKFLOW_LEASE_LOST: {
    errorClass: 'InvalidStateError',
    description:
      'The engine lost its lease on the run (another engine took over); it stopped working on it.',
  },
  ERR_WORKFLOW_DEFINITION_MISMATCH: {
    errorClass: 'InvalidStateError',
    description:
      'A run is resumed with a definition whose shape differs from the one it was started with.',
  },
  ERR_WORKFLOW_STEP_FAILED: {
    errorClass: 'InvalidStateError',
    description: 'A step exhausted its attempts under the `fail` policy, so the run failed.',
  },
  ERR_WORKFLOW_STEP_TIMEOUT: {
    errorClass: 'TimeoutError',
    description: 'A step attempt ran longer than its `timeoutMs`; its signal was aborted.',
  },
  ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE: {
    errorClass: 'InvalidArgumentError',
    description: 'A step result or run input cannot be stored as JSON (or exceeds the size limit).',
  },
  ERR_WORKFLOW_STORAGE: {
    errorClass: 'BackendError',
    description: 'The workflow store failed; `cause` holds the driver error.',
  },
} as const satisfies Record<string, CodeEntry>;
