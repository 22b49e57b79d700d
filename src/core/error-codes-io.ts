/**
 * Error codes of the parts that talk to other processes and services: IPC, the Redis,
 * PostgreSQL and SQLite backends, the WebSocket bridge, the Prometheus adapter and the
 * CLI. Part of `ERROR_CODES` (error-codes.ts), which lists every area in the order of
 * docs/errors.md; append new codes at the end of their area.
 *
 * @module
 */
import type { CodeEntry } from './error-codes.js';

/** The IPC, backend, bridge, adapter and CLI codes, in docs/errors.md order. */
export const IO_ERROR_CODES = {
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
