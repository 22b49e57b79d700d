import {
  ERROR_CODES,
  type CodeOf,
  type MajraErrorClassName,
  type MajraErrorCode,
} from './error-codes.js';

/** Options accepted by every majra error constructor. */
export interface MajraErrorOptions<C extends MajraErrorCode = MajraErrorCode> {
  /** A more specific code than the class default. */
  readonly code?: C;
  /** The underlying error, for wrapped foreign failures. */
  readonly cause?: unknown;
  /** Structured context (limits, ids) that callers may inspect. Never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error majra throws. `code` is stable across releases and is the
 * thing to branch on; `message` is for humans.
 *
 * @example
 * ```ts
 * try { hub.publish('a/+', 1); }
 * catch (e) { if (isMajraError(e, 'ERR_PUBSUB_INVALID_TOPIC')) { ... } }
 * ```
 */
export class MajraError extends Error {
  /** Stable machine-readable code, `ERR_<AREA>_<REASON>`. */
  readonly code: MajraErrorCode;
  /** Structured context, if any. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /**
   * Creates an error with an explicit code; prefer a subclass, which checks that the code belongs
   * to it.
   */
  constructor(message: string, code: MajraErrorCode, options: MajraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** The class name, `'MajraError'`; subclasses return their own. */
  override get name(): string {
    return 'MajraError';
  }
}

function defineError<N extends MajraErrorClassName>(className: N, defaultCode: CodeOf<N>) {
  // Each subclass is generated the same way so the class/code pairing in ERROR_CODES is
  // the single source of truth; a mismatch is caught here at construction.
  return class extends MajraError {
    /**
     * Creates the error with the class's default code, or `options.code` if it is one of this
     * class's codes (else TypeError).
     */
    constructor(message: string, options: MajraErrorOptions<CodeOf<N>> = {}) {
      const code = options.code ?? defaultCode;
      super(message, code, options);
      if (ERROR_CODES[code].errorClass !== className) {
        throw new TypeError(`error code ${code} does not belong to ${className}`);
      }
    }

    /** The class name (`'ClosedError'`, `'TimeoutError'`, ...), also shown in stack traces. */
    override get name(): string {
      return className;
    }
  };
}

/** An argument or option has the wrong type, range or shape. */
export class InvalidArgumentError extends defineError(
  'InvalidArgumentError',
  'ERR_INVALID_ARGUMENT',
) {}
/** The resource was closed. */
export class ClosedError extends defineError('ClosedError', 'ERR_CLOSED') {}
/** A wait exceeded its timeout. */
export class TimeoutError extends defineError('TimeoutError', 'ERR_TIMEOUT') {}
/** A wait was aborted through an AbortSignal; `cause` is the signal's reason. */
export class AbortedError extends defineError('AbortedError', 'ERR_ABORTED') {}
/** A configured limit would be exceeded. */
export class CapacityExceededError extends defineError(
  'CapacityExceededError',
  'ERR_CAPACITY_EXCEEDED',
) {}
/** The named item does not exist. */
export class NotFoundError extends defineError('NotFoundError', 'ERR_NOT_FOUND') {}
/** The operation is not allowed in the current state. */
export class InvalidStateError extends defineError('InvalidStateError', 'ERR_INVALID_STATE') {}
/** A backend failed; `cause` holds the driver's error. */
export class BackendError extends defineError('BackendError', 'ERR_BACKEND') {}
/** A peer violated the protocol. */
export class ProtocolError extends defineError('ProtocolError', 'ERR_PROTOCOL') {}
/** A cryptographic operation failed (authentication, key, nonce). */
export class CryptoError extends defineError('CryptoError', 'ERR_CRYPTO') {}

/**
 * True when `value` is a {@link MajraError}, optionally with the given code.
 * Works across realms and duplicated package copies by checking the shape too.
 */
export function isMajraError(value: unknown, code?: MajraErrorCode): value is MajraError {
  if (!(value instanceof MajraError)) return false;
  return code === undefined || value.code === code;
}

/** Renders any thrown value as an Error, for executors that throw strings or objects. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    const json: unknown = typeof value === 'string' ? value : JSON.stringify(value);
    text = typeof json === 'string' ? json : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return new Error(text, { cause: value });
}
