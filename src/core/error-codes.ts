/**
 * The table of every stable error code majra throws. Codes never change meaning once
 * released; new ones are appended. `docs/errors.md` is generated from this table and
 * a test keeps the two in step.
 *
 * Each entry names the error class that carries the code, so `new XError(msg, { code })`
 * is type-checked to use only codes that belong to that class.
 *
 * @module
 */

/** The error classes, by their `name`. */
export type MajraErrorClassName =
  | 'InvalidArgumentError'
  | 'ClosedError'
  | 'TimeoutError'
  | 'AbortedError'
  | 'CapacityExceededError'
  | 'NotFoundError'
  | 'InvalidStateError'
  | 'BackendError'
  | 'ProtocolError'
  | 'CryptoError';

interface CodeEntry {
  readonly errorClass: MajraErrorClassName;
  readonly description: string;
}

/** Every error code with the class that carries it and a one-line meaning. */
export const ERROR_CODES = {
  // --- core -------------------------------------------------------------------------
  ERR_INVALID_ARGUMENT: {
    errorClass: 'InvalidArgumentError',
    description: 'An argument or option has the wrong type, range or shape.',
  },
  ERR_CLOSED: {
    errorClass: 'ClosedError',
    description: 'The resource was closed; the operation cannot run.',
  },
  ERR_TIMEOUT: {
    errorClass: 'TimeoutError',
    description: 'A wait did not complete within its timeout.',
  },
  ERR_ABORTED: {
    errorClass: 'AbortedError',
    description: "A wait was aborted through its AbortSignal; `cause` holds the signal's reason.",
  },
  ERR_CAPACITY_EXCEEDED: {
    errorClass: 'CapacityExceededError',
    description: 'A configured limit (size, count, capacity) would be exceeded.',
  },
  ERR_NOT_FOUND: {
    errorClass: 'NotFoundError',
    description: 'The named item (id, key, node) does not exist.',
  },
  ERR_INVALID_STATE: {
    errorClass: 'InvalidStateError',
    description: 'The operation is not allowed in the current state.',
  },
  ERR_BACKEND: {
    errorClass: 'BackendError',
    description: 'A backend (Redis, PostgreSQL, SQLite) failed; `cause` holds the driver error.',
  },
  ERR_PROTOCOL: {
    errorClass: 'ProtocolError',
    description: 'A peer sent data that violates the protocol.',
  },
  ERR_CRYPTO: {
    errorClass: 'CryptoError',
    description: 'A cryptographic operation failed.',
  },
  // --- codec / envelope -------------------------------------------------------------
  ERR_CODEC_TOO_LARGE: {
    errorClass: 'CapacityExceededError',
    description: 'An encoded value is larger than the configured byte limit.',
  },
  ERR_CODEC_NOT_SERIALIZABLE: {
    errorClass: 'InvalidArgumentError',
    description: 'A value cannot be encoded as JSON (cycle, BigInt, undefined, function).',
  },
  ERR_CODEC_MALFORMED: {
    errorClass: 'ProtocolError',
    description: 'Bytes received are not valid UTF-8 JSON.',
  },
  ERR_ENVELOPE_INVALID: {
    errorClass: 'ProtocolError',
    description: 'A decoded envelope is missing fields or has fields of the wrong type.',
  },
  // --- namespace --------------------------------------------------------------------
  ERR_NAMESPACE_INVALID_PREFIX: {
    errorClass: 'InvalidArgumentError',
    description:
      'A namespace prefix is empty, too long, or contains `/`, `:`, a wildcard or a control character.',
  },
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
  // --- ipc --------------------------------------------------------------------------
  ERR_IPC_FRAME_TOO_LARGE: {
    errorClass: 'CapacityExceededError',
    description:
      'A frame body is larger than maxFrameBytes: refused before any byte is written, or before the body is buffered (the connection is then closed).',
  },
  ERR_IPC_FRAME_TRUNCATED: {
    errorClass: 'ProtocolError',
    description: 'The stream ended in the middle of a frame (partial header or body).',
  },
  ERR_IPC_DECODER_FAILED: {
    errorClass: 'InvalidStateError',
    description: 'A frame decoder was fed after it failed or ended; the stream cannot be trusted.',
  },
  ERR_IPC_CONNECTION_CLOSED: {
    errorClass: 'ClosedError',
    description: 'The peer closed the connection cleanly, between two frames.',
  },
  ERR_IPC_IO: {
    errorClass: 'BackendError',
    description:
      'A socket operation failed (ENOENT, ECONNREFUSED, ECONNRESET...); `cause` holds the system error.',
  },
  ERR_IPC_PATH_TOO_LONG: {
    errorClass: 'InvalidArgumentError',
    description: 'A Unix socket path is longer than the operating system allows.',
  },
  ERR_IPC_PATH_NOT_SOCKET: {
    errorClass: 'InvalidStateError',
    description: 'The listen path exists and is not a socket; it is never removed.',
  },
  ERR_IPC_ADDRESS_IN_USE: {
    errorClass: 'InvalidStateError',
    description: 'Another live server is listening on the path.',
  },
  ERR_IPC_INVALID_KEY: {
    errorClass: 'InvalidArgumentError',
    description: 'A pre-shared key is not a Uint8Array of exactly 32 bytes.',
  },
  ERR_IPC_HANDSHAKE_FAILED: {
    errorClass: 'CryptoError',
    description:
      'The encrypted-channel hello was malformed, failed authentication (wrong key) or the peer left mid-handshake.',
  },
  ERR_IPC_AUTH_FAILED: {
    errorClass: 'CryptoError',
    description: 'An encrypted frame failed AES-GCM authentication (wrong key or tampered bytes).',
  },
  ERR_IPC_UNEXPECTED_COUNTER: {
    errorClass: 'CryptoError',
    description:
      'An encrypted frame carried a counter other than the next expected one (replay, reorder or drop).',
  },
  ERR_IPC_BAD_FRAME: {
    errorClass: 'ProtocolError',
    description: 'An encrypted frame is too short, or has an unknown version or type.',
  },
  ERR_IPC_NONCE_EXHAUSTED: {
    errorClass: 'CryptoError',
    description: 'The per-key message limit was reached; call rekey() before sending more.',
  },
  ERR_IPC_REKEY_FAILED: {
    errorClass: 'ProtocolError',
    description: 'A rekey message was malformed or arrived when none could be accepted.',
  },
  // --- redis ------------------------------------------------------------------------
  ERR_REDIS_INVALID_PREFIX: {
    errorClass: 'InvalidArgumentError',
    description:
      'A Redis key prefix or object name is empty, longer than 512 characters or contains a control character.',
  },
  ERR_REDIS_UNREACHABLE: {
    errorClass: 'BackendError',
    description: 'The Redis server could not be reached when connecting.',
  },
  ERR_REDIS_COMMAND: {
    errorClass: 'BackendError',
    description: 'A Redis command or script failed; `cause` holds the driver error.',
  },
  ERR_REDIS_QUEUE_FULL: {
    errorClass: 'CapacityExceededError',
    description: 'A RedisQueue already holds `maxJobs` live jobs; the job was not added.',
  },
  ERR_REDIS_MALFORMED_REPLY: {
    errorClass: 'ProtocolError',
    description: 'Redis returned data majra did not write (a foreign or corrupted value).',
  },
  ERR_REDIS_STREAM_TRIMMED: {
    errorClass: 'BackendError',
    description:
      'Durable pub/sub entries were trimmed from the stream (`maxLength`) before a consumer group acknowledged them.',
  },
  // --- postgres / sqlite ------------------------------------------------------------
  ERR_POSTGRES_UNAVAILABLE: {
    errorClass: 'BackendError',
    description:
      'PostgreSQL could not be reached (refused, timed out, authentication or database missing).',
  },
  ERR_POSTGRES_QUERY: {
    errorClass: 'BackendError',
    description:
      'A PostgreSQL statement failed; `cause` holds the driver error and `details.sqlState` its code.',
  },
  ERR_POSTGRES_MIGRATION: {
    errorClass: 'BackendError',
    description:
      'A schema migration failed or an applied migration file was changed (append-only rule).',
  },
  ERR_POSTGRES_INVALID_SCHEMA: {
    errorClass: 'InvalidArgumentError',
    description:
      'A PostgreSQL schema name is not a plain identifier (letters, digits, `_`, at most 63 bytes, no `pg_` prefix).',
  },
  ERR_POSTGRES_INVALID_QUEUE: {
    errorClass: 'InvalidArgumentError',
    description:
      'A job queue name is empty, longer than 200 characters or contains a control character.',
  },
  ERR_POSTGRES_JOB_NOT_FOUND: {
    errorClass: 'NotFoundError',
    description: 'No job with the given id exists (never created, or removed by retention).',
  },
  // --- ws / prometheus / cli --------------------------------------------------------
  ERR_WS_BAD_FRAME: {
    errorClass: 'ProtocolError',
    description: 'A WebSocket client sent a frame that is not a UTF-8 JSON object of protocol v1.',
  },
  ERR_WS_UNKNOWN_OP: {
    errorClass: 'ProtocolError',
    description: 'A WebSocket client sent an operation the bridge does not know.',
  },
  ERR_WS_TOO_MANY_SUBSCRIPTIONS: {
    errorClass: 'CapacityExceededError',
    description: 'A WebSocket client exceeded maxSubscriptionsPerClient.',
  },
  ERR_WS_PUBLISH_FORBIDDEN: {
    errorClass: 'InvalidStateError',
    description: 'A WebSocket client tried to publish where the server does not allow it.',
  },
  ERR_WS_NOT_SUBSCRIBED: {
    errorClass: 'NotFoundError',
    description: 'A WebSocket client unsubscribed from a pattern it had not subscribed to.',
  },
} as const satisfies Record<string, CodeEntry>;

/** Any stable error code. */
export type MajraErrorCode = keyof typeof ERROR_CODES;

/** The codes that belong to error class `C`. */
export type CodeOf<C extends MajraErrorClassName> = {
  [K in MajraErrorCode]: (typeof ERROR_CODES)[K]['errorClass'] extends C ? K : never;
}[MajraErrorCode];
