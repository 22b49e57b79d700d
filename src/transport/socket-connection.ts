import type { Socket } from 'node:net';
import { abortError, type WaitOptions } from '../core/abort.js';
import { decodeJson, encodeJson, type JsonValue } from '../core/codec.js';
import { ClosedError, toError } from '../core/errors.js';
import { Lifecycle } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { invalid, isFunction, positiveInteger } from '../core/validate.js';
import { isUtf8 } from 'node:buffer';
import {
  FRAME_HEADER_BYTES,
  frameTooLargeError,
  FrameDecoder,
  validateMaxFrameBytes,
} from '../ipc/framing.js';
import { Inbox } from './inbox.js';
import { SENT } from './sent.js';
import {
  PROTOCOL_ERROR_LABELS,
  TRANSPORT_LABELS,
  transportConnections,
  transportMessagesReceived,
  transportMessagesSent,
  transportProtocolErrors,
  type TransportKind,
  type TransportLabels,
} from './metrics.js';
import type { ByteEncoder, Connection, TransportMessage } from './types.js';

/** Options shared by the socket transports. */
export interface SocketTransportOptions {
  /** Largest frame body, either direction. @defaultValue 16 MiB */
  readonly maxFrameBytes?: number;
  /** Messages buffered on the receive side before the socket is paused. @defaultValue 1024 */
  readonly maxBufferedMessages?: number;
  /** Receives frames that are not valid JSON (skipped; the stream stays in sync). */
  readonly onError?: (error: Error) => void;
  /** Receives message, connection and protocol-error counts; default reports nothing. */
  readonly metrics?: MetricsSink;
}

/** @internal */
export interface SocketSettings {
  readonly maxFrameBytes: number;
  readonly maxBufferedMessages: number;
  readonly onError: ((error: Error) => void) | undefined;
  readonly metrics: MetricsSink;
  readonly labels: TransportLabels;
}

/** @internal */
export function socketSettings(
  options: SocketTransportOptions,
  kind: TransportKind,
): SocketSettings {
  return {
    maxFrameBytes: validateMaxFrameBytes(options.maxFrameBytes),
    maxBufferedMessages: positiveInteger(
      'maxBufferedMessages',
      options.maxBufferedMessages ?? 1024,
    ),
    onError: options.onError,
    metrics: options.metrics ?? noopMetrics,
    labels: TRANSPORT_LABELS[kind],
  };
}

/**
 * Serialises straight into one frame buffer (one native UTF-8 encode, no intermediate
 * copy). Errors match the IPC framing: `ERR_CODEC_NOT_SERIALIZABLE`,
 * `ERR_IPC_FRAME_TOO_LARGE`.
 */
function jsonFrame(message: JsonValue, maxFrameBytes: number): Buffer {
  let text: string | undefined;
  try {
    const out: unknown = JSON.stringify(message);
    if (typeof out === 'string') text = out;
  } catch {
    encodeJson(message, maxFrameBytes); // throws the codec's standard error
  }
  if (text === undefined) {
    encodeJson(message, maxFrameBytes);
    throw new Error('unreachable: encodeJson accepted a value JSON.stringify refused');
  }
  const length = text.length * 3 <= maxFrameBytes ? -1 : Buffer.byteLength(text, 'utf8');
  if (length > maxFrameBytes) throw frameTooLargeError(length, maxFrameBytes, 'send');
  const size = length >= 0 ? length : Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame.write(text, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/**
 * First body byte of a frame carrying bytes rather than JSON. JSON text never starts
 * with NUL, so JSON frames need no tag and stay as they were.
 */
export const BINARY_FRAME_TAG = 0x00;

/** One frame of `bytes`: header, tag, then the bytes (copied, so the caller keeps its buffer). */
function binaryFrame(bytes: Uint8Array, maxFrameBytes: number): Buffer {
  const size = bytes.byteLength + 1;
  if (size > maxFrameBytes) throw frameTooLargeError(size, maxFrameBytes, 'send');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame[FRAME_HEADER_BYTES] = BINARY_FRAME_TAG;
  frame.set(bytes, FRAME_HEADER_BYTES + 1);
  return frame;
}

/**
 * One frame of the bytes `encoder` writes, encoded in place behind the header and tag
 * (no separate body buffer, no copy). The cap is checked on the bytes actually written.
 */
function encodedFrame(encoder: ByteEncoder, maxFrameBytes: number): Buffer {
  const max = encoder.maxBytes;
  if (!Number.isSafeInteger(max) || max < 0) {
    invalid('encoder.maxBytes', 'a non-negative safe integer', max);
  }
  const bodyAt = FRAME_HEADER_BYTES + 1;
  const frame = Buffer.allocUnsafe(bodyAt + max);
  const written = encoder.encodeInto(frame, bodyAt);
  if (!Number.isSafeInteger(written) || written < 0 || written > max) {
    invalid('encoder.encodeInto()', `a byte count from 0 to maxBytes (${max})`, written);
  }
  const size = written + 1;
  if (size > maxFrameBytes) throw frameTooLargeError(size, maxFrameBytes, 'send');
  frame.writeUInt32BE(size, 0);
  frame[FRAME_HEADER_BYTES] = BINARY_FRAME_TAG;
  const end = bodyAt + written;
  return end === frame.length ? frame : frame.subarray(0, end);
}

/** Parses a frame body; malformed bodies throw the codec's `ERR_CODEC_MALFORMED`. */
function parseBody(body: Buffer): JsonValue {
  if (body.byteLength > 0 && isUtf8(body)) {
    try {
      return JSON.parse(body.toString('utf8')) as JsonValue;
    } catch {
      // Fall through to the codec for its standard error.
    }
  }
  return decodeJson(body, Number.MAX_SAFE_INTEGER) as JsonValue;
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
  readonly #inbox: Inbox<TransportMessage>;
  readonly #life = new Lifecycle('SocketConnection');
  #connected = true;

  constructor(
    socket: Socket,
    endpoint: string,
    settings: SocketSettings,
    side: 'dialed' | 'accepted',
  ) {
    this.endpoint = endpoint;
    this.#socket = socket;
    this.#settings = settings;
    this.#decoder = new FrameDecoder({ maxFrameBytes: settings.maxFrameBytes });
    this.#inbox = new Inbox<TransportMessage>(settings.maxBufferedMessages);
    this.#inbox.onSpace = () => socket.resume();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      // The 'close' that follows ends the stream; errors on a dying socket are expected.
    });
    socket.on('close', () => this.#onClose());
    settings.metrics.increment(transportConnections, 1, settings.labels[side]);
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

  send(message: TransportMessage, options: WaitOptions = {}): Promise<void> {
    try {
      if (!this.isConnected) throw closedError();
      const { signal } = options;
      if (signal?.aborted === true) throw abortError(signal, 'send');
      const frame =
        message instanceof Uint8Array
          ? binaryFrame(message, this.#settings.maxFrameBytes)
          : jsonFrame(message, this.#settings.maxFrameBytes);
      return this.#write(frame, signal);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  sendEncoded(encoder: ByteEncoder, options: WaitOptions = {}): Promise<void> {
    try {
      if (!this.isConnected) throw closedError();
      const { signal } = options;
      if (signal?.aborted === true) throw abortError(signal, 'send');
      return this.#write(encodedFrame(encoder, this.#settings.maxFrameBytes), signal);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  incoming(): AsyncIterable<TransportMessage> {
    return this.#inbox.iterate();
  }

  consume(onMessage: (message: TransportMessage) => void): Promise<void> {
    try {
      isFunction('onMessage', onMessage);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.#inbox.consume(onMessage);
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

  /** Writes one whole frame; resolves at once when the socket took it, else on 'drain'. */
  #write(frame: Buffer, signal: AbortSignal | undefined): Promise<void> {
    const flushed = this.#socket.write(frame);
    this.#settings.metrics.increment(transportMessagesSent, 1, this.#settings.labels.transport);
    if (flushed) return SENT;
    return this.#drain(signal);
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
    let value: TransportMessage;
    try {
      value = body[0] === BINARY_FRAME_TAG ? body.subarray(1) : parseBody(body);
    } catch (error) {
      this.#settings.metrics.increment(transportProtocolErrors, 1, PROTOCOL_ERROR_LABELS.malformed);
      this.#report(error);
      return;
    }
    this.#settings.metrics.increment(transportMessagesReceived, 1, this.#settings.labels.transport);
    this.#inbox.push(value);
  };

  #fail(reason: 'too_large' | 'truncated', error: Error): void {
    this.#settings.metrics.increment(transportProtocolErrors, 1, PROTOCOL_ERROR_LABELS[reason]);
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
        this.#settings.metrics.increment(
          transportProtocolErrors,
          1,
          PROTOCOL_ERROR_LABELS.truncated,
        );
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
