import type { WaitOptions } from '../core/abort.js';
import type { JsonValue } from '../core/codec.js';
import type { Closeable } from '../core/lifecycle.js';

/**
 * What a {@link Connection} carries: a JSON value, or raw bytes (a `Uint8Array`, received
 * as a `Uint8Array` with the same bytes). Bytes let a protocol on top, such as the
 * relay's binary envelope, skip JSON entirely.
 */
export type TransportMessage = JsonValue | Uint8Array;

/**
 * A byte message that writes itself into the transport's own buffer (see
 * {@link Connection.sendEncoded}): the transport allocates one frame with room for
 * `maxBytes` and calls `encodeInto` at the body's offset, so the bytes are never built in a
 * buffer of their own and copied into the frame. `encodeInto` may be called more than once
 * (a broadcast writes one frame per peer) and must write the same bytes each time.
 */
export interface ByteEncoder {
  /** Upper bound of the bytes {@link ByteEncoder.encodeInto} writes. */
  readonly maxBytes: number;
  /** Writes the message at `target[offset]` onwards; returns the bytes written (`<= maxBytes`). */
  encodeInto(target: Buffer, offset: number): number;
}

/**
 * One open link to a peer, carrying messages (JSON values or bytes) in order. Both
 * directions use the same object: `send` writes, `incoming()` reads.
 */
export interface Connection extends Closeable {
  /** The endpoint this connection was dialled to, or the listener's endpoint for accepted ones. */
  readonly endpoint: string;
  /** False once the connection closed, failed or the peer went away. */
  readonly isConnected: boolean;
  /**
   * Sends one message. Resolves once it was handed to the OS (sockets) or queued on the
   * peer (memory); awaits backpressure. Rejects with `ERR_TRANSPORT_CONNECTION_CLOSED`
   * when the connection is gone, `ERR_TRANSPORT_FRAME_TOO_LARGE` /
   * `ERR_CODEC_NOT_SERIALIZABLE` for a bad message (the connection stays usable).
   */
  send(message: TransportMessage, options?: WaitOptions): Promise<void>;
  /**
   * Optional: sends the bytes `encoder` writes as one byte message (received as a
   * `Uint8Array`, exactly as if they had been passed to `send`), written straight into the
   * frame: one allocation and one socket write. Rejects like `send`. Socket connections
   * implement it; where it is missing, encode into a `Uint8Array` and `send` that.
   */
  sendEncoded?(encoder: ByteEncoder, options?: WaitOptions): Promise<void>;
  /**
   * The messages received, in order. Iteration ends when the connection closes cleanly
   * and throws the error that broke it (frame too large, truncated frame). There is one
   * stream per connection: iterate it from one place only.
   */
  incoming(): AsyncIterable<TransportMessage>;
  /**
   * Optional push-style alternative to {@link Connection.incoming}: calls `onMessage`
   * synchronously for each message, in order, as soon as it is decoded, with no promise
   * per message. Resolves when the connection ends cleanly; rejects with the error that
   * broke it, or with what `onMessage` threw (which ends the stream). Exclusive with
   * `incoming()`: one consumer per connection. Socket connections implement it; where it
   * is missing, iterate `incoming()`.
   */
  consume?(onMessage: (message: TransportMessage) => void): Promise<void>;
}

/** Accepts connections on one endpoint. */
export interface Listener extends Closeable {
  /** The bound endpoint (for TCP with port 0, the real port). */
  readonly endpoint: string;
}

/** Options of {@link Transport.connect}. */
export type ConnectOptions = WaitOptions;

/**
 * The transport port: how nodes reach each other. Implementations: `MemoryTransport`
 * (one process), `UnixSocketTransport`, `TcpTransport` (optionally TLS).
 */
export interface Transport {
  /**
   * Dials `endpoint`. Rejects with `ERR_TRANSPORT_UNKNOWN_ENDPOINT` (nothing listens
   * there, or it is malformed) or `ERR_TRANSPORT_CONNECT_FAILED` (other socket errors),
   * or an abort error when `signal` aborts.
   */
  connect(endpoint: string, options?: ConnectOptions): Promise<Connection>;
  /**
   * Listens on `endpoint`; every accepted connection is passed to `onConnection`, which
   * owns it (and must close it).
   */
  listen(endpoint: string, onConnection: (connection: Connection) => void): Promise<Listener>;
}
