import { connect as netConnect, type Socket } from 'node:net';
import { abortError, waitFor, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ClosedError, MajraError, isMajraError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { nonNegativeInteger, optionalSignal, positiveInteger } from '../core/validate.js';
import {
  FrameDecoder,
  decodeJsonBody,
  encodeFrame,
  encodeJsonBody,
  validateMaxFrameBytes,
} from './framing.js';
import {
  IPC_BYTES_RECEIVED,
  IPC_BYTES_SENT,
  IPC_CONNECTIONS,
  IPC_ERRORS,
  IPC_FRAMES_RECEIVED,
  IPC_FRAMES_SENT,
  errorKind,
} from './metrics.js';
import { ioError, validateSocketPath } from './socket-path.js';

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

interface QueuedWrite {
  readonly frame: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

// Set by IpcConnection's static block (declared first: the block runs at class definition).
let sendEncodedImpl:
  | ((connection: IpcConnection, frame: Buffer, signal: AbortSignal | undefined) => Promise<void>)
  | undefined;
let takeQueuedImpl: ((connection: IpcConnection) => Buffer | undefined) | undefined;

const PLAIN = { layer: 'plain' } as const;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** True for the errors that mean "the stream ended cleanly" (peer or local close). */
export function isCleanClose(error: unknown): boolean {
  return isMajraError(error, 'ERR_IPC_CONNECTION_CLOSED') || isMajraError(error, 'ERR_CLOSED');
}

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
  readonly #maxBufferedBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  // Read side.
  #queue: Buffer[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #paused = false;
  readonly #readers: { resolve: (frame: Buffer) => void; reject: (error: Error) => void }[] = [];
  #readError: Error | undefined;
  // Write side.
  #needDrain = false;
  readonly #writeQueue: QueuedWrite[] = [];
  readonly #drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #writeError: Error | undefined;
  readonly #socketClosed: Promise<void>;

  private constructor(socket: Socket, options: IpcConnectionOptions) {
    this.#maxFrameBytes = validateMaxFrameBytes(options.maxFrameBytes);
    this.#maxBufferedBytes = positiveInteger(
      'maxBufferedBytes',
      options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    );
    this.#closeTimeoutMs = nonNegativeInteger('closeTimeoutMs', options.closeTimeoutMs ?? 5000);
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#decoder = new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes });
    this.#socket = socket;
    this.#socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
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
    connection.#metrics.increment(IPC_CONNECTIONS, 1, { side: 'dialed' });
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
    return this.#queue.length - this.#queueHead;
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
      if (this.#writeError !== undefined) throw this.#writeError;
    } catch (error) {
      return this.#rejectSend(error);
    }
    return this.#sendFrame(frame, options.signal);
  }

  /** Writes an already encoded frame, respecting backpressure and call order. */
  #sendFrame(frame: Buffer, signal: AbortSignal | undefined): Promise<void> {
    if (!this.#needDrain && this.#writeQueue.length === 0) {
      if (this.#write(frame)) return Promise.resolve();
      return this.#waitDrain(signal);
    }
    return this.#enqueueWrite(frame, signal);
  }

  static {
    // Hot-path hooks for the encrypted layer (same module family, not public API).
    sendEncodedImpl = (connection, frame, signal) => {
      try {
        connection.#life.assertOpen('send');
        if (connection.#writeError !== undefined) throw connection.#writeError;
      } catch (error) {
        return connection.#rejectSend(error);
      }
      return connection.#sendFrame(frame, signal);
    };
    takeQueuedImpl = (connection) =>
      connection.#queueHead < connection.#queue.length &&
      connection.#readers.length === 0 &&
      !connection.#life.isClosed
        ? connection.#shift()
        : undefined;
  }

  #rejectSend(error: unknown): Promise<never> {
    if (error instanceof MajraError) this.#countError(error);
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  /** Writes one frame; returns false when the caller must wait for drain. */
  #write(frame: Buffer): boolean {
    const ok = this.#socket.write(frame);
    this.#metrics.increment(IPC_FRAMES_SENT, 1, PLAIN);
    this.#metrics.increment(IPC_BYTES_SENT, frame.length, PLAIN);
    if (!ok) this.#needDrain = true;
    return ok;
  }

  #waitDrain(signal: AbortSignal | undefined): Promise<void> {
    return waitFor<undefined>(
      (resolve, reject) => {
        if (this.#writeError !== undefined) {
          reject(this.#writeError);
          return undefined;
        }
        const waiter = { resolve: () => resolve(undefined), reject };
        this.#drainWaiters.push(waiter);
        return () => removeItem(this.#drainWaiters, waiter);
      },
      { signal, what: 'send' },
    ).then(() => undefined);
  }

  #enqueueWrite(frame: Buffer, signal: AbortSignal | undefined): Promise<void> {
    return waitFor<undefined>(
      (resolve, reject) => {
        const item: QueuedWrite = { frame, resolve: () => resolve(undefined), reject };
        this.#writeQueue.push(item);
        return () => removeItem(this.#writeQueue, item);
      },
      { signal, what: 'send' },
    ).then(() => undefined);
  }

  readonly #onDrain = (): void => {
    this.#needDrain = false;
    const waiters = this.#drainWaiters.splice(0);
    for (const waiter of waiters) waiter.resolve();
    let item: QueuedWrite | undefined;
    while ((item = this.#writeQueue.shift()) !== undefined) {
      if (this.#mustWaitDrain()) {
        this.#writeQueue.unshift(item);
        break;
      }
      if (this.#write(item.frame)) item.resolve();
      else this.#drainWaiters.push(item);
    }
  };

  #mustWaitDrain(): boolean {
    return this.#needDrain;
  }

  #failWrites(error: Error): void {
    this.#writeError ??= error;
    for (const item of this.#writeQueue.splice(0)) item.reject(this.#writeError);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(this.#writeError);
  }

  // ----------------------------------------------------------------- read side

  /**
   * Receives the next frame and parses it as JSON. A body that is empty or not valid
   * UTF-8 JSON rejects with `ERR_CODEC_MALFORMED`; that frame is consumed and the next
   * `recv` reads the following one.
   */
  async recv<T = unknown>(options: WaitOptions = {}): Promise<T> {
    const body = await this.recvBytes(options);
    try {
      return decodeJsonBody(body) as T;
    } catch (error) {
      if (error instanceof MajraError) this.#countError(error);
      throw error;
    }
  }

  /** Receives the next frame body as bytes. */
  recvBytes(options: WaitOptions = {}): Promise<Buffer> {
    try {
      this.#life.assertOpen('recv');
      optionalSignal('signal', options.signal);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#queueHead < this.#queue.length && this.#readers.length === 0) {
      return Promise.resolve(this.#shift());
    }
    if (this.#readError !== undefined) return Promise.reject(this.#readError);
    if (options.signal === undefined) {
      // No abort to clean up after: skip the generic wait machinery on this hot path.
      return new Promise<Buffer>((resolve, reject) => this.#readers.push({ resolve, reject }));
    }
    return waitFor<Buffer>(
      (resolve, reject) => {
        const reader = { resolve, reject };
        this.#readers.push(reader);
        return () => removeItem(this.#readers, reader);
      },
      { signal: options.signal, what: 'recv' },
    );
  }

  #shift(): Buffer {
    const frame = this.#queue[this.#queueHead] as Buffer;
    this.#queue[this.#queueHead] = EMPTY;
    this.#queueHead++;
    this.#queuedBytes -= frame.length;
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead >= 1024 && this.#queueHead * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    if (this.#paused && this.#queuedBytes < this.#maxBufferedBytes) {
      this.#paused = false;
      this.#socket.resume();
    }
    return frame;
  }

  readonly #deliver = (frame: Buffer): void => {
    if (this.#life.isClosed) return;
    this.#metrics.increment(IPC_FRAMES_RECEIVED, 1, PLAIN);
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve(frame);
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (!this.#paused && this.#queuedBytes >= this.#maxBufferedBytes) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  readonly #onData = (chunk: Buffer): void => {
    this.#metrics.increment(IPC_BYTES_RECEIVED, chunk.length, PLAIN);
    try {
      this.#decoder.push(chunk, this.#deliver);
    } catch (error) {
      // The stream cannot be trusted past a bad header: stop reading and drop the socket.
      this.#failRead(error instanceof Error ? error : new Error(String(error)));
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
      this.#failRead(error instanceof Error ? error : new Error(String(error)));
    }
  };

  readonly #onError = (error: Error): void => {
    const wrapped = ioError('socket error', error);
    this.#failRead(wrapped);
    this.#failWrites(wrapped);
  };

  readonly #onClose = (): void => {
    const closed = new ClosedError('the connection is closed', {
      code: 'ERR_IPC_CONNECTION_CLOSED',
    });
    this.#failRead(closed);
    this.#failWrites(closed);
  };

  #failRead(error: Error): void {
    if (this.#readError !== undefined) return;
    this.#readError = error;
    if (error instanceof MajraError && !isCleanClose(error)) this.#countError(error);
    for (const reader of this.#readers.splice(0)) reader.reject(error);
  }

  #countError(error: MajraError): void {
    const kind = errorKind(error.code);
    if (kind !== undefined) this.#metrics.increment(IPC_ERRORS, 1, { kind });
  }

  /**
   * Iterates received JSON values until the stream ends cleanly (peer or local close);
   * any other error (oversize, truncated, malformed JSON, I/O) is thrown.
   */
  async *messages<T = unknown>(options: WaitOptions = {}): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.recv<T>(options);
      } catch (error) {
        if (isCleanClose(error)) return;
        throw error;
      }
    }
  }

  /** Like {@link IpcConnection.messages} for raw frame bodies. */
  async *frames(options: WaitOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      try {
        yield await this.recvBytes(options);
      } catch (error) {
        if (isCleanClose(error)) return;
        throw error;
      }
    }
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
      for (const item of this.#writeQueue.splice(0)) item.reject(closed);
      this.#queue = [];
      this.#queueHead = 0;
      this.#queuedBytes = 0;
      if (this.#socket.destroyed) return;
      if (this.#paused) this.#socket.resume();
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

const EMPTY = Buffer.alloc(0);

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

function removeItem<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}
