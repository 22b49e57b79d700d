import { encodeJson } from '../core/codec.js';
import { CapacityExceededError, InvalidArgumentError } from '../core/errors.js';

/**
 * Length-prefixed framing used by the socket transports: a 4-byte unsigned big-endian
 * length N, then N bytes of body. This is the IPC wire format (spec backends-ipc §1.3)
 * with its 16 MiB cap.
 *
 * TODO(ipc): switch to `src/ipc/framing.ts` once the IPC module lands; the wire format
 * is the same.
 *
 * @internal
 */

/** Largest frame body accepted by default: 16 MiB, inclusive. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Frames `body` (header + body in one buffer, so one write never interleaves). */
export function encodeFrame(body: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): Buffer {
  if (body.byteLength > maxFrameBytes) throw frameTooLarge(body.byteLength, maxFrameBytes);
  const frame = Buffer.allocUnsafe(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, 4);
  return frame;
}

/**
 * Serialises `value` as JSON straight into a frame (one allocation, no intermediate
 * copy). Same errors as `encodeJson`: `ERR_CODEC_NOT_SERIALIZABLE`, and
 * `ERR_TRANSPORT_FRAME_TOO_LARGE` over the cap.
 */
export function encodeJsonFrame(value: unknown, maxFrameBytes = MAX_FRAME_BYTES): Buffer {
  let text: unknown;
  try {
    text = JSON.stringify(value);
  } catch {
    // Let the codec produce its standard error (cycle, BigInt...).
    encodeJson(value, maxFrameBytes);
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`value is not JSON-serialisable: ${typeof value}`, {
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
  }
  const size = text.length * 3 <= maxFrameBytes ? -1 : Buffer.byteLength(text, 'utf8');
  if (size > maxFrameBytes) throw frameTooLarge(size, maxFrameBytes);
  const length = size >= 0 ? size : Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(text, 4, 'utf8');
  return frame;
}

export function frameTooLarge(size: number, max: number): CapacityExceededError {
  return new CapacityExceededError(`frame of ${size} bytes exceeds the ${max}-byte cap`, {
    code: 'ERR_TRANSPORT_FRAME_TOO_LARGE',
    details: { size, max },
  });
}

/**
 * Reassembles frames from arbitrary chunks. `push` returns the complete bodies; a header
 * announcing more than `maxFrameBytes` sets {@link FrameDecoder.error} before any body
 * is buffered; the stream is then out of sync and must be closed.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1;
  #error: Error | undefined;

  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True while a frame is partly received (at end of stream: truncated). */
  get midFrame(): boolean {
    return this.#buffered > 0 || this.#need >= 0;
  }

  /**
   * Set once a header announced an oversized frame: the frames before it were returned,
   * nothing after it will be.
   */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Adds a chunk and returns the bodies it completed. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.#error !== undefined) return frames;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) break;
        const length = this.#take(4).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          this.#chunks = [];
          this.#buffered = 0;
          this.#error = frameTooLarge(length, this.maxFrameBytes);
          break;
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = -1;
    }
    return frames;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const all = Buffer.concat(this.#chunks, this.#buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#buffered = rest.byteLength;
    return out;
  }
}
