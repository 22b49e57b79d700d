import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { waitFor } from '../../core/abort.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import {
  InvalidStateError,
  NotFoundError,
  CapacityExceededError,
  toError,
} from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { labelTable, type MetricsSink } from '../../core/metrics.js';
import type { Receiver } from '../../pubsub/receiver.js';
import { validatePattern, validateTopic } from '../../pubsub/topic.js';
import type { JsonValue } from '../../core/codec.js';
import { WS_CONNECTIONS, WS_DROPPED, WS_PROTOCOL_ERRORS, WS_REJECTED, WS_SENT } from './metrics.js';
import {
  resolveWsBridgeOptions,
  type BridgeHub,
  type BridgeMessage,
  type Client,
  type ResolvedLimits,
  type WsBridgeOptions,
  type WsBridgeStats,
  type WsClientGrant,
} from './options.js';
import {
  encodeMessageFrame,
  errorMessage,
  httpRefusal,
  parseClientMessage,
  WS_PROTOCOL_VERSION,
  WsCloseCode,
  type ServerMessage,
} from './protocol.js';

const DROP_LABELS = labelTable('reason', ['slow', 'disconnect']);

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
  readonly #opts: ResolvedLimits;
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
    const resolved = resolveWsBridgeOptions(options);
    this.#hub = resolved.hub;
    this.#authenticate = resolved.authenticate;
    this.#opts = resolved.opts;
    this.#path = resolved.path;
    this.#clock = resolved.clock;
    this.#metrics = resolved.metrics;
    this.#onError = resolved.onError;
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
    if (!socket.destroyed) socket.end(httpRefusal(status));
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
    return encodeMessageFrame(topic, message.payload, message.timestamp ?? this.#clock.now());
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
