/**
 * Shared, dependency-free building blocks: errors, clock, codec, envelope, namespace,
 * metrics port, lifecycle and abort helpers, ring buffer.
 *
 * @example
 * ```ts
 * import { Namespace, RingBuffer, sleep } from 'majra/core';
 * const ns = new Namespace('tenant-1');
 * const ring = new RingBuffer<number>(2);
 * ring.push(1); ring.push(2); ring.push(3); // overwrites 1
 * ring.overwritten; // 1
 * await sleep(10);
 * ```
 *
 * @module
 */
export {
  MajraError,
  InvalidArgumentError,
  ClosedError,
  TimeoutError,
  AbortedError,
  CapacityExceededError,
  NotFoundError,
  InvalidStateError,
  BackendError,
  ProtocolError,
  CryptoError,
  isMajraError,
  toError,
} from './errors.js';
export type { MajraErrorOptions } from './errors.js';
export { ERROR_CODES } from './error-codes.js';
export type { MajraErrorCode, MajraErrorClassName, CodeOf } from './error-codes.js';
export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { abortError, throwIfAborted, deferred, waitFor, sleep } from './abort.js';
export type { Deferred, WaitOptions, TimedWaitOptions, WaitForOptions } from './abort.js';
export { encodeJson, decodeJson, jsonCodec, DEFAULT_MAX_BYTES } from './codec.js';
export type { Codec, JsonCodecOptions, JsonValue } from './codec.js';
export {
  Target,
  createEnvelope,
  encodeEnvelope,
  decodeEnvelope,
  envelopeFromJson,
} from './envelope.js';
export type { Envelope, CreateEnvelopeOptions } from './envelope.js';
export { Namespace, MAX_NAMESPACE_PREFIX_LENGTH } from './namespace.js';
export { noopMetrics, defineMetric } from './metrics.js';
export type { MetricsSink, MetricDefinition, MetricLabels } from './metrics.js';
export { Lifecycle } from './lifecycle.js';
export type { Closeable } from './lifecycle.js';
export { RingBuffer, MAX_RING_CAPACITY } from './ring-buffer.js';
