import { connect as netConnect, type Socket } from 'node:net';
import { abortError, waitFor, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ClosedError, MajraError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { nonNegativeInteger, optionalSignal, positiveInteger } from '../core/validate.js';
import { FrameInbox } from './frame-inbox.js';
import { FrameWriter } from './frame-writer.js';
import { FrameDecoder, encodeFrame, encodeJsonBody, validateMaxFrameBytes } from './framing.js';
import { IPC_BYTES_RECEIVED, IPC_CONNECTIONS } from './metrics.js';
import { ioError, validateSocketPath } from './socket-path.js';
import {
  asError,
  countIpcError,
  decodeCounted,
  isCleanClose,
  untilCleanClose,
} from './stream-support.js';

export { isCleanClose } from './stream-support.js';

/** Options shared by every {@link IpcConnection}. */
export interface IpcConnectionOptions {
  /** Largest frame body sent or accepted, 1 .. 16 MiB. @defaultValue 16 MiB */
  readonly maxFrameBytes?: number;
  /**
   * Received frames queued before the socket is paused (kernel backpressure reaches the
   * peer). Memory per connection stays below this plus one frame. @defaultValue 4 MiB
   */
  readonly maxBufferedBytes?: number;
  /** How long `close()` waits for the peer to acknowledge before destroying. @defaultValue 5000 */
  readonly closeTimeoutMs?: number;
  /** Clock for the close timeout. */
  readonly clock?: Clock;
  /** Metrics sink. */
  readonly metrics?: MetricsSink;
}

/** Options of {@link IpcConnection.connect}. */
export interface ConnectIpcOptions extends IpcConnectionOptions, WaitOptions {
  /** Rejects with a TimeoutError when the connection is not established in time. */
  readonly timeoutMs?: number;
}

// Set by IpcConnection's static block (declared first: the block runs at class definition).
let sendEncodedImpl:
  | ((connection: IpcConnection, frame: Buffer, signal: AbortSignal | undefined) => Promise<void>)
  | undefined;
let takeQueuedImpl: ((connection: IpcConnection) => Buffer | undefined) | undefined;

const PLAIN = { layer: 'plain' } as const;
const DIALED = { side: 'dialed' } as const;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * One framed, bidirectional connection over a stream socket (normally a Unix socket).
 * Each message is one length-prefixed frame (see docs/ipc.md): `send`/`recv` carry
 * JSON values, `sendBytes`/`recvBytes` raw bytes with no JSON cost.
 *
 * - `send` writes header and body with a single `write` and resolves when the socket
 *   accepted the bytes below its high-water mark, otherwise after `drain`; concurrent
 *   sends never interleave and keep their call order.
 * - Received frames are queued up to `maxBufferedBytes`, then the socket is paused.
 *   Concurrent `recv` calls are served in call order. Aborting a `recv` consumes nothing.
 * - A header announcing more than `maxFrameBytes` fails the connection (the stream is no
 *   longer trustworthy): pending and later `recv` reject with `ERR_IPC_FRAME_TOO_LARGE`.
 * - The peer closing between frames ends `recv` with `ERR_IPC_CONNECTION_CLOSED` (and ends
 *   `for await` loops); mid-frame with `ERR_IPC_FRAME_TRUNCATED`.
 *
 * @example
 * ```ts
 * await using conn = await IpcConnection.connect('/run/app.sock');
 * await conn.send({ hello: 'world' });
 * const reply = await conn.recv();
 * ```
 */
export class IpcConnection implements Closeable, AsyncIterable<unknown> {
  readonly #socket: Socket;
  readonly #life = new Lifecycle('IpcConnection');
  readonly #decoder: FrameDecoder;
  readonly #maxFrameBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #inbox: FrameInbox;
  readonly #writer: FrameWriter;
  readonly #socketClosed: Promise<void>;

  private constructor(socket: Socket, options: IpcConnectionOptions) {
    this.#maxFrameBytes = validateMaxFrameBytes(options.maxFrameBytes);
    const maxBufferedBytes = positiveInteger(
      'maxBufferedBytes',
      options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    );
    this.#closeTimeoutMs = nonNegativeInteger('closeTimeoutMs', options.closeTimeoutMs ?? 5000);
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#decoder = new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes });
    this.#socket = socket;
    this.#inbox = new FrameInbox(socket, maxBufferedBytes, this.#metrics);
    this.#socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#writer = new FrameWriter(socket, this.#metrics);
  }

  /**
   * Wraps an already connected stream socket (Unix or TCP). The socket must not have
   * been read from; the connection takes ownership of it.
   */
  static fromSocket(socket: Socket, options: IpcConnectionOptions = {}): IpcConnection {
    return new IpcConnection(socket, options);
  }

  /**
   * Connects to a Unix socket at `path`. Rejects with `ERR_IPC_IO` (`details.errno`
   * `ENOENT`, `ECONNREFUSED`, ...), `ERR_IPC_PATH_TOO_LONG`, a TimeoutError or AbortedError.
   */
  static async connect(path: string, options: ConnectIpcOptions = {}): Promise<IpcConnection> {
    const socketPath = validateSocketPath(path);
    optionalSignal('signal', options.signal);
    // Validate the options before any I/O.
    validateMaxFrameBytes(options.maxFrameBytes);
    const socket = netConnect({ path: socketPath, allowHalfOpen: false });
    try {
      await waitFor<undefined>(
        (resolve, reject) => {
          const onConnect = (): void => resolve(undefined);
          const onError = (error: Error): void => reject(ioError(`connect ${socketPath}`, error));
          socket.once('connect', onConnect);
          socket.once('error', onError);
          return () => {
            socket.off('connect', onConnect);
            socket.off('error', onError);
          };
        },
        {
          signal: options.signal,
          timeoutMs: options.timeoutMs,
          clock: options.clock,
          what: `connect ${socketPath}`,
        },
      );
    } catch (error) {
      socket.destroy();
      throw error;
    }
    const connection = new IpcConnection(socket, options);
    connection.#metrics.increment(IPC_CONNECTIONS, 1, DIALED);
    return connection;
  }

  /** The configured frame cap. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /** Resolves once closed (by `close()`); never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Frames received and not yet taken by `recv`. */
  get queuedFrames(): number {
    return this.#inbox.size;
  }

  // ---------------------------------------------------------------- write side

  /**
   * Sends `value` as one JSON frame. Unserialisable values reject with
   * `ERR_CODEC_NOT_SERIALIZABLE` and oversize ones with `ERR_IPC_FRAME_TOO_LARGE`, in both
   * cases before any byte is written; the connection stays usable.
   */
  send(value: unknown, options: WaitOptions = {}): Promise<void> {
    let body: Uint8Array;
    try {
      this.#life.assertOpen('send');
      body = encodeJsonBody(value, this.#maxFrameBytes);
    } catch (error) {
      return this.#rejectSend(error);
    }
    return this.sendBytes(body, options);
  }

  /**
   * Sends raw bytes as one frame. Resolves when the socket accepted the frame below its
   * high-water mark, or after the next `drain`. Aborting before the frame is handed to
   * the socket withdraws it; aborting later only stops the wait (the frame is delivered).
   */
  sendBytes(bytes: Uint8Array, options: WaitOptions = {}): Promise<void> {
    let frame: Buffer;
    try {
      this.#life.assertOpen('send');
      const signal = optionalSignal('signal', options.signal);
      frame = encodeFrame(bytes, this.#maxFrameBytes);
      if (signal?.aborted === true) throw abortError(signal, 'send');
      if (this.#writer.error !== undefined) throw this.#writer.error;
    } catch (error) {
      return this.#rejectSend(error);
    }
    return this.#writer.send(frame, options.signal);
  }

  static {
    // Hot-path hooks for the encrypted layer (same module family, not public API).
    sendEncodedImpl = (connection, frame, signal) => {
      try {
        connection.#life.assertOpen('send');
        if (connection.#writer.error !== undefined) throw connection.#writer.error;
      } catch (error) {
        return connection.#rejectSend(error);
      }
      return connection.#writer.send(frame, signal);
    };
    takeQueuedImpl = (connection) => connection.#inbox.takeIfOpen();
  }

  #rejectSend(error: unknown): Promise<never> {
    countIpcError(this.#metrics, error);
    return Promise.reject(asError(error));
  }

  // ----------------------------------------------------------------- read side

  /**
   * Receives the next frame and parses it as JSON. A body that is empty or not valid
   * UTF-8 JSON rejects with `ERR_CODEC_MALFORMED`; that frame is consumed and the next
   * `recv` reads the following one.
   */
  async recv<T = unknown>(options: WaitOptions = {}): Promise<T> {
    return decodeCounted(await this.recvBytes(options), this.#metrics) as T;
  }

  /** Receives the next frame body as bytes. */
  recvBytes(options: WaitOptions = {}): Promise<Buffer> {
    try {
      this.#life.assertOpen('recv');
      optionalSignal('signal', options.signal);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.#inbox.read(options.signal);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#metrics.increment(IPC_BYTES_RECEIVED, chunk.length, PLAIN);
    try {
      this.#decoder.push(chunk, this.#inbox.deliver);
    } catch (error) {
      // The stream cannot be trusted past a bad header: stop reading and drop the socket.
      this.#failRead(asError(error));
      this.#socket.destroy();
    }
  };

  readonly #onEnd = (): void => {
    try {
      this.#decoder.end();
      this.#failRead(
        new ClosedError('the peer closed the connection', { code: 'ERR_IPC_CONNECTION_CLOSED' }),
      );
    } catch (error) {
      this.#failRead(asError(error));
    }
  };

  readonly #onError = (error: Error): void => {
    const wrapped = ioError('socket error', error);
    this.#failRead(wrapped);
    this.#writer.fail(wrapped);
  };

  readonly #onClose = (): void => {
    const closed = new ClosedError('the connection is closed', {
      code: 'ERR_IPC_CONNECTION_CLOSED',
    });
    this.#failRead(closed);
    this.#writer.fail(closed);
  };

  #failRead(error: Error): void {
    if (!this.#inbox.fail(error)) return;
    if (error instanceof MajraError && !isCleanClose(error)) countIpcError(this.#metrics, error);
  }

  /**
   * Iterates received JSON values until the stream ends cleanly (peer or local close);
   * any other error (oversize, truncated, malformed JSON, I/O) is thrown.
   */
  messages<T = unknown>(options: WaitOptions = {}): AsyncGenerator<T, void, undefined> {
    return untilCleanClose(() => this.recv<T>(options));
  }

  /** Like {@link IpcConnection.messages} for raw frame bodies. */
  frames(options: WaitOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    return untilCleanClose(() => this.recvBytes(options));
  }

  /** Same as {@link IpcConnection.messages}. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.messages();
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Closes gracefully: frames already handed to the socket are flushed, then FIN is
   * sent; frames still queued behind backpressure reject with `ERR_CLOSED`, as do pending
   * `recv` calls. Destroys the socket if the peer does not finish within `closeTimeoutMs`.
   */
  close(): Promise<void> {
    return this.#life.close(async () => {
      const closed = new ClosedError('IpcConnection is closed', { code: 'ERR_CLOSED' });
      this.#failRead(closed);
      this.#writer.dropQueued(closed);
      this.#inbox.clear();
      if (this.#socket.destroyed) return;
      this.#inbox.unpause();
      this.#socket.end();
      const timer = this.#clock.setTimer(this.#closeTimeoutMs, () => this.#socket.destroy());
      timer.unref();
      await this.#socketClosed;
      timer.cancel();
    });
  }

  /** Closes abruptly: the socket is destroyed at once, queued frames are dropped. */
  destroy(): Promise<void> {
    this.#socket.destroy();
    return this.close();
  }

  /** Same as {@link IpcConnection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * @internal Writes a frame that already carries its 4-byte length prefix (the caller
 * guarantees the body is within `maxFrameBytes`). Used by the encrypted layer to avoid
 * one copy per frame.
 */
export function sendEncodedFrame(
  connection: IpcConnection,
  frame: Buffer,
  signal?: AbortSignal,
): Promise<void> {
  if (sendEncodedImpl === undefined) throw new Error('IpcConnection not initialised');
  return sendEncodedImpl(connection, frame, signal);
}

/** @internal Takes a received frame synchronously when one is queued and nobody waits. */
export function takeQueuedFrame(connection: IpcConnection): Buffer | undefined {
  if (takeQueuedImpl === undefined) throw new Error('IpcConnection not initialised');
  return takeQueuedImpl(connection);
}
