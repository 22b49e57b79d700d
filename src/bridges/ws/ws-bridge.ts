import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { waitFor } from '../../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import {
  InvalidStateError,
  NotFoundError,
  CapacityExceededError,
  toError,
} from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { labelTable, noopMetrics, type MetricsSink } from '../../core/metrics.js';
import type { Namespace } from '../../core/namespace.js';
import { invalid, isFunction, positiveInteger } from '../../core/validate.js';
import type { OverflowPolicy, Receiver } from '../../pubsub/receiver.js';
import { validatePattern, validateTopic } from '../../pubsub/topic.js';
import type { JsonValue } from '../../core/codec.js';
import { WS_CONNECTIONS, WS_DROPPED, WS_PROTOCOL_ERRORS, WS_REJECTED, WS_SENT } from './metrics.js';

const DROP_LABELS = labelTable('reason', ['slow', 'disconnect']);
import {
  errorMessage,
  parseClientMessage,
  WS_PROTOCOL_VERSION,
  WsCloseCode,
  type ServerMessage,
} from './protocol.js';

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

interface Client {
  readonly ws: WebSocket;
  readonly namespace: Namespace | undefined;
  readonly canPublish: boolean;
  readonly subs: Map<string, Receiver<BridgeMessage>>;
  protocolErrors: number;
  alive: boolean;
  firstSubscribeTimer: TimerHandle | undefined;
}

/**
 * Fans a hub's topics out to WebSocket clients speaking the JSON protocol of docs/ws.md,
 * with connection limits enforced before the upgrade, authentication and tenant
 * isolation, per-client backpressure and keepalive.
 *
 * @example
 * ```ts
 * const hub = new PubSub();
 * const bridge = new WsBridge({ hub, authenticate: (req) => ({ namespace: tenantOf(req) }) });
 * const { port } = await bridge.listen({ port: 8080, host: '127.0.0.1' });
 * ```
 */
export class WsBridge implements Closeable {
  readonly #hub: BridgeHub;
  readonly #opts: Required<
    Omit<WsBridgeOptions, 'hub' | 'authenticate' | 'path' | 'clock' | 'metrics' | 'onError'>
  >;
  readonly #authenticate: NonNullable<WsBridgeOptions['authenticate']>;
  readonly #path: string | undefined;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #onError: (error: Error) => void;
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<Client>();
  readonly #life = new Lifecycle('WsBridge');
  // Serialised frames per hub message object: one publish fanned out to N clients of
  // the same view is stringified once.
  readonly #frames = new WeakMap<object, string>();
  #handshaking = 0;
  #server: Server | undefined;
  #pingTimer: TimerHandle | undefined;
  #stats = {
    connections: 0,
    rejected: 0,
    sent: 0,
    dropped: 0,
    protocolErrors: 0,
    slowDisconnects: 0,
  };

  /**
   * Creates the bridge without I/O and validates the options; `listen` or `attach` starts serving.
   */
  constructor(options: WsBridgeOptions) {
    isFunction('hub.subscribe', (options.hub as Partial<BridgeHub> | undefined)?.subscribe);
    if (options.authenticate !== undefined) isFunction('authenticate', options.authenticate);
    this.#hub = options.hub;
    this.#authenticate = options.authenticate ?? (() => ({}));
    const policy: unknown = options.slowClientPolicy ?? 'drop';
    if (policy !== 'drop' && policy !== 'disconnect') {
      invalid('slowClientPolicy', "'drop' or 'disconnect'", policy);
    }
    this.#opts = {
      maxConnections: positiveInteger('maxConnections', options.maxConnections ?? 1000),
      maxSubscriptionsPerClient: positiveInteger(
        'maxSubscriptionsPerClient',
        options.maxSubscriptionsPerClient ?? 64,
      ),
      maxFrameBytes: positiveInteger(
        'maxFrameBytes',
        options.maxFrameBytes ?? 65_536,
        16 * 2 ** 20,
      ),
      handshakeTimeoutMs: positiveInteger(
        'handshakeTimeoutMs',
        options.handshakeTimeoutMs ?? 10_000,
      ),
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
    this.#path = options.path;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#onError = options.onError ?? (() => undefined);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#opts.maxFrameBytes,
      perMessageDeflate: false,
    });
  }

  /** Open client connections. */
  get connections(): number {
    return this.#clients.size;
  }

  /** Counters since creation. */
  stats(): WsBridgeStats {
    return { ...this.#stats, connections: this.#clients.size };
  }

  /** Creates an HTTP server for the bridge and listens; resolves with the bound address. */
  async listen(options: { port?: number; host?: string } = {}): Promise<{
    /** The bound port (the real one when 0 was asked). */
    port: number;
    /** The bound host. */
    host: string;
  }> {
    this.#life.assertOpen('listen');
    if (this.#server !== undefined) throw new InvalidStateError('WsBridge is already listening');
    const server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n');
    });
    this.#server = server;
    this.attach(server);
    await waitFor<undefined>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined));
      return () => server.off('error', reject);
    });
    const address = server.address() as AddressInfo;
    return { port: address.port, host: address.address };
  }

  /** Routes `upgrade` events of an existing HTTP server to the bridge. */
  attach(server: Server): void {
    this.#life.assertOpen('attach');
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head);
    });
    this.#armPing();
  }

  /** Handles one HTTP upgrade request (for servers that route upgrades themselves). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => this.#onError(error));
    if (this.#life.isClosed) return this.#refuse(socket, 503, 'closing');
    if (
      this.#path !== undefined &&
      new URL(request.url ?? '/', 'http://x').pathname !== this.#path
    ) {
      return this.#refuse(socket, 404, 'path');
    }
    // The cap counts handshakes in flight too, so a burst cannot overshoot it.
    if (this.#clients.size + this.#handshaking >= this.#opts.maxConnections) {
      return this.#refuse(socket, 503, 'capacity');
    }
    this.#handshaking++;
    this.#armPing();
    waitFor<WsClientGrant | false>(
      (resolve, reject) => {
        Promise.resolve(this.#authenticate(request)).then(resolve, reject);
        return undefined;
      },
      { timeoutMs: this.#opts.handshakeTimeoutMs, clock: this.#clock, what: 'authenticate' },
    ).then(
      (grant) => {
        if (grant === false) {
          this.#handshaking--;
          return this.#refuse(socket, 401, 'auth');
        }
        if (this.#life.isClosed || socket.destroyed) {
          this.#handshaking--;
          return this.#refuse(socket, 503, 'closing');
        }
        this.#wss.handleUpgrade(request, socket, head, (ws) => {
          this.#handshaking--;
          this.#accept(ws, grant);
        });
      },
      (error: unknown) => {
        this.#handshaking--;
        const timedOut =
          error instanceof Error && (error as { code?: string }).code === 'ERR_TIMEOUT';
        if (!timedOut) this.#onError(toError(error));
        this.#refuse(socket, timedOut ? 408 : 401, timedOut ? 'timeout' : 'auth');
      },
    );
  }

  /** Stops accepting, closes every client with 1001 and the owned HTTP server. Idempotent. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#pingTimer?.cancel();
      const closing = [...this.#clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            client.ws.once('close', () => resolve());
            this.#dropClient(client);
            client.ws.close(WsCloseCode.GOING_AWAY, 'server closing');
            // A peer that never answers the close handshake is cut off.
            this.#clock.setTimer(1000, () => client.ws.terminate()).unref();
          }),
      );
      await Promise.all(closing);
      this.#wss.close();
      const server = this.#server;
      if (server !== undefined) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  }

  /** Resolves once `close()` has finished; never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` has been called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #refuse(socket: Duplex, status: number, reason: string): void {
    this.#stats.rejected++;
    this.#metrics.increment(WS_REJECTED, 1, { reason });
    const text = {
      401: 'Unauthorized',
      404: 'Not Found',
      408: 'Request Timeout',
      503: 'Service Unavailable',
    }[status];
    if (!socket.destroyed) {
      socket.end(
        `HTTP/1.1 ${status} ${text ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    }
  }

  #accept(ws: WebSocket, grant: WsClientGrant): void {
    const client: Client = {
      ws,
      namespace: grant.namespace,
      canPublish: this.#opts.allowPublish && grant.canPublish !== false,
      subs: new Map(),
      protocolErrors: 0,
      alive: true,
      firstSubscribeTimer: undefined,
    };
    this.#clients.add(client);
    this.#stats.connections++;
    this.#metrics.set(WS_CONNECTIONS, this.#clients.size);
    client.firstSubscribeTimer = this.#clock.setTimer(this.#opts.firstSubscribeTimeoutMs, () => {
      if (client.subs.size === 0) ws.close(WsCloseCode.SUBSCRIBE_TIMEOUT, 'no subscription');
    });
    client.firstSubscribeTimer.unref();
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onFrame(client, data, isBinary));
    ws.on('error', (error) => this.#onError(error));
    ws.on('close', () => {
      this.#dropClient(client);
    });
    this.#send(client, { type: 'hello', v: WS_PROTOCOL_VERSION, canPublish: client.canPublish });
  }

  #dropClient(client: Client): void {
    if (!this.#clients.delete(client)) return;
    client.firstSubscribeTimer?.cancel();
    for (const rx of client.subs.values()) rx.close();
    client.subs.clear();
    this.#metrics.set(WS_CONNECTIONS, this.#clients.size);
  }

  #onFrame(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      client.ws.close(WsCloseCode.UNSUPPORTED_DATA, 'text frames only');
      return;
    }
    let id: string | undefined;
    try {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(new Uint8Array(data)).toString('utf8');
      const message = parseClientMessage(text);
      id = message.id;
      switch (message.op) {
        case 'subscribe':
          this.#subscribe(client, message.pattern, id);
          break;
        case 'unsubscribe':
          this.#unsubscribe(client, message.pattern, id);
          break;
        case 'publish':
          this.#publish(client, message.topic, message.payload, id);
          break;
      }
    } catch (error) {
      this.#protocolError(client, error, id);
    }
  }

  #protocolError(client: Client, error: unknown, id: string | undefined): void {
    client.protocolErrors++;
    this.#stats.protocolErrors++;
    this.#metrics.increment(WS_PROTOCOL_ERRORS);
    this.#send(client, errorMessage(error, id));
    if (client.protocolErrors >= this.#opts.maxProtocolErrors) {
      client.ws.close(WsCloseCode.PROTOCOL_ERRORS, 'too many protocol errors');
    }
  }

  #subscribe(client: Client, pattern: string, id: string | undefined): void {
    validatePattern(pattern);
    if (client.subs.has(pattern)) {
      this.#send(
        client,
        id === undefined ? { type: 'subscribed', pattern } : { type: 'subscribed', pattern, id },
      );
      return;
    }
    if (client.subs.size >= this.#opts.maxSubscriptionsPerClient) {
      throw new CapacityExceededError(
        `at most ${this.#opts.maxSubscriptionsPerClient} subscriptions per client`,
        { code: 'ERR_WS_TOO_MANY_SUBSCRIPTIONS' },
      );
    }
    // A tenant's pattern is prefixed with its namespace, whose prefix cannot hold a
    // wildcard or '/', so even '#' stays inside the tenant.
    const effective = client.namespace === undefined ? pattern : client.namespace.pattern(pattern);
    const options = { capacity: this.#opts.receiverCapacity, overflow: 'drop-oldest' as const };
    Promise.resolve(this.#hub.subscribe(effective, options)).then(
      (rx) => {
        if (!this.#clients.has(client) || client.subs.has(pattern)) {
          rx.close();
          return;
        }
        client.subs.set(pattern, rx);
        client.firstSubscribeTimer?.cancel();
        this.#send(
          client,
          id === undefined ? { type: 'subscribed', pattern } : { type: 'subscribed', pattern, id },
        );
        void this.#pump(client, pattern, rx);
      },
      (error: unknown) => this.#protocolError(client, error, id),
    );
  }

  #unsubscribe(client: Client, pattern: string, id: string | undefined): void {
    const rx = client.subs.get(pattern);
    if (rx === undefined) {
      throw new NotFoundError(`not subscribed to ${JSON.stringify(pattern)}`, {
        code: 'ERR_WS_NOT_SUBSCRIBED',
      });
    }
    client.subs.delete(pattern);
    rx.close();
    this.#send(
      client,
      id === undefined ? { type: 'unsubscribed', pattern } : { type: 'unsubscribed', pattern, id },
    );
  }

  #publish(client: Client, topic: string, payload: unknown, id: string | undefined): void {
    if (!client.canPublish || this.#hub.publish === undefined) {
      throw new InvalidStateError('publishing is not allowed on this connection', {
        code: 'ERR_WS_PUBLISH_FORBIDDEN',
      });
    }
    validateTopic(topic);
    const effective = client.namespace === undefined ? topic : client.namespace.topic(topic);
    this.#hub.publish(effective, payload as JsonValue);
    this.#send(
      client,
      id === undefined ? { type: 'published', topic } : { type: 'published', topic, id },
    );
  }

  // One loop per client subscription: it never throws (errors go to onError) and ends
  // when the receiver closes (unsubscribe, disconnect, bridge close).
  async #pump(client: Client, pattern: string, rx: Receiver<BridgeMessage>): Promise<void> {
    let reported = rx.missed;
    try {
      for await (const message of rx) {
        if (rx.missed !== reported) {
          this.#send(client, { type: 'lagged', pattern, missed: rx.missed - reported });
          reported = rx.missed;
        }
        this.#deliver(client, message);
      }
    } catch (error) {
      if (this.#clients.has(client)) this.#onError(toError(error));
    }
  }

  #deliver(client: Client, message: BridgeMessage): void {
    const { ws } = client;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.#opts.sendHighWaterMarkBytes) {
      if (this.#opts.slowClientPolicy === 'disconnect') {
        this.#stats.slowDisconnects++;
        this.#metrics.increment(WS_DROPPED, 1, DROP_LABELS.disconnect);
        ws.close(WsCloseCode.SLOW_CONSUMER, 'slow consumer');
        this.#dropClient(client);
      } else {
        this.#stats.dropped++;
        this.#metrics.increment(WS_DROPPED, 1, DROP_LABELS.slow);
      }
      return;
    }
    let frame: string | undefined;
    if (client.namespace === undefined) {
      frame = this.#frames.get(message);
      if (frame === undefined) {
        frame = this.#encode(message.topic, message);
        this.#frames.set(message, frame);
      }
    } else {
      const topic = client.namespace.stripTopic(message.topic);
      if (topic === undefined) return; // never deliver outside the tenant
      frame = this.#encode(topic, message);
    }
    ws.send(frame);
    this.#stats.sent++;
    this.#metrics.increment(WS_SENT);
  }

  #encode(topic: string, message: BridgeMessage): string {
    return JSON.stringify({
      type: 'message',
      topic,
      payload: message.payload,
      timestamp: message.timestamp ?? this.#clock.now(),
    });
  }

  #send(client: Client, message: ServerMessage): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message));
  }

  #armPing(): void {
    if (this.#pingTimer !== undefined || this.#life.isClosed) return;
    this.#pingTimer = this.#clock.setTimer(this.#opts.pingIntervalMs, () => {
      this.#pingTimer = undefined;
      for (const client of this.#clients) {
        if (!client.alive) {
          client.ws.terminate();
          this.#dropClient(client);
          continue;
        }
        client.alive = false;
        client.ws.ping();
      }
      this.#armPing();
    });
    this.#pingTimer.unref();
  }
}
