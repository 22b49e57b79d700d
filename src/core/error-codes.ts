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

import { COORDINATION_ERROR_CODES } from './error-codes-coordination.js';
import { IO_ERROR_CODES } from './error-codes-io.js';
import { MESSAGING_ERROR_CODES } from './error-codes-messaging.js';

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

/** One row of the table: the class that carries the code and what the code means. */
export interface CodeEntry {
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
  ...MESSAGING_ERROR_CODES,
  ...COORDINATION_ERROR_CODES,
  ...IO_ERROR_CODES,
} as const satisfies Record<string, CodeEntry>;

/** Any stable error code. */
export type MajraErrorCode = keyof typeof ERROR_CODES;

/** The codes that belong to error class `C`. */
export type CodeOf<C extends MajraErrorClassName> = {
  [K in MajraErrorCode]: (typeof ERROR_CODES)[K]['errorClass'] extends C ? K : never;
}[MajraErrorCode];
