import type { WaitOptions } from '../core/abort.js';
import { NotFoundError, toError } from '../core/errors.js';
import { invalid, isFunction, nonEmptyString } from '../core/validate.js';
import type { ConnectionPool } from '../transport/connection-pool.js';
import { SENT } from '../transport/sent.js';
import type { Connection, TransportMessage } from '../transport/types.js';
import { RelayEnvelopeEncoder } from './envelope.js';
import { MAX_RELAY_ID_LENGTH, relayMessageToJson, type RelayMessage } from './message.js';
import type { RelayRouter } from './relay-types.js';

/** What goes on the wire: a version 1 JSON envelope, or a version 2 one to be encoded. */
type Wire = TransportMessage | RelayEnvelopeEncoder;

/** Options of {@link PeerRouter}. */
export interface PeerRouterOptions {
  /** Initial peers: node id → endpoint. */
  readonly peers?: Readonly<Record<string, string>>;
  /** Receives per-peer failures of a broadcast (a broadcast itself never rejects). */
  readonly onError?: (error: Error, nodeId: string) => void;
  /**
   * The envelope written: `'binary'` (wire version 2) or `'json'` (version 1, the
   * reference's serde layout, for peers that read only JSON). A relay reads both.
   * @defaultValue 'binary'
   */
  readonly wireFormat?: 'binary' | 'json';
}

/**
 * A {@link RelayRouter} that maps node ids to endpoints and sends through a
 * {@link ConnectionPool} (so every peer has its own circuit breaker). A send that fails
 * on a pooled connection marks the connection failed (closed, counted by the breaker).
 * Broadcasts go to every known peer concurrently; failures are reported to `onError`.
 */
export class PeerRouter implements RelayRouter {
  readonly #pool: ConnectionPool;
  readonly #peers = new Map<string, string>();
  readonly #onError: ((error: Error, nodeId: string) => void) | undefined;
  readonly #json: boolean;

  /** Routes through `pool` (which owns the connections and breakers) to the given `peers`. */
  constructor(pool: ConnectionPool, options: PeerRouterOptions = {}) {
    this.#pool = pool;
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#onError = options.onError;
    const format: unknown = options.wireFormat ?? 'binary';
    if (format !== 'binary' && format !== 'json') {
      invalid('wireFormat', "'binary' or 'json'", format);
    }
    this.#json = format === 'json';
    for (const [nodeId, endpoint] of Object.entries(options.peers ?? {})) {
      this.addPeer(nodeId, endpoint);
    }
  }

  /** Known peers: node id → endpoint. */
  get peers(): ReadonlyMap<string, string> {
    return this.#peers;
  }

  /** Adds or replaces a peer. */
  addPeer(nodeId: string, endpoint: string): void {
    nonEmptyString('nodeId', nodeId, MAX_RELAY_ID_LENGTH);
    nonEmptyString('endpoint', endpoint, 4096);
    this.#peers.set(nodeId, endpoint);
  }

  /** Removes a peer; returns whether it was known. */
  removePeer(nodeId: string): boolean {
    return this.#peers.delete(nodeId);
  }

  deliver(message: RelayMessage, options?: WaitOptions): Promise<void> {
    try {
      const wire = this.#json ? relayMessageToJson(message) : new RelayEnvelopeEncoder(message);
      if (message.to !== '') {
        const endpoint = this.#peers.get(message.to);
        if (endpoint === undefined) {
          throw new NotFoundError(`no route to node ${JSON.stringify(message.to)}`, {
            code: 'ERR_RELAY_NO_ROUTE',
            details: { nodeId: message.to },
          });
        }
        return this.#sendTo(endpoint, wire, options);
      }
      const sends: Promise<void>[] = [];
      for (const [nodeId, endpoint] of this.#peers) {
        if (nodeId === message.from) continue;
        sends.push(
          this.#sendTo(endpoint, wire, options).catch((error: unknown) => {
            this.#onError?.(toError(error), nodeId);
          }),
        );
      }
      return Promise.all(sends).then(() => undefined);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * Sends on a pooled connection at once when there is one (the write happens before this
   * returns, with no promise turn in between), otherwise after the pool's dial.
   */
  #sendTo(endpoint: string, wire: Wire, options?: WaitOptions): Promise<void> {
    let ready: Connection | undefined;
    try {
      ready = this.#pool.tryAcquire(endpoint);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    if (ready !== undefined) return this.#sendOn(endpoint, ready, wire, options);
    return this.#pool
      .acquire(endpoint, options)
      .then((connection) => this.#sendOn(endpoint, connection, wire, options));
  }

  #sendOn(
    endpoint: string,
    connection: Connection,
    wire: Wire,
    options?: WaitOptions,
  ): Promise<void> {
    let sent: Promise<void>;
    if (!(wire instanceof RelayEnvelopeEncoder)) sent = connection.send(wire, options);
    else if (connection.sendEncoded !== undefined) sent = connection.sendEncoded(wire, options);
    else sent = connection.send(wire.toBytes(), options);
    if (sent === SENT) return sent; // written already: nothing can fail any more
    return sent.catch((error: unknown) => {
      // A bad message (too large, not serialisable) is the caller's fault, not the link's.
      const code = (error as { code?: unknown }).code;
      if (
        code !== 'ERR_CODEC_TOO_LARGE' &&
        code !== 'ERR_CODEC_NOT_SERIALIZABLE' &&
        code !== 'ERR_IPC_FRAME_TOO_LARGE' &&
        code !== 'ERR_ABORTED'
      ) {
        this.#pool.markFailed(endpoint, connection, error);
      }
      throw error;
    });
  }
}
