/**
 * Error codes of the coordination primitives: relay, transport, fleet, heartbeat, rate
 * limiting and barriers. Part of `ERROR_CODES` (error-codes.ts), which lists every area
 * in the order of docs/errors.md; append new codes at the end of their area.
 *
 * @module
 */
import type { CodeEntry } from './error-codes.js';

/**
 * The relay, transport, fleet, heartbeat, rate-limit and barrier codes, in docs/errors.md
 * order.
 */
export const COORDINATION_ERROR_CODES = {
  // --- relay / transport / fleet ----------------------------------------------------
  ERR_RELAY_INVALID_MESSAGE: {
    errorClass: 'ProtocolError',
    description: 'A relay message is missing fields or has fields of the wrong type or range.',
  },
  ERR_RELAY_UNSUPPORTED_VERSION: {
    errorClass: 'ProtocolError',
    description:
      'A binary relay envelope carries a wire version this node does not read (`details.version`).',
  },
  ERR_RELAY_REQUEST_TIMEOUT: {
    errorClass: 'TimeoutError',
    description: 'A relay request got no reply within its `timeoutMs`.',
  },
  ERR_RELAY_REQUEST_EVICTED: {
    errorClass: 'TimeoutError',
    description: 'A pending relay request was removed by `evictStaleRequests` before a reply came.',
  },
  ERR_RELAY_TOO_MANY_REQUESTS: {
    errorClass: 'CapacityExceededError',
    description: 'The relay already has `maxPendingRequests` requests awaiting a reply.',
  },
  ERR_RELAY_NO_ROUTE: {
    errorClass: 'NotFoundError',
    description: 'The relay has no outbound route (router or peer endpoint) for the target node.',
  },
  ERR_RELAY_REMOTE_ERROR: {
    errorClass: 'BackendError',
    description: "The remote node's request handler failed; `details.remoteCode` holds its code.",
  },
  ERR_FLEET_NO_NODE: {
    errorClass: 'NotFoundError',
    description:
      'No healthy fleet node can take the job (none registered, none online, none fits).',
  },
  ERR_FLEET_FULL: {
    errorClass: 'CapacityExceededError',
    description: 'The fleet already tracks `maxTrackedJobs` queued jobs.',
  },
  ERR_TRANSPORT_CIRCUIT_OPEN: {
    errorClass: 'InvalidStateError',
    description:
      'The circuit breaker is open (or its half-open probes are in use); the call was not made.',
  },
  ERR_TRANSPORT_UNKNOWN_ENDPOINT: {
    errorClass: 'NotFoundError',
    description: 'No listener exists at the endpoint, or the endpoint string is malformed.',
  },
  ERR_TRANSPORT_CONNECT_FAILED: {
    errorClass: 'BackendError',
    description: 'Dialling an endpoint failed; `cause` holds the socket error.',
  },
  ERR_TRANSPORT_CONNECTION_CLOSED: {
    errorClass: 'ClosedError',
    description: 'The connection closed (locally or by the peer) before the operation completed.',
  },
  ERR_TRANSPORT_POOL_FULL: {
    errorClass: 'CapacityExceededError',
    description: 'The connection pool tracks `maxEndpoints` endpoints and none can be evicted.',
  },
  // --- heartbeat / ratelimit / barrier ----------------------------------------------
  ERR_HEARTBEAT_CAPACITY: {
    errorClass: 'CapacityExceededError',
    description: "Registering a new node would exceed the tracker's `maxNodes`.",
  },
  ERR_HEARTBEAT_INVALID_TELEMETRY: {
    errorClass: 'InvalidArgumentError',
    description: 'GPU telemetry has a negative, non-finite or out-of-range field.',
  },
  ERR_RATELIMIT_INVALID_KEY: {
    errorClass: 'InvalidArgumentError',
    description: 'A rate-limit key is not a non-empty string of at most 1024 characters.',
  },
  ERR_RATELIMIT_INVALID_COST: {
    errorClass: 'InvalidArgumentError',
    description:
      "A cost is not a finite number > 0, or exceeds the limiter's burst / max requests.",
  },
  ERR_BARRIER_NOT_FOUND: {
    errorClass: 'NotFoundError',
    description: 'No barrier with that name exists (never created, completed or removed).',
  },
  ERR_BARRIER_UNKNOWN_PARTICIPANT: {
    errorClass: 'NotFoundError',
    description: 'The participant is not declared by (or was force-released from) the barrier.',
  },
  ERR_BARRIER_DUPLICATE_ARRIVAL: {
    errorClass: 'InvalidStateError',
    description: 'The participant already arrived at this barrier, which has not released yet.',
  },
  ERR_BARRIER_REPLACED: {
    errorClass: 'InvalidStateError',
    description: "A waiter's barrier was re-created under the same name before it released.",
  },
  ERR_BARRIER_REMOVED: {
    errorClass: 'InvalidStateError',
    description: "A waiter's barrier was completed or removed before it released.",
  },
  ERR_BARRIER_CAPACITY: {
    errorClass: 'CapacityExceededError',
    description: 'Creating a barrier would exceed `maxBarriers` or `maxParticipants`.',
  },
} as const satisfies Record<string, CodeEntry>;
