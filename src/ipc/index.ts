/**
 * Local inter-process messaging: length-prefixed frames over Unix sockets, with
 * optional AES-256-GCM encryption (see docs/ipc.md for the exact wire format).
 *
 * @example
 * ```ts
 * import { FrameDecoder, encodeFrame } from 'majra/ipc';
 * const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
 * decoder.push(encodeFrame(new TextEncoder().encode('hi')), (body) => console.log(body));
 * ```
 *
 * @module
 */
export {
  FRAME_HEADER_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_FRAME_BYTES_LIMIT,
  FrameDecoder,
  encodeFrame,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeJsonBody,
  decodeJsonBody,
  frameTooLargeError,
  validateMaxFrameBytes,
} from './framing.js';
export type { FrameDecoderOptions } from './framing.js';
