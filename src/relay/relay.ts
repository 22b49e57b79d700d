import { abortError, type WaitOptions } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { ClosedError, InvalidArgumentError, NotFoundError, toError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricsSink } from '../core/metrics.js';
import {
  isFunction,
  nonEmptyString,
  nonNegativeNumber,
  optionalSignal,
  positiveInteger,
} from '../core/validate.js';
import { SENT } from '../transport/sent.js';
import type { Connection, Listener, Transport, TransportMessage } from '../transport/types.js';
import { randomCorrelationId } from './correlation-id.js';
import { DedupMetrics, DedupTable } from './dedup.js';
import { decodeRelayEnvelope } from './envelope.js';
import { runRequestHandler, type HandlerAnswer } from './handler.js';
import { PendingRequests } from './pending.js';
import type {
  RelayOptions,
  RelayRequestOptions,
  RelayRouter,
  RelayStats,
  RequestHandler,
} from './relay-types.js';
import { relayConfig, relayStats, type RelayCounts } from './relay-config.js';
import {
  MAX_RELAY_ID_LENGTH,
  relayMessageFromJson,
  validSeq,
  type RelayMessage,
} from './message.js';
import {
  DROP_LABELS,
  RELAY_LABELS,
  relayDropped,
  relayReceived,
  relaySent,
  type RelaySendKind,
} from './metrics.js';
import { RelaySubscription, type IncomingMessage } from './subscription.js';

/**
 * A node's relay: stamps outbound messages with a per-sender sequence number and epoch,
 * suppresses duplicate, replayed and stale inbound messages, correlates requests with
 * their replies, and moves messages over any {@link Transport} (outbound through a
 * {@link RelayRouter}, inbound through {@link Relay.attach} / {@link Relay.listen}).
 *
 * @example
 * ```ts
 * const net = new MemoryTransport();
 * const pool = new ConnectionPool(net);
 * const a = new Relay('a', { router: new PeerRouter(pool, { peers: { b: 'b' } }) });
 * const b = new Relay('b', { router: new PeerRouter(pool, { peers: { a: 'a' } }) });
 * await a.listen(net, 'a');
 * await b.listen(net, 'b');
 * b.handle('ping', () => 'pong');
 * const reply = await a.request('b', 'ping', null, { timeoutMs: 1000 });
 * reply.payload; // 'pong'
 * ```
 */
export class Relay implements Closeable {
  /** This node's id. */
  readonly nodeId: string;
  /** This node's incarnation, stamped on every outbound message. */
  readonly epoch: number;
  /** Most requests awaiting a reply at once (from the options). */
  readonly maxPendingRequests: number;
  /** Timeout of requests that pass no `timeoutMs` (from the options). */
  readonly requestTimeoutMs: number;
  readonly #router: RelayRouter | undefined;
  readonly #dedup: DedupTable;
  readonly #dedupMetrics: DedupMetrics;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #subCapacity: number;
  readonly #life = new Lifecycle('Relay');
  readonly #pending: PendingRequests;
  readonly #subs = new Set<RelaySubscription>();
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #links = new Set<Connection>();
  readonly #listeners = new Set<Listener>();
  #seq = 0;
  readonly #counts: RelayCounts = {
    sent: 0,
    received: 0,
    duplicates: 0,
    misdirected: 0,
    invalid: 0,
  };

  /** @throws InvalidArgumentError for a bad node id or option. */
  constructor(nodeId: string, options: RelayOptions = {}) {
    this.nodeId = nonEmptyString('nodeId', nodeId, MAX_RELAY_ID_LENGTH);
    const config = relayConfig(options);
    this.#router = config.router;
    this.#dedup = new DedupTable(config.maxDedupEntries, config.dedupTtlMs);
    this.maxPendingRequests = config.maxPendingRequests;
    this.requestTimeoutMs = config.requestTimeoutMs;
    this.#subCapacity = config.subscriptionCapacity;
    this.#onError = config.onError;
    this.#clock = config.clock;
    this.#metrics = config.metrics;
    this.#pending = new PendingRequests(this.maxPendingRequests, this.#clock, this.#metrics);
    this.#dedupMetrics = new DedupMetrics(this.#dedup, this.#metrics);
    this.epoch = config.epoch;
  }

  /** Requests awaiting a reply. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Senders tracked for deduplication. */
  get dedupTableSize(): number {
    return this.#dedup.size;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Sends `payload` to node `to`. Resolves with the message's seq once delivered to the router. */
  send(to: string, type: string, payload: JsonValue, options?: WaitOptions): Promise<number> {
    try {
      nonEmptyString('to', to, MAX_RELAY_ID_LENGTH);
      const message = this.#stamp(to, type, payload, undefined, false);
      return this.#emit(message, 'send', options).then(() => message.seq);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /** Sends `payload` to every peer the router knows. Resolves with the seq. */
  broadcast(type: string, payload: JsonValue, options?: WaitOptions): Promise<number> {
    try {
      const message = this.#stamp('', type, payload, undefined, false);
      return this.#emit(message, 'broadcast', options).then(() => message.seq);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * Sends a request to `to` and resolves with its reply. Only a reply from `to` itself
   * is accepted. Rejects with `ERR_RELAY_REQUEST_TIMEOUT`, an abort error, the delivery
   * error, `ERR_RELAY_REQUEST_EVICTED`, `ERR_RELAY_REMOTE_ERROR` (the handler threw),
   * `ERR_RELAY_TOO_MANY_REQUESTS` or `ERR_CLOSED`; the pending entry is removed on
   * every path.
   */
  request(
    to: string,
    type: string,
    payload: JsonValue,
    options: RelayRequestOptions = {},
  ): Promise<RelayMessage> {
    try {
      this.#life.assertOpen('request');
      nonEmptyString('to', to, MAX_RELAY_ID_LENGTH);
      if (to === this.nodeId) {
        throw new InvalidArgumentError('to: a relay cannot send a request to itself');
      }
      const signal = optionalSignal('signal', options.signal);
      const timeoutMs = nonNegativeNumber('timeoutMs', options.timeoutMs ?? this.requestTimeoutMs);
      if (signal?.aborted === true) throw abortError(signal, 'request');
      this.#pending.assertRoom(this.nodeId);
      const correlationId = randomCorrelationId();
      const message = this.#stamp(to, type, payload, correlationId, false);
      const pending = this.#pending.open(this.nodeId, correlationId, to, type, timeoutMs, signal);
      const sent = this.#emit(message, 'request', options);
      if (sent !== SENT) {
        sent.catch((error: unknown) => {
          this.#pending.finish(pending, undefined, toError(error), 'failed');
        });
      }
      return pending.promise;
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /** Replies to `request` (a message received with a correlation id). Resolves with the seq. */
  reply(request: RelayMessage, payload: JsonValue, options?: WaitOptions): Promise<number> {
    try {
      if (request.correlationId === undefined) {
        throw new InvalidArgumentError('request: expected a message with a correlationId');
      }
      const message = this.#stamp(request.from, request.type, payload, request.correlationId, true);
      return this.#emit(message, 'reply', options).then(() => message.seq);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * Answers requests of `type` with `handler` (one handler per type; requests of a type
   * without a handler go to subscribers). A throwing handler sends an error reply, which
   * rejects the requester with `ERR_RELAY_REMOTE_ERROR`. Returns a function that removes
   * the handler.
   */
  handle(type: string, handler: RequestHandler): () => void {
    nonEmptyString('type', type, MAX_RELAY_ID_LENGTH);
    isFunction('handler', handler);
    this.#handlers.set(type, handler);
    return () => {
      if (this.#handlers.get(type) === handler) this.#handlers.delete(type);
    };
  }

  /** A new subscription to accepted inbound messages (not replies that resolved a request). */
  subscribe(options: { readonly capacity?: number } = {}): RelaySubscription {
    this.#life.assertOpen('subscribe');
    const capacity = positiveInteger('capacity', options.capacity ?? this.#subCapacity);
    const sub = new RelaySubscription(capacity, (s) => this.#subs.delete(s));
    this.#subs.add(sub);
    return sub;
  }

  /**
   * Processes one inbound message: ignores our own and misaddressed messages, drops
   * duplicates, resolves a pending request (when the reply comes from the node that was
   * asked), runs a handler, or delivers to subscribers. Returns the accepted message,
   * or undefined when it was dropped or consumed by a pending request.
   */
  receive(message: RelayMessage): IncomingMessage | undefined {
    if (this.#life.isClosed) return undefined;
    if (message.from === this.nodeId) return undefined;
    if (message.to !== '' && message.to !== this.nodeId) return undefined;
    if (!validSeq(message.seq) || !(message.epoch === 0 || validSeq(message.epoch))) {
      this.#counts.invalid++;
      this.#metrics.increment(relayDropped, 1, RELAY_LABELS.dropped.invalid);
      return undefined;
    }
    const before = this.#dedup.size;
    const verdict = this.#dedup.check(
      message.from,
      message.epoch,
      message.seq,
      this.#clock.monotonic(),
    );
    this.#dedupMetrics.report(before);
    if (verdict !== 'accept') {
      this.#counts.duplicates++;
      this.#metrics.increment(relayDropped, 1, DROP_LABELS[verdict]);
      return undefined;
    }
    this.#counts.received++;
    this.#metrics.increment(relayReceived);
    const cid = message.correlationId;
    if (cid !== undefined) {
      if (message.isReply) {
        const pending = this.#pending.get(cid);
        if (pending !== undefined) {
          if (pending.to !== message.from) {
            this.#counts.misdirected++;
            this.#metrics.increment(relayDropped, 1, RELAY_LABELS.dropped.misdirected_reply);
            return undefined;
          }
          this.#pending.finish(pending, message, undefined, 'ok');
          return undefined;
        }
      } else {
        const handler = this.#handlers.get(message.type);
        if (handler !== undefined) {
          this.#runHandler(handler, message);
          return { message, isBroadcast: message.to === '' };
        }
      }
    }
    const incoming: IncomingMessage = { message, isBroadcast: message.to === '' };
    for (const sub of this.#subs) sub.push(incoming);
    return incoming;
  }

  /**
   * Feeds every message arriving on `connection` into {@link Relay.receive} until it
   * ends. Invalid messages are counted and reported to `onError` (the connection stays,
   * the frame boundary is intact); a broken stream (oversized or truncated frame) is
   * reported and the connection closed. Never rejects.
   */
  async attach(connection: Connection): Promise<void> {
    if (this.#life.isClosed) {
      await connection.close().catch(() => undefined);
      return;
    }
    this.#links.add(connection);
    try {
      if (typeof connection.consume === 'function') {
        // Push-style: each message is handled as it is decoded, no promise per message.
        await connection.consume(this.#onWire);
      } else {
        for await (const value of connection.incoming()) this.#onWire(value);
      }
    } catch (error) {
      this.#report(error);
    } finally {
      this.#links.delete(connection);
      await connection.close().catch(() => undefined);
    }
  }

  /** Decodes one inbound transport message (either envelope version) and receives it. */
  readonly #onWire = (value: TransportMessage): void => {
    let message: RelayMessage;
    try {
      message =
        value instanceof Uint8Array ? decodeRelayEnvelope(value) : relayMessageFromJson(value);
    } catch (error) {
      this.#counts.invalid++;
      this.#metrics.increment(relayDropped, 1, RELAY_LABELS.dropped.invalid);
      this.#report(error);
      return;
    }
    this.receive(message);
  };

  /** Listens on `endpoint` of `transport` and attaches every accepted connection. */
  async listen(transport: Transport, endpoint: string): Promise<Listener> {
    this.#life.assertOpen('listen');
    const listener = await transport.listen(endpoint, (connection) => void this.attach(connection));
    this.#listeners.add(listener);
    void listener.closed.then(() => this.#listeners.delete(listener));
    return listener;
  }

  /** Rejects pending requests older than `maxAgeMs` with `ERR_RELAY_REQUEST_EVICTED`. */
  evictStaleRequests(maxAgeMs: number): number {
    nonNegativeNumber('maxAgeMs', maxAgeMs);
    return this.#pending.evictOlderThan(maxAgeMs);
  }

  /** Forgets senders whose last accepted message is older than `maxIdleMs`. */
  evictStaleDedup(maxIdleMs: number): number {
    nonNegativeNumber('maxIdleMs', maxIdleMs);
    const before = this.#dedup.size;
    const removed = this.#dedup.evictIdle(maxIdleMs, this.#clock.monotonic());
    this.#dedupMetrics.report(before);
    return removed;
  }

  /** A snapshot of the counters. */
  stats(): RelayStats {
    return relayStats(this.#counts, this.#dedup, this.#pending);
  }

  /**
   * Rejects pending requests with `ERR_CLOSED`, ends subscriptions, closes listeners and
   * attached connections. Sends after close reject with `ERR_CLOSED`.
   */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#pending.rejectAll(new ClosedError('relay closed'));
      for (const sub of [...this.#subs]) sub.close();
      this.#dedup.clear();
      const closing: Promise<void>[] = [];
      for (const listener of this.#listeners) closing.push(listener.close());
      for (const link of this.#links) closing.push(link.close());
      await Promise.all(closing.map((p) => p.catch(() => undefined)));
    });
  }

  /** Same as `close()`, so `await using relay = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stamp(
    to: string,
    type: string,
    payload: JsonValue,
    correlationId: string | undefined,
    isReply: boolean,
  ): RelayMessage {
    this.#life.assertOpen('send');
    nonEmptyString('type', type, MAX_RELAY_ID_LENGTH);
    const message: { -readonly [K in keyof RelayMessage]: RelayMessage[K] } = {
      seq: ++this.#seq,
      epoch: this.epoch,
      from: this.nodeId,
      to,
      type,
      payload,
      timestamp: this.#clock.now(),
      isReply,
    };
    if (correlationId !== undefined) message.correlationId = correlationId;
    return message;
  }

  /**
   * Hands `message` to the router synchronously (a pooled socket is written before this
   * returns). Resolves when the router is done; callers that report the seq add it.
   */
  #emit(message: RelayMessage, kind: RelaySendKind, options?: WaitOptions): Promise<void> {
    this.#counts.sent++;
    this.#metrics.increment(relaySent, 1, RELAY_LABELS.kind[kind]);
    const router = this.#router;
    if (router === undefined) {
      return Promise.reject(
        new NotFoundError(`relay ${this.nodeId} has no router`, { code: 'ERR_RELAY_NO_ROUTE' }),
      );
    }
    try {
      return router.deliver(message, options);
    } catch (error) {
      // A custom router that throws instead of rejecting.
      return Promise.reject(toError(error));
    }
  }

  #runHandler(handler: RequestHandler, request: RelayMessage): void {
    const answer = runRequestHandler(handler, request);
    if (answer instanceof Promise) {
      answer
        .then((settled) => this.#answer(request, settled))
        .catch((error: unknown) => this.#report(error));
    } else {
      const sent = this.#answer(request, answer);
      if (sent !== SENT) sent.catch((error: unknown) => this.#report(error));
    }
  }

  /** Sends the reply to `request` (nothing once closed). */
  #answer(request: RelayMessage, answer: HandlerAnswer): Promise<void> {
    if (this.#life.isClosed) return Promise.resolve();
    try {
      const { from, type, correlationId } = request;
      const reply = this.#stamp(from, type, answer.payload, correlationId, true);
      return this.#emit(answer.error === undefined ? reply : { ...reply, ...answer }, 'reply');
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  #report(error: unknown): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(toError(error));
    } catch {
      // onError must not break the relay.
    }
  }
}
