/**
 * Public types of the WebSocket bridge and the validation of its options, kept apart from
 * the connection handling in ws-bridge.ts.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import type { JsonValue } from '../../core/codec.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import type { Namespace } from '../../core/namespace.js';
import { invalid, isFunction, positiveInteger } from '../../core/validate.js';
import type { WebSocket } from 'ws';
import type { OverflowPolicy, Receiver } from '../../pubsub/receiver.js';

/** A message as any majra hub delivers it. */
export interface BridgeMessage {
  /** The full hub topic (the bridge strips a client's tenant prefix). */
  readonly topic: string;
  /** The JSON payload, sent to clients as is. */
  readonly payload: unknown;
  /** Publish time, epoch ms; the bridge's clock is used when absent. */
  readonly timestamp?: number;
}

/**
 * What the bridge needs from a hub: `TypedPubSub`, `PubSub` and `RedisPubSub` all fit.
 * `subscribe` may return the receiver or a promise of it (Redis acknowledges first).
 */
export interface BridgeHub {
  /** Opens a bounded receiver for `pattern` (one per client subscription). */
  subscribe(
    pattern: string,
    options?: { capacity?: number; overflow?: OverflowPolicy },
  ): Receiver<BridgeMessage> | Promise<Receiver<BridgeMessage>>;
  /** Publishes a client's message; needed only when clients may publish. */
  publish?(topic: string, payload: JsonValue): unknown;
}

/** What `authenticate` grants a client. */
export interface WsClientGrant {
  /** The tenant the client is confined to; its patterns and topics are scoped to it. */
  readonly namespace?: Namespace;
  /** May this client publish? Only honoured when the bridge has `allowPublish`. */
  readonly canPublish?: boolean;
}

/** Options of {@link WsBridge}. */
export interface WsBridgeOptions {
  /** The hub whose topics are fanned out. */
  readonly hub: BridgeHub;
  /**
   * Decides whether an upgrade request is accepted (return a grant) or refused with
   * HTTP 401 (return false or throw). Runs before the WebSocket handshake completes.
   * @defaultValue accept everyone, no namespace
   */
  readonly authenticate?: (
    request: IncomingMessage,
  ) => WsClientGrant | false | Promise<WsClientGrant | false>;
  /** Connections (open plus in handshake); more are refused with HTTP 503. @defaultValue 1000 */
  readonly maxConnections?: number;
  /** Patterns one client may hold. @defaultValue 64 */
  readonly maxSubscriptionsPerClient?: number;
  /** Largest client frame; bigger frames close the connection with 1009. @defaultValue 65536 */
  readonly maxFrameBytes?: number;
  /** Time for `authenticate` to decide; then HTTP 408. @defaultValue 10000 */
  readonly handshakeTimeoutMs?: number;
  /** A client that has not subscribed by then is closed with 4008. @defaultValue 30000 */
  readonly firstSubscribeTimeoutMs?: number;
  /** Bytes queued to one client before the slow-client policy applies. @defaultValue 1 MiB */
  readonly sendHighWaterMarkBytes?: number;
  /** `'drop'` skips messages (counted) while over the mark; `'disconnect'` closes with 4009. */
  readonly slowClientPolicy?: 'drop' | 'disconnect';
  /** Ping period; a client that has not answered the previous ping is terminated. @defaultValue 30000 */
  readonly pingIntervalMs?: number;
  /** Protocol errors tolerated per client before it is closed with 4002. @defaultValue 10 */
  readonly maxProtocolErrors?: number;
  /** Whether clients may publish at all. @defaultValue false */
  readonly allowPublish?: boolean;
  /** Receiver buffer per client subscription. @defaultValue 1024 */
  readonly receiverCapacity?: number;
  /** Only upgrades to this path are accepted (others get 404). @defaultValue any path */
  readonly path?: string;
  /** Time source for keepalive, timeouts and missing timestamps. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Metrics sink (`majra_ws_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
  /** Background failures (a hub subscription that failed, a socket error). */
  readonly onError?: (error: Error) => void;
}

/** Counters since creation. */
export interface WsBridgeStats {
  /** Clients connected now. */
  readonly connections: number;
  /** Upgrades refused (authentication, connection caps, bad requests). */
  readonly rejected: number;
  /** Message frames sent to clients. */
  readonly sent: number;
  /** Messages skipped for a client whose send buffer was over the high-water mark. */
  readonly dropped: number;
  /** Client frames refused as malformed or not allowed. */
  readonly protocolErrors: number;
  /** Clients disconnected for being too slow (`slowClientPolicy: 'disconnect'`). */
  readonly slowDisconnects: number;
}

/** @internal Numeric and policy options after validation and defaults. */
export type ResolvedLimits = Required<
  Omit<WsBridgeOptions, 'hub' | 'authenticate' | 'path' | 'clock' | 'metrics' | 'onError'>
>;

/** @internal Every option of a bridge, validated, with defaults applied. */
export interface ResolvedWsBridgeOptions {
  readonly hub: BridgeHub;
  readonly authenticate: NonNullable<WsBridgeOptions['authenticate']>;
  readonly opts: ResolvedLimits;
  readonly path: string | undefined;
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  readonly onError: (error: Error) => void;
}

/**
 * @internal Validates `options` (in the order the bridge always did, so the first
 * reported problem is unchanged) and applies the defaults.
 */
export function resolveWsBridgeOptions(options: WsBridgeOptions): ResolvedWsBridgeOptions {
  isFunction('hub.subscribe', (options.hub as Partial<BridgeHub> | undefined)?.subscribe);
  if (options.authenticate !== undefined) isFunction('authenticate', options.authenticate);
  const policy: unknown = options.slowClientPolicy ?? 'drop';
  if (policy !== 'drop' && policy !== 'disconnect') {
    invalid('slowClientPolicy', "'drop' or 'disconnect'", policy);
  }
  const opts: ResolvedLimits = {
    maxConnections: positiveInteger('maxConnections', options.maxConnections ?? 1000),
    maxSubscriptionsPerClient: positiveInteger(
      'maxSubscriptionsPerClient',
      options.maxSubscriptionsPerClient ?? 64,
    ),
    maxFrameBytes: positiveInteger('maxFrameBytes', options.maxFrameBytes ?? 65_536, 16 * 2 ** 20),
    handshakeTimeoutMs: positiveInteger('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000),
    firstSubscribeTimeoutMs: positiveInteger(
      'firstSubscribeTimeoutMs',
      options.firstSubscribeTimeoutMs ?? 30_000,
    ),
    sendHighWaterMarkBytes: positiveInteger(
      'sendHighWaterMarkBytes',
      options.sendHighWaterMarkBytes ?? 2 ** 20,
    ),
    slowClientPolicy: policy,
    pingIntervalMs: positiveInteger('pingIntervalMs', options.pingIntervalMs ?? 30_000),
    maxProtocolErrors: positiveInteger('maxProtocolErrors', options.maxProtocolErrors ?? 10),
    allowPublish: options.allowPublish ?? false,
    receiverCapacity: positiveInteger('receiverCapacity', options.receiverCapacity ?? 1024),
  };
  return {
    hub: options.hub,
    authenticate: options.authenticate ?? (() => ({})),
    opts,
    path: options.path,
    clock: options.clock ?? systemClock,
    metrics: options.metrics ?? noopMetrics,
    onError: options.onError ?? (() => undefined),
  };
}

/** @internal One connected client's state. */
export interface Client {
  readonly ws: WebSocket;
  readonly namespace: Namespace | undefined;
  readonly canPublish: boolean;
  readonly subs: Map<string, Receiver<BridgeMessage>>;
  protocolErrors: number;
  alive: boolean;
  firstSubscribeTimer: TimerHandle | undefined;
}
