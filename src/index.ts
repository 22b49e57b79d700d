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
  PriorityQueueOptions,
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
  IpcConnection,
  IpcServer,
  EncryptedIpcConnection,
  NONCE_WARN_THRESHOLD,
  NONCE_HARD_LIMIT,
  MAX_SOCKET_PATH_BYTES,
} from './ipc/index.js';
export type {
  FrameDecoderOptions,
  IpcConnectionOptions,
  ConnectIpcOptions,
  IpcServerOptions,
  EncryptedIpcOptions,
  EncryptedIpcLimits,
  EncryptedIpcEvents,
  NonceWarning,
  IpcRole,
} from './ipc/index.js';

// --- pubsub -------------------------------------------------------------------------
export {
  validateTopic,
  validatePattern,
  matchesPattern,
  isWildcardPattern,
  MAX_TOPIC_DEPTH,
  MAX_TOPIC_LENGTH,
  createReceiver,
  DEFAULT_RECEIVER_CAPACITY,
  DirectChannel,
  HashedChannel,
  TopicHash,
  TypedPubSub,
  PubSub,
  toUntyped,
  fromUntyped,
  HubScope,
  PUBSUB_PUBLISHED,
  PUBSUB_DELIVERED,
  PUBSUB_DROPPED,
  PUBSUB_LAGGED,
  PUBSUB_SUBSCRIPTIONS,
} from './pubsub/index.js';
export type {
  Receiver,
  ReceiverSource,
  ReceiverPair,
  ReceiverOptions,
  TryRecvResult,
  PushResult,
  OverflowPolicy,
  ChannelOptions,
  ChannelSubscribeOptions,
  ChannelStats,
  HashedMessage,
  HashedChannelOptions,
  TypedPubSubOptions,
  PubSubOptions,
  TopicMessage,
  TypedMessage,
  HandlerOptions,
  SubscribeOptions,
  PubSubStats,
  PubSubErrorHandler,
  PubSubHubKind,
} from './pubsub/index.js';
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
// --- relay / transport ---------------------------------------------------------------
export {
  Relay,
  PeerRouter,
  RelaySubscription,
  relayMessageFromJson,
  relayMessageToJson,
} from './relay/index.js';
export type {
  RelayOptions,
  RelayRequestOptions,
  RelayRouter,
  RelayStats,
  RequestHandler,
  PeerRouterOptions,
  IncomingMessage,
  RelayMessage,
  RelayRemoteError,
  RelayWireMessage,
} from './relay/index.js';
export { CircuitBreaker, ConnectionPool, MemoryTransport } from './transport/index.js';
export type {
  CircuitState,
  CircuitStateChange,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitPermit,
  ConnectionPoolOptions,
  ConnectionPoolStats,
  PoolBreakerOptions,
  MemoryTransportOptions,
  Connection,
  Listener,
  Transport,
  ConnectOptions,
} from './transport/index.js';
// --- fleet ----------------------------------------------------------------------------
export { FleetQueue, LocalFleetNode, RemoteFleetNode, serveFleetNode } from './fleet/index.js';
export type {
  FleetQueueOptions,
  FleetSubmitOptions,
  FleetNodeStatus,
  FleetQueueStats,
  RemoteFleetNodeOptions,
  FleetTask,
  FleetJobPayload,
  FleetNodeLoad,
  FleetNode,
} from './fleet/index.js';
// --- workflow -------------------------------------------------------------------------
export {
  WorkflowEngine,
  WorkflowEventStream,
  MemoryWorkflowStore,
  validateDefinition,
  topologicalTiers,
  resolveRetryPolicy,
  backoffDelay,
  isTerminalRunStatus,
} from './workflow/index.js';
export type {
  WorkflowEngineOptions,
  Executors,
  WorkflowDefinition,
  WorkflowStepDefinition,
  TriggerMode,
  ErrorPolicy,
  RetryPolicy,
  BackoffStrategy,
  StepContext,
  StepExecutor,
  StepResult,
  WorkflowRunResult,
  WorkflowEvent,
  WorkflowStore,
  WorkflowRunRecord,
  WorkflowRunStatus,
  StepRecord,
  StepStatus,
} from './workflow/index.js';
