/**
 * Length-prefixed framing: a 4-byte unsigned big-endian body length, then the body.
 * No magic, version or checksum; the length counts the body only. Shared by the IPC
 * connections and by the Relay's TCP/Unix transports.
 *
 * @module
 */
import { decodeJson, encodeJson } from '../core/codec.js';
import { CapacityExceededError, InvalidStateError, ProtocolError } from '../core/errors.js';
import { integerInRange, invalid } from '../core/validate.js';

/** Bytes of the length prefix in front of every frame body. */
export const FRAME_HEADER_BYTES = 4;

/** Default and largest allowed `maxFrameBytes`: 16 MiB (16 777 216), inclusive. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The largest value `maxFrameBytes` may be configured to (the default is also the ceiling). */
export const MAX_FRAME_BYTES_LIMIT = DEFAULT_MAX_FRAME_BYTES;

/**
 * Validates a `maxFrameBytes` option: an integer from 1 to {@link MAX_FRAME_BYTES_LIMIT}.
 * `undefined` yields the default.
 */
export function validateMaxFrameBytes(value: unknown, name = 'maxFrameBytes'): number {
  if (value === undefined) return DEFAULT_MAX_FRAME_BYTES;
  return integerInRange(name, value, 1, MAX_FRAME_BYTES_LIMIT);
}

/** The error for a body of `size` bytes over `maxFrameBytes`. */
export function frameTooLargeError(
  size: number,
  maxFrameBytes: number,
  direction: 'send' | 'receive',
): CapacityExceededError {
  return new CapacityExceededError(
    `frame body of ${size} bytes exceeds maxFrameBytes ${maxFrameBytes} (${direction})`,
    { code: 'ERR_IPC_FRAME_TOO_LARGE', details: { size, maxFrameBytes, direction } },
  );
}

function assertBytes(payload: unknown): asserts payload is Uint8Array {
  if (!(payload instanceof Uint8Array)) invalid('payload', 'a Uint8Array', payload);
}

/**
 * The 4-byte header for a body of `length` bytes. Throws `ERR_IPC_FRAME_TOO_LARGE` when
 * `length` exceeds `maxFrameBytes`. Useful with `socket.cork()`/`writev` to avoid
 * copying large bodies; otherwise prefer {@link encodeFrame}.
 */
export function encodeFrameHeader(length: number, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (length > maxFrameBytes) throw frameTooLargeError(length, maxFrameBytes, 'send');
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  return header;
}

/**
 * Encodes one frame (header and body in one buffer, so it can be written with a
 * single `write`). Throws `ERR_IPC_FRAME_TOO_LARGE` before allocating when the body
 * is over `maxFrameBytes`; zero-length bodies are legal.
 *
 * @example
 * ```ts
 * socket.write(encodeFrame(new TextEncoder().encode('hi'))); // 00 00 00 02 68 69
 * ```
 */
export function encodeFrame(payload: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  assertBytes(payload);
  const length = payload.byteLength;
  if (length > maxFrameBytes) throw frameTooLargeError(length, maxFrameBytes, 'send');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Encodes `value` as compact UTF-8 JSON in one frame. Unserialisable values reject
 * with `ERR_CODEC_NOT_SERIALIZABLE`; a body over the cap with `ERR_IPC_FRAME_TOO_LARGE`.
 */
export function encodeJsonFrame(value: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  return encodeFrame(encodeJsonBody(value, maxFrameBytes), maxFrameBytes);
}

/** Encodes `value` as a JSON body (no header), mapping the size error to the IPC code. */
export function encodeJsonBody(
  value: unknown,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Uint8Array {
  try {
    return encodeJson(value, maxFrameBytes);
  } catch (error) {
    if (error instanceof CapacityExceededError && error.code === 'ERR_CODEC_TOO_LARGE') {
      const size = typeof error.details?.['size'] === 'number' ? error.details['size'] : -1;
      throw new CapacityExceededError(frameTooLargeError(size, maxFrameBytes, 'send').message, {
        code: 'ERR_IPC_FRAME_TOO_LARGE',
        details: { size, maxFrameBytes, direction: 'send' },
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Decodes a frame body as UTF-8 JSON. An empty, invalid UTF-8 or invalid JSON body
 * throws `ERR_CODEC_MALFORMED`; the frame was fully consumed, so the stream stays in sync.
 */
export function decodeJsonBody(body: Uint8Array): unknown {
  return decodeJson(body, Number.MAX_SAFE_INTEGER);
}

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest body accepted; a header announcing more fails the decoder. @defaultValue 16 MiB */
  readonly maxFrameBytes?: number;
}

/**
 * A streaming frame decoder fed arbitrary chunks (one byte at a time, many frames at
 * once, or anything between). Complete bodies are handed to `onFrame` in order.
 *
 * Guarantees:
 * - a header announcing more than `maxFrameBytes` throws `ERR_IPC_FRAME_TOO_LARGE` as
 *   soon as its 4 bytes are in, before any body byte is buffered; frames completed
 *   earlier in the same chunk are delivered first;
 * - memory held is at most one partial header (3 bytes) plus the received part of one
 *   body; a body is copied once when it spans chunks, and is a zero-copy view of the
 *   chunk otherwise (the view shares memory with the chunk you pushed);
 * - {@link FrameDecoder.end} distinguishes a clean end (between frames) from a
 *   truncated one (`ERR_IPC_FRAME_TRUNCATED`);
 * - after an error or `end()`, further `push` calls throw `ERR_IPC_DECODER_FAILED`.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
 * socket.on('data', (chunk) => decoder.push(chunk, (body) => handle(body)));
 * socket.on('end', () => decoder.end()); // throws if the peer stopped mid-frame
 * ```
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  /** Body length of the frame being assembled, or -1 while reading a header. */
  #bodyLength = -1;
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #failure: Error | undefined;
  #ended = false;

  /**
   * Creates a decoder; `maxFrameBytes` (default and ceiling 16 MiB) bounds every frame it accepts.
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = validateMaxFrameBytes(options.maxFrameBytes);
  }

  /** The configured cap. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /** Bytes held for the frame in progress (partial header or body). */
  get bufferedBytes(): number {
    return this.#headerFill + this.#partsBytes;
  }

  /** True when some bytes of a frame have been received but not the whole frame. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#bodyLength >= 0;
  }

  /** True after an error or `end()`. */
  get done(): boolean {
    return this.#failure !== undefined || this.#ended;
  }

  /**
   * Feeds bytes. Calls `onFrame` once per completed body, synchronously and in order.
   * Throws `ERR_IPC_FRAME_TOO_LARGE` on an oversize header (after delivering the frames
   * before it). An exception thrown by `onFrame` propagates and fails the decoder too.
   */
  push(chunk: Uint8Array, onFrame: (body: Buffer) => void): void {
    if (this.#failure !== undefined || this.#ended) {
      throw new InvalidStateError('frame decoder can no longer be fed (it failed or ended)', {
        code: 'ERR_IPC_DECODER_FAILED',
        ...(this.#failure === undefined ? {} : { cause: this.#failure }),
      });
    }
    if (!(chunk instanceof Uint8Array)) invalid('chunk', 'a Uint8Array', chunk);
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.#consume(buf, onFrame);
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      this.#parts = [];
      this.#partsBytes = 0;
      throw error;
    }
  }

  #consume(buf: Buffer, onFrame: (body: Buffer) => void): void {
    let offset = 0;
    const total = buf.length;
    while (offset < total) {
      if (this.#bodyLength < 0) {
        // Fast path: a whole header available and none pending.
        if (this.#headerFill === 0 && total - offset >= FRAME_HEADER_BYTES) {
          this.#startBody(buf.readUInt32BE(offset));
          offset += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, total - offset);
          buf.copy(this.#header, this.#headerFill, offset, offset + take);
          this.#headerFill += take;
          offset += take;
          if (this.#headerFill < FRAME_HEADER_BYTES) return;
          this.#headerFill = 0;
          this.#startBody(this.#header.readUInt32BE(0));
        }
        if (this.#bodyLength === 0) {
          this.#bodyLength = -1;
          onFrame(Buffer.alloc(0));
        }
        continue;
      }
      const need = this.#bodyLength - this.#partsBytes;
      const available = total - offset;
      if (this.#partsBytes === 0 && available >= need) {
        const body = buf.subarray(offset, offset + need);
        offset += need;
        this.#bodyLength = -1;
        onFrame(body);
        continue;
      }
      const take = Math.min(need, available);
      this.#parts.push(buf.subarray(offset, offset + take));
      this.#partsBytes += take;
      offset += take;
      if (this.#partsBytes === this.#bodyLength) {
        const body = Buffer.concat(this.#parts, this.#partsBytes);
        this.#parts = [];
        this.#partsBytes = 0;
        this.#bodyLength = -1;
        onFrame(body);
      }
    }
  }

  #startBody(length: number): void {
    if (length > this.#maxFrameBytes)
      throw frameTooLargeError(length, this.#maxFrameBytes, 'receive');
    this.#bodyLength = length;
  }

  /**
   * Marks the end of the stream. Returns normally when it ended between frames; throws
   * `ERR_IPC_FRAME_TRUNCATED` (with `details.bufferedBytes`, `details.expectedBytes`)
   * when a header or body was cut short. Idempotent after a clean end.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#failure !== undefined) return;
    if (!this.midFrame) return;
    const inHeader = this.#bodyLength < 0;
    const details = {
      bufferedBytes: this.bufferedBytes,
      expectedBytes: inHeader ? FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + this.#bodyLength,
      part: inHeader ? 'header' : 'body',
    };
    const received = inHeader ? this.#headerFill : FRAME_HEADER_BYTES + this.#partsBytes;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#headerFill = 0;
    this.#failure = new ProtocolError(
      `stream ended mid-frame: ${received} of ${details.expectedBytes} bytes of the frame received`,
      { code: 'ERR_IPC_FRAME_TRUNCATED', details },
    );
    throw this.#failure;
  }
}
