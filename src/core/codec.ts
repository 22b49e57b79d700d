import { CapacityExceededError, InvalidArgumentError, ProtocolError } from './errors.js';
import { positiveInteger } from './validate.js';

/** Any JSON value. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The default byte limit for encoded values: 16 MiB, the IPC frame cap. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Encodes and decodes values of type `T` to bytes. */
export interface Codec<T> {
  /** Serialises a value; throws a codec error when it cannot be represented or is too large. */
  encode(value: T): Uint8Array;
  /** Parses bytes produced by `encode`; throws `ERR_CODEC_MALFORMED` on invalid input. */
  decode(bytes: Uint8Array): T;
}

/** Options for {@link jsonCodec}. */
export interface JsonCodecOptions {
  /** Largest encoded size accepted in either direction. @defaultValue 16 MiB */
  readonly maxBytes?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Serialises `value` as UTF-8 JSON, refusing values JSON cannot represent faithfully
 * (undefined at the top level, BigInt, cycles) and results over `maxBytes`.
 */
export function encodeJson(value: unknown, maxBytes = DEFAULT_MAX_BYTES): Uint8Array {
  return encoder.encode(encodeJsonText(value, maxBytes));
}

/**
 * {@link encodeJson} without the final UTF-8 encoding: the JSON text, for drivers that
 * take strings (a Redis argument), so no bytes are copied twice. Same checks and errors.
 */
export function encodeJsonText(value: unknown, maxBytes = DEFAULT_MAX_BYTES): string {
  // JSON.stringify returns undefined for undefined, functions and symbols.
  let text: unknown;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(`value is not JSON-serialisable: ${(error as Error).message}`, {
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
      cause: error,
    });
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`value is not JSON-serialisable: ${typeof value}`, {
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
  }
  // A UTF-16 string never needs more than 3 UTF-8 bytes per unit: skip the exact count
  // when even the worst case fits.
  if (text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > maxBytes) throw tooLarge(size, maxBytes);
  }
  return text;
}

/** Parses UTF-8 JSON, refusing input over `maxBytes` before decoding it. */
export function decodeJson(bytes: Uint8Array | string, maxBytes = DEFAULT_MAX_BYTES): unknown {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.byteLength;
  if (size > maxBytes) throw tooLarge(size, maxBytes);
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  } catch (error) {
    throw new ProtocolError('payload is not valid UTF-8', {
      code: 'ERR_CODEC_MALFORMED',
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProtocolError(`payload is not valid JSON: ${(error as Error).message}`, {
      code: 'ERR_CODEC_MALFORMED',
      cause: error,
    });
  }
}

function tooLarge(size: number, maxBytes: number): CapacityExceededError {
  return new CapacityExceededError(`encoded size ${size} bytes exceeds the limit of ${maxBytes}`, {
    code: 'ERR_CODEC_TOO_LARGE',
    details: { size, maxBytes },
  });
}

/** A JSON {@link Codec} with a byte limit. */
export function jsonCodec<T = unknown>(options: JsonCodecOptions = {}): Codec<T> {
  const maxBytes = positiveInteger('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES);
  return {
    encode: (value) => encodeJson(value, maxBytes),
    decode: (bytes) => decodeJson(bytes, maxBytes) as T,
  };
}
