/**
 * Random (version 4) UUIDs for hot paths. `crypto.randomUUID()` builds its string by
 * concatenating 20 pieces (about 600 bytes of garbage per id in Node 20); this draws the
 * same CSPRNG bytes in batches and builds each id as one flat 36-character string.
 *
 * @module
 * @internal
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const random = new Uint8Array(16 * BATCH);
/** Offset of the current id's 16 bytes in `random`. */
let at = random.length;
/** ASCII codes of the hex digits. */
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const DASH = 0x2d;

/** The high hex digit (its char code) of byte `i` of the current id. */
function h(i: number): number {
  return HEX[(random[at + i] as number) >> 4] as number;
}

/** The low hex digit (its char code) of byte `i` of the current id. */
function l(i: number): number {
  return HEX[(random[at + i] as number) & 15] as number;
}

/**
 * A random RFC 9562 version 4 UUID in lower case, like `crypto.randomUUID()` (122 random
 * bits from the same CSPRNG).
 */
export function randomUuid(): string {
  at += 16;
  if (at >= random.length) {
    randomFillSync(random);
    at = 0;
  }
  random[at + 6] = ((random[at + 6] as number) & 0x0f) | 0x40; // version 4
  random[at + 8] = ((random[at + 8] as number) & 0x3f) | 0x80; // variant 10
  // prettier-ignore
  return String.fromCharCode(
    h(0), l(0), h(1), l(1), h(2), l(2), h(3), l(3), DASH,
    h(4), l(4), h(5), l(5), DASH,
    h(6), l(6), h(7), l(7), DASH,
    h(8), l(8), h(9), l(9), DASH,
    h(10), l(10), h(11), l(11), h(12), l(12), h(13), l(13), h(14), l(14), h(15), l(15),
  );
}
