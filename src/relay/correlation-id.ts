/**
 * Correlation ids: random UUIDs (version 4, RFC 9562) from the crypto RNG, like
 * `crypto.randomUUID()`, but built as one flat string. `randomUUID()` concatenates its
 * result from 20 pieces; the rope it returns is flattened again the first time it is
 * hashed (the pending-request map) or written (the envelope), which cost more than the
 * rest of opening a request. Here the 16 random bytes of a batch are hex-encoded into a
 * scratch buffer and read out with one `toString('latin1')`.
 *
 * @internal
 * @module
 */
import { randomFillSync } from 'node:crypto';

/** UUIDs drawn per call to the RNG (as `crypto.randomUUID()` does). */
const BATCH = 128;
const HEX_DIGITS = '0123456789abcdef';

/** The RNG batch and scratch buffers, allocated on first use rather than on import. */
class UuidSource {
  readonly #random = Buffer.alloc(16 * BATCH);
  #used = BATCH;
  readonly #text = Buffer.alloc(36);
  /** The two ASCII hex digits of each byte value, at 2 * value. */
  readonly #hex = new Uint8Array(512);

  constructor() {
    const text = this.#text;
    text[8] = text[13] = text[18] = text[23] = 0x2d; // '-'
    for (let i = 0; i < 256; i++) {
      this.#hex[2 * i] = HEX_DIGITS.charCodeAt(i >> 4);
      this.#hex[2 * i + 1] = HEX_DIGITS.charCodeAt(i & 15);
    }
  }

  next(): string {
    const bytes = this.#random;
    if (this.#used === BATCH) {
      randomFillSync(bytes);
      this.#used = 0;
    }
    const at = this.#used++ * 16;
    bytes[at + 6] = ((bytes[at + 6] as number) & 0x0f) | 0x40; // version 4
    bytes[at + 8] = ((bytes[at + 8] as number) & 0x3f) | 0x80; // variant 10xx
    const out = this.#text;
    const hex = this.#hex;
    let o = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) o++; // past a dash
      const b = (bytes[at + i] as number) * 2;
      out[o] = hex[b] as number;
      out[o + 1] = hex[b + 1] as number;
      o += 2;
    }
    return out.toString('latin1', 0, 36);
  }
}

let source: UuidSource | undefined;

/**
 * A new random UUID v4: 32 lower-case hex digits in groups of 8-4-4-4-12 joined by dashes,
 * the version digit `4` and the variant digit one of `8`, `9`, `a`, `b`.
 */
export function randomCorrelationId(): string {
  source ??= new UuidSource();
  return source.next();
}
