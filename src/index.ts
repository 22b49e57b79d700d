/**
 * majra: typed, bounded messaging and concurrency primitives for Node.js.
 *
 * The root entry exports the core and every in-memory primitive; backends live behind
 * their own subpaths (`majra/redis`, `majra/postgres`, `majra/sqlite`, `majra/ws`,
 * `majra/prometheus`) so importing majra never loads a driver.
 *
 * @example
 * ```ts
 * import { Namespace } from 'majra';
 * const tenant = new Namespace('acme');
 * tenant.topic('orders/created'); // 'acme/orders/created'
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
  ERROR_CODES,
  systemClock,
  abortError,
  throwIfAborted,
  deferred,
  waitFor,
  sleep,
  encodeJson,
  decodeJson,
  jsonCodec,
  DEFAULT_MAX_BYTES,
  Target,
  createEnvelope,
  encodeEnvelope,
  decodeEnvelope,
  envelopeFromJson,
  Namespace,
  MAX_NAMESPACE_PREFIX_LENGTH,
  noopMetrics,
  defineMetric,
  Lifecycle,
  RingBuffer,
  MAX_RING_CAPACITY,
} from './core/index.js';
export type {
  MajraErrorOptions,
  MajraErrorCode,
  MajraErrorClassName,
  CodeOf,
  Clock,
  TimerHandle,
  Deferred,
  WaitOptions,
  TimedWaitOptions,
  WaitForOptions,
  Codec,
  JsonCodecOptions,
  JsonValue,
  Envelope,
  CreateEnvelopeOptions,
  MetricsSink,
  MetricDefinition,
  MetricLabels,
  Closeable,
} from './core/index.js';

// --- queue ----------------------------------------------------------------------------
export {
  Priority,
  PRIORITY_NAMES,
  isPriority,
  parsePriority,
  priorityName,
  PriorityQueue,
  createQueueItem,
  ConcurrentPriorityQueue,
  DagScheduler,
  topologicalSort,
  ResourceLedger,
  UNLIMITED_POOL,
  poolSatisfies,
  ManagedQueue,
  MemoryQueueStore,
  JOB_STATES,
  isTerminal,
} from './queue/index.js';
export type {
  PriorityName,
  QueueItem,
  Dag,
  ManagedQueueOptions,
  RestoreOptions,
  EnqueueOptions,
  QueueEventStream,
  QueueEventStreamOptions,
  QueueEventListener,
  JobState,
  ResourceReq,
  ResourcePool,
  StoredJob,
  JobTransition,
  QueueStore,
  QueueEvent,
  ManagedJob,
} from './queue/index.js';
// --- ipc ----------------------------------------------------------------------------
export {
  FRAME_HEADER_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_FRAME_BYTES_LIMIT,
  FrameDecoder,
  encodeFrame,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeJsonBody,
  decodeJsonBody,
  frameTooLargeError,
  validateMaxFrameBytes,
} from './ipc/index.js';
export type { FrameDecoderOptions } from './ipc/index.js';
// --- heartbeat / ratelimit / barrier -----------------------------------------------
export {
  HeartbeatTracker,
  ConcurrentHeartbeatTracker,
  DEFAULT_MAX_NODES,
  MAX_GPUS_PER_NODE,
  NODE_STATUSES,
  DEFAULT_SUSPECT_AFTER_MS,
  DEFAULT_OFFLINE_AFTER_MS,
  MAX_NODE_ID_LENGTH,
} from './heartbeat/index.js';
export type {
  HeartbeatTrackerOptions,
  HeartbeatEvents,
  FleetStatsOptions,
  NodeStatus,
  GpuTelemetry,
  NodeUpdate,
  NodeState,
  StatusTransition,
  FleetStats,
  HeartbeatEvictionPolicy,
  HeartbeatThresholds,
  HeartbeatTrackerContract,
} from './heartbeat/index.js';
export {
  RateLimiter,
  SlidingWindowLimiter,
  DEFAULT_MAX_KEYS,
  MAX_RATE_LIMIT_KEY_LENGTH,
} from './ratelimit/index.js';
export type {
  RateLimiterOptions,
  SlidingWindowLimiterOptions,
  MemoryLimiterOptions,
  RateLimitDecision,
  RateLimitStats,
  RateLimitAcquireOptions,
  RateLimiterContract,
  SyncRateLimiter,
  AsyncRateLimiter,
  TokenBucketOptions,
  SlidingWindowOptions,
} from './ratelimit/index.js';
export {
  BarrierSet,
  MAX_BARRIER_NAME_LENGTH,
  DEFAULT_MAX_BARRIERS,
  DEFAULT_MAX_PARTICIPANTS,
} from './barrier/index.js';
export type {
  BarrierResult,
  BarrierRecord,
  BarrierStats,
  BarrierSetOptions,
} from './barrier/index.js';
