import type { Socket } from 'node:net';
import { abortError, type WaitOptions } from '../core/abort.js';
import { decodeJson, type JsonValue } from '../core/codec.js';
import { ClosedError, toError } from '../core/errors.js';
import { Lifecycle } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { positiveInteger } from '../core/validate.js';
import { encodeJsonFrame, FrameDecoder, validateMaxFrameBytes } from '../ipc/framing.js';
import { Inbox } from './inbox.js';
import { transportProtocolErrors } from './metrics.js';
import type { Connection } from './types.js';

/** Options shared by the socket transports. */
export interface SocketTransportOptions {
  /** Largest frame body, either direction. @defaultValue 16 MiB */
  readonly maxFrameBytes?: number;
  /** Messages buffered on the receive side before the socket is paused. @defaultValue 1024 */
  readonly maxBufferedMessages?: number;
  /** Receives frames that are not valid JSON (skipped; the stream stays in sync). */
  readonly onError?: (error: Error) => void;
  readonly metrics?: MetricsSink;
}

/** @internal */
export interface SocketSettings {
  readonly maxFrameBytes: number;
  readonly maxBufferedMessages: number;
  readonly onError: ((error: Error) => void) | undefined;
  readonly metrics: MetricsSink;
}

/** @internal */
export function socketSettings(options: SocketTransportOptions): SocketSettings {
  return {
    maxFrameBytes: validateMaxFrameBytes(options.maxFrameBytes),
    maxBufferedMessages: positiveInteger(
      'maxBufferedMessages',
      options.maxBufferedMessages ?? 1024,
    ),
    onError: options.onError,
    metrics: options.metrics ?? noopMetrics,
  };
}

function closedError(cause?: unknown): ClosedError {
  return new ClosedError('connection closed', {
    code: 'ERR_TRANSPORT_CONNECTION_CLOSED',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A {@link Connection} over a stream socket (Unix, TCP or TLS) with length-prefixed
 * JSON frames. An oversized header or a stream ending mid-frame breaks the connection
 * (the incoming stream throws, the socket is destroyed); a frame that is not JSON is
 * skipped and reported, since the framing is still in sync.
 *
 * @internal
 */
export class SocketConnection implements Connection {
  readonly endpoint: string;
  readonly #socket: Socket;
  readonly #settings: SocketSettings;
  readonly #decoder: FrameDecoder;
  readonly #inbox: Inbox<JsonValue>;
  readonly #life = new Lifecycle('SocketConnection');
  #connected = true;

  constructor(socket: Socket, endpoint: string, settings: SocketSettings) {
    this.endpoint = endpoint;
    this.#socket = socket;
    this.#settings = settings;
    this.#decoder = new FrameDecoder({ maxFrameBytes: settings.maxFrameBytes });
    this.#inbox = new Inbox<JsonValue>(settings.maxBufferedMessages);
    this.#inbox.onSpace = () => socket.resume();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      // The 'close' that follows ends the stream; errors on a dying socket are expected.
    });
    socket.on('close', () => this.#onClose());
    socket.on('end', () => {
      try {
        this.#decoder.end();
      } catch (error) {
        this.#fail('truncated', toError(error));
      }
    });
  }

  get isConnected(): boolean {
    return this.#connected && !this.#socket.destroyed;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  send(message: JsonValue, options: WaitOptions = {}): Promise<void> {
    try {
      if (!this.isConnected) throw closedError();
      const { signal } = options;
      if (signal?.aborted === true) throw abortError(signal, 'send');
      const frame = encodeJsonFrame(message, this.#settings.maxFrameBytes);
      const flushed = this.#socket.write(frame);
      if (flushed) return Promise.resolve();
      return this.#drain(signal);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  incoming(): AsyncIterable<JsonValue> {
    return this.#inbox.iterate();
  }

  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#connected = false;
      this.#inbox.end();
      if (this.#socket.destroyed) return;
      await new Promise<void>((resolve) => {
        this.#socket.once('close', () => resolve());
        this.#socket.end();
        this.#socket.destroySoon();
      });
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #drain(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.#socket.off('drain', onDrain);
        this.#socket.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onDrain = (): void => {
        done();
        resolve();
      };
      const onClose = (): void => {
        done();
        reject(closedError());
      };
      const onAbort = (): void => {
        done();
        if (signal !== undefined) reject(abortError(signal, 'send'));
      };
      this.#socket.on('drain', onDrain);
      this.#socket.on('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, this.#onFrame);
    } catch (error) {
      this.#fail('too_large', toError(error));
      return;
    }
    if (this.#inbox.isFull) this.#socket.pause();
  }

  // A bound method: the decoder calls it once per body. It must not throw (that would
  // fail the decoder), so malformed bodies are reported and skipped here.
  readonly #onFrame = (body: Buffer): void => {
    let value: JsonValue;
    try {
      value = decodeJson(body, this.#settings.maxFrameBytes) as JsonValue;
    } catch (error) {
      this.#settings.metrics.increment(transportProtocolErrors, 1, { reason: 'malformed' });
      this.#report(error);
      return;
    }
    this.#inbox.push(value);
  };

  #fail(reason: string, error: Error): void {
    this.#settings.metrics.increment(transportProtocolErrors, 1, { reason });
    this.#connected = false;
    this.#inbox.end(error);
    this.#socket.destroy();
    void this.#life.close();
  }

  #onClose(): void {
    this.#connected = false;
    if (!this.#decoder.done) {
      try {
        this.#decoder.end();
      } catch (error) {
        this.#settings.metrics.increment(transportProtocolErrors, 1, { reason: 'truncated' });
        this.#inbox.end(toError(error));
      }
    }
    this.#inbox.end();
    void this.#life.close();
  }

  #report(error: unknown): void {
    try {
      this.#settings.onError?.(toError(error));
    } catch {
      // onError must not break the connection.
    }
  }
}
