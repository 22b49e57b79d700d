/**
 * Options, limits, key validation and the hello exchange of the encrypted IPC channel.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { throwIfAborted, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CryptoError, InvalidArgumentError, TimeoutError, isMajraError } from '../core/errors.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import {
  integerInRange,
  invalid,
  nonNegativeInteger,
  optionalSignal,
  positiveInteger,
} from '../core/validate.js';
import { KEY_BYTES } from './aead.js';
import type { IpcConnection } from './connection.js';
import {
  RECORD_OVERHEAD_BYTES,
  SALT_BYTES,
  encodeHello,
  parseHello,
  type IpcRole,
} from './encrypted-protocol.js';

/** Default warning threshold: 2^31 messages under one direction key. */
export const NONCE_WARN_THRESHOLD = 2 ** 31;
/** Default hard limit: 2^32 data messages under one direction key. */
export const NONCE_HARD_LIMIT = 2 ** 32;

/** Per-key message limits (defaults 2^31 and 2^32); injectable so tests can prove them. */
export interface EncryptedIpcLimits {
  /** Emit `'warning'` once when this many frames were sent under the current key. */
  readonly warnAfterMessages?: number;
  /** Data messages allowed per direction key; the next send rejects `ERR_IPC_NONCE_EXHAUSTED`. */
  readonly maxMessagesPerKey?: number;
}

/** Options of the encrypted channel. */
export interface EncryptedIpcOptions extends WaitOptions {
  /** Message limits per key. */
  readonly limits?: EncryptedIpcLimits;
  /** The hello exchange must finish within this time. @defaultValue 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Decrypted messages read ahead while waiting for a rekey acknowledgement. @defaultValue 4 MiB */
  readonly maxReadAheadBytes?: number;
  /** Clock for the handshake timeout. */
  readonly clock?: Clock;
  /** Metrics sink. */
  readonly metrics?: MetricsSink;
}

/** Payload of the `'warning'` event. */
export interface NonceWarning {
  /** Frames sent under the current send key. */
  readonly messagesSent: number;
  /** The threshold that fired this warning (2^31 frames per key by default). */
  readonly warnAfterMessages: number;
  /** Frames per key after which `send` refuses until `rekey()` (2^32 by default). */
  readonly maxMessagesPerKey: number;
  /** Key epoch (0 before the first rekey). */
  readonly epoch: number;
}

/** Events of {@link EncryptedIpcConnection}. */
export interface EncryptedIpcEvents {
  /** Emitted once per key when the send counter passes `warnAfterMessages`: call `rekey()`. */
  warning: [NonceWarning];
}

/** Validates a pre-shared key: a Uint8Array of exactly 32 bytes. Returns a private copy. */
export function validateKey(key: unknown): Buffer {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new InvalidArgumentError(
      `key: expected a Uint8Array of ${KEY_BYTES} bytes, got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`,
      { code: 'ERR_IPC_INVALID_KEY' },
    );
  }
  return Buffer.from(key);
}

/** Validated options. */
export interface ResolvedOptions {
  readonly warnAt: number;
  readonly hardLimit: number;
  readonly maxReadAhead: number;
  readonly metrics: MetricsSink;
}

/** Validates the options (before any I/O). */
export function resolveOptions(
  options: EncryptedIpcOptions,
  inner: IpcConnection,
): ResolvedOptions {
  const hardLimit = integerInRange(
    'limits.maxMessagesPerKey',
    options.limits?.maxMessagesPerKey ?? NONCE_HARD_LIMIT,
    1,
    NONCE_HARD_LIMIT,
  );
  const warnAt = integerInRange(
    'limits.warnAfterMessages',
    options.limits?.warnAfterMessages ?? Math.min(NONCE_WARN_THRESHOLD, hardLimit),
    1,
    hardLimit,
  );
  if (inner.maxFrameBytes <= RECORD_OVERHEAD_BYTES) {
    invalid('inner.maxFrameBytes', `more than ${RECORD_OVERHEAD_BYTES}`, inner.maxFrameBytes);
  }
  return {
    warnAt,
    hardLimit,
    maxReadAhead: positiveInteger(
      'maxReadAheadBytes',
      options.maxReadAheadBytes ?? 4 * 1024 * 1024,
    ),
    metrics: options.metrics ?? noopMetrics,
  };
}

/** The salts of both sides, after a successful hello exchange. */
export interface HelloResult {
  readonly dialerSalt: Buffer;
  readonly acceptorSalt: Buffer;
}

/**
 * Sends this side's hello and verifies the peer's, within `handshakeTimeoutMs`. Throws
 * the raw failure (the caller wraps it and closes the connection).
 */
export async function exchangeHellos(
  inner: IpcConnection,
  psk: Buffer,
  role: IpcRole,
  options: EncryptedIpcOptions,
): Promise<HelloResult> {
  const signal = optionalSignal('signal', options.signal);
  const timeoutMs = nonNegativeInteger('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000);
  const clock = options.clock ?? systemClock;
  const controller = new AbortController();
  const timer = clock.setTimer(timeoutMs, () =>
    controller.abort(new TimeoutError(`handshake timed out after ${timeoutMs} ms`)),
  );
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const mySalt = randomBytes(SALT_BYTES);
  try {
    throwIfAborted(signal, 'handshake');
    const peerRole: IpcRole = role === 'dialer' ? 'acceptor' : 'dialer';
    await inner.sendBytes(encodeHello(psk, role, mySalt), { signal: controller.signal });
    const body = await inner.recvBytes({ signal: controller.signal });
    const peerSalt = parseHello(psk, body, peerRole);
    return role === 'dialer'
      ? { dialerSalt: mySalt, acceptorSalt: peerSalt }
      : { dialerSalt: peerSalt, acceptorSalt: mySalt };
  } catch (error) {
    mySalt.fill(0);
    throw error;
  } finally {
    timer.cancel();
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The error a failed handshake rejects with: an `ERR_IPC_HANDSHAKE_FAILED` or the
 * caller's own abort as they are, anything else wrapped as `ERR_IPC_HANDSHAKE_FAILED`.
 */
export function handshakeError(error: unknown, signal: AbortSignal | undefined): unknown {
  return isMajraError(error, 'ERR_IPC_HANDSHAKE_FAILED') ||
    (isMajraError(error, 'ERR_ABORTED') && signal?.aborted === true)
    ? error
    : new CryptoError(`encrypted IPC handshake failed: ${(error as Error).message}`, {
        code: 'ERR_IPC_HANDSHAKE_FAILED',
        cause: error,
      });
}
