import { throwIfAborted, type WaitOptions } from '../core/abort.js';
import { decodeJson, type JsonValue } from '../core/codec.js';
import { encodeJsonBody, frameTooLargeError, validateMaxFrameBytes } from '../ipc/framing.js';
import { ClosedError, InvalidStateError, NotFoundError, toError } from '../core/errors.js';
import { Lifecycle } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { isFunction, nonEmptyString, optionalSignal, positiveInteger } from '../core/validate.js';
import { Inbox } from './inbox.js';
import {
  TRANSPORT_LABELS,
  transportConnections,
  transportMessagesReceived,
  transportMessagesSent,
} from './metrics.js';
import type { Connection, ConnectOptions, Listener, Transport, TransportMessage } from './types.js';

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** Messages buffered per receiving side before `send` waits. @defaultValue 1024 */
  readonly maxBufferedMessages?: number;
  /** Largest encoded message. @defaultValue 16 MiB */
  readonly maxMessageBytes?: number;
  /** Receives message and connection counts (`transport="memory"`); default reports nothing. */
  readonly metrics?: MetricsSink;
}

const LABELS = TRANSPORT_LABELS.memory;

function closedError(): ClosedError {
  return new ClosedError('connection closed', { code: 'ERR_TRANSPORT_CONNECTION_CLOSED' });
}

class MemoryConnection implements Connection {
  readonly endpoint: string;
  readonly inbox: Inbox<TransportMessage>;
  peer: MemoryConnection | undefined;
  readonly #life = new Lifecycle('MemoryConnection');
  readonly #maxBytes: number;
  readonly #metrics: MetricsSink;

  constructor(endpoint: string, capacity: number, maxBytes: number, metrics: MetricsSink) {
    this.endpoint = endpoint;
    this.inbox = new Inbox<TransportMessage>(capacity);
    this.#maxBytes = maxBytes;
    this.#metrics = metrics;
  }

  get isConnected(): boolean {
    return !this.#life.isClosed;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  async send(message: TransportMessage, options: WaitOptions = {}): Promise<void> {
    const signal = optionalSignal('signal', options.signal);
    if (this.#life.isClosed) throw closedError();
    throwIfAborted(signal, 'send');
    // Encode and decode like a socket would, so the same messages fail everywhere and
    // the receiver never shares an object (or bytes) with the sender.
    const binary = message instanceof Uint8Array;
    let body: Uint8Array;
    if (binary) {
      // A socket frame carries the bytes plus a one-byte tag: the same cap applies.
      const size = message.byteLength + 1;
      if (size > this.#maxBytes) throw frameTooLargeError(size, this.#maxBytes, 'send');
      body = new Uint8Array(message);
    } else {
      body = encodeJsonBody(message, this.#maxBytes);
    }
    const peer = this.peer;
    if (peer === undefined) throw closedError();
    if (peer.inbox.isFull) await peer.inbox.waitForSpace(signal);
    if (!this.isConnected || peer.inbox.isEnded) throw closedError();
    peer.inbox.push(binary ? body : (decodeJson(body, this.#maxBytes) as JsonValue));
    // Both ends share the transport's sink, so the receive is counted here too.
    this.#metrics.increment(transportMessagesSent, 1, LABELS.transport);
    this.#metrics.increment(transportMessagesReceived, 1, LABELS.transport);
  }

  incoming(): AsyncIterable<TransportMessage> {
    return this.inbox.iterate();
  }

  close(): Promise<void> {
    return this.#life.close(() => {
      this.inbox.end();
      const peer = this.peer;
      this.peer = undefined;
      if (peer !== undefined) {
        // Unlink first: the peer's close must not call back into this one.
        peer.peer = undefined;
        void peer.close();
      }
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

class MemoryListener implements Listener {
  readonly endpoint: string;
  readonly onConnection: (connection: Connection) => void;
  readonly #life = new Lifecycle('MemoryListener');
  readonly #remove: () => void;

  constructor(
    endpoint: string,
    onConnection: (connection: Connection) => void,
    remove: () => void,
  ) {
    this.endpoint = endpoint;
    this.onConnection = onConnection;
    this.#remove = remove;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  close(): Promise<void> {
    return this.#life.close(() => this.#remove());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * An in-process {@link Transport}: endpoints are names in this transport object, so
 * every "node" sharing the object can reach the others. Messages go through the JSON
 * codec (same size cap and serialisability rules as the socket transports) and each
 * receiving side buffers at most `maxBufferedMessages` before `send` waits.
 *
 * @example
 * ```ts
 * const net = new MemoryTransport();
 * await net.listen('b', (conn) => void (async () => {
 *   for await (const m of conn.incoming()) console.log(m);
 * })());
 * const conn = await net.connect('b');
 * await conn.send({ hello: 'world' });
 * ```
 */
export class MemoryTransport implements Transport {
  readonly #listeners = new Map<string, MemoryListener>();
  readonly #capacity: number;
  readonly #maxBytes: number;
  readonly #metrics: MetricsSink;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: MemoryTransportOptions = {}) {
    this.#capacity = positiveInteger('maxBufferedMessages', options.maxBufferedMessages ?? 1024);
    this.#maxBytes = validateMaxFrameBytes(options.maxMessageBytes, 'maxMessageBytes');
    this.#metrics = options.metrics ?? noopMetrics;
  }

  /** Names currently listening. */
  get endpoints(): string[] {
    return [...this.#listeners.keys()];
  }

  connect(endpoint: string, options: ConnectOptions = {}): Promise<Connection> {
    try {
      nonEmptyString('endpoint', endpoint, 1024);
      throwIfAborted(optionalSignal('signal', options.signal), 'connect');
      const listener = this.#listeners.get(endpoint);
      if (listener === undefined) {
        throw new NotFoundError(`no listener at memory endpoint ${JSON.stringify(endpoint)}`, {
          code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
          details: { endpoint },
        });
      }
      const metrics = this.#metrics;
      const client = new MemoryConnection(endpoint, this.#capacity, this.#maxBytes, metrics);
      const server = new MemoryConnection(endpoint, this.#capacity, this.#maxBytes, metrics);
      client.peer = server;
      server.peer = client;
      metrics.increment(transportConnections, 1, LABELS.dialed);
      metrics.increment(transportConnections, 1, LABELS.accepted);
      listener.onConnection(server);
      return Promise.resolve(client);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  listen(endpoint: string, onConnection: (connection: Connection) => void): Promise<Listener> {
    try {
      nonEmptyString('endpoint', endpoint, 1024);
      isFunction('onConnection', onConnection);
      if (this.#listeners.has(endpoint)) {
        throw new InvalidStateError(
          `memory endpoint ${JSON.stringify(endpoint)} is already listening`,
        );
      }
      const listener = new MemoryListener(endpoint, onConnection, () => {
        if (this.#listeners.get(endpoint) === listener) this.#listeners.delete(endpoint);
      });
      this.#listeners.set(endpoint, listener);
      return Promise.resolve(listener);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }
}
