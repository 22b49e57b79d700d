/**
 * The relay's binary envelope, wire version 2: a fixed 34-byte header, the ids as UTF-8,
 * then the payload as UTF-8 JSON. It replaces the JSON object of version 1 (which is still
 * decoded, see `relayMessageFromJson`) because stringifying and parsing the whole envelope
 * cost more than the rest of a request/response round trip. Layout in docs/relay.md.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { encodeJsonText, type JsonValue } from '../core/codec.js';
import { ProtocolError } from '../core/errors.js';
import type { ByteEncoder } from '../transport/types.js';
import { MAX_RELAY_ID_LENGTH, type RelayMessage, type RelayRemoteError } from './message.js';

/** The envelope version this build writes (byte 0). Version 1 is the JSON object. */
export const RELAY_WIRE_VERSION = 2;

/** Bytes of the fixed header in front of the ids and payload. */
export const RELAY_ENVELOPE_HEADER_BYTES = 34;

const FLAG_REPLY = 0x01;
const FLAG_ERROR = 0x02;
const KNOWN_FLAGS = FLAG_REPLY | FLAG_ERROR;
/** A UTF-16 unit never takes more than 3 UTF-8 bytes: the byte cap of an id. */
const MAX_ID_BYTES = MAX_RELAY_ID_LENGTH * 3;
const MAX_ERROR_CODE_LENGTH = 128;
const MAX_ERROR_MESSAGE_LENGTH = 4096;
/** High 32 bits of the largest safe integer (2^53 - 1). */
const MAX_SAFE_HIGH = 0x1f_ffff;
/** Payloads up to this many UTF-16 units are sized by their worst case, not counted. */
const SMALL_TEXT = 1024;

function bad(reason: string): ProtocolError {
  return new ProtocolError(`invalid relay envelope: ${reason}`, {
    code: 'ERR_RELAY_INVALID_MESSAGE',
  });
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The payload as JSON text, with the codec's errors for values JSON cannot carry. */
function payloadText(payload: JsonValue): string {
  try {
    const text: unknown = JSON.stringify(payload);
    if (typeof text === 'string') return text;
  } catch {
    // encodeJsonText below throws the codec's standard error.
  }
  return encodeJsonText(payload, Number.MAX_SAFE_INTEGER);
}

/** Ids up to this many UTF-16 units are written and compared byte by byte in JS. */
const SHORT_ID = 32;
/** Longest id (in bytes) an {@link IdCache} keeps: a UUID correlation id fits. */
const CACHED_ID_BYTES = 64;

/**
 * Writes `text` at `at` as UTF-8 (room for 3 bytes per unit is there); returns the bytes
 * written. A short ASCII id is copied by hand: `Buffer.write` costs ~90 ns of call
 * overhead whatever the length, several times the copy itself.
 */
function writeText(buf: Buffer, text: string, at: number): number {
  const n = text.length;
  if (n <= SHORT_ID) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i === n) return n;
  }
  return buf.write(text, at, 'utf8');
}

/**
 * The last string decoded or encoded for one id field, with its bytes. Node ids and
 * message types repeat from message to message, and a reply carries the correlation id
 * of the request just sent: comparing a few bytes is cheaper than decoding them again.
 */
class IdCache {
  readonly bytes = Buffer.alloc(CACHED_ID_BYTES);
  length = 0;
  text = '';

  /** The cached string when `buf[start, end)` holds its bytes, else a fresh decode. */
  read(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n === this.length) {
      const bytes = this.bytes;
      let i = 0;
      while (i < n && buf[start + i] === bytes[i]) i++;
      if (i === n) return this.text;
    }
    const text = buf.toString('utf8', start, end);
    this.#store(buf, start, n, text);
    return text;
  }

  /** Writes `text` at `at` (see {@link writeText}) and returns the bytes written. */
  write(buf: Buffer, text: string, at: number): number {
    if (text === this.text) {
      // By hand: `Buffer.copy` validates its arguments for longer than this loop runs.
      const { bytes, length } = this;
      for (let i = 0; i < length; i++) buf[at + i] = bytes[i] as number;
      return length;
    }
    const n = writeText(buf, text, at);
    this.#store(buf, at, n, text);
    return n;
  }

  #store(buf: Buffer, start: number, n: number, text: string): void {
    if (n > CACHED_ID_BYTES) return;
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) bytes[i] = buf[start + i] as number;
    this.length = n;
    this.text = text;
  }
}

// Separate caches per direction for the node ids (a node writes its own id as `from` and
// reads its peer's), one shared by both directions for the correlation id.
const sentFrom = new IdCache();
const sentTo = new IdCache();
const sentType = new IdCache();
const readFrom = new IdCache();
const readTo = new IdCache();
const readType = new IdCache();
const cidCache = new IdCache();

/** Writes `n` (a safe non-negative integer) as an unsigned 64-bit big-endian value. */
function writeU64(buf: Buffer, n: number, offset: number): void {
  const high = Math.floor(n / 0x1_0000_0000);
  buf.writeUInt32BE(high, offset);
  buf.writeUInt32BE(n - high * 0x1_0000_0000, offset + 4);
}

/**
 * A version 2 envelope ready to be written: validated, payload serialised, worst-case
 * size known. A transport that supports {@link ByteEncoder} writes it straight into its
 * frame (one allocation, no copy); {@link encodeRelayEnvelope} writes it into a buffer of
 * its own.
 *
 * @throws `ERR_CODEC_NOT_SERIALIZABLE` (from the constructor) for a payload JSON cannot
 *   carry, `ERR_RELAY_INVALID_MESSAGE` for a seq, epoch or id the receiver would refuse
 *   (so a bad message fails at the sender, not silently at the peer).
 */
export class RelayEnvelopeEncoder implements ByteEncoder {
  readonly maxBytes: number;
  readonly #message: RelayMessage;
  readonly #cid: string;
  readonly #text: string;
  readonly #code: string;
  readonly #detail: string;

  constructor(message: RelayMessage) {
    const { seq, epoch, from, to, type, timestamp, error } = message;
    if (!Number.isSafeInteger(seq) || seq < 1) throw bad('`seq` must be a safe integer >= 1');
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw bad('`epoch` must be a non-negative safe integer');
    }
    if (!Number.isFinite(timestamp)) throw bad('`timestamp` must be a finite number');
    const cid = message.correlationId ?? '';
    if (
      from.length > MAX_RELAY_ID_LENGTH ||
      to.length > MAX_RELAY_ID_LENGTH ||
      type.length > MAX_RELAY_ID_LENGTH ||
      cid.length > MAX_RELAY_ID_LENGTH
    ) {
      throw bad(`ids must be at most ${MAX_RELAY_ID_LENGTH} characters`);
    }
    if (from.length === 0 || type.length === 0 || message.correlationId === '') {
      throw bad('`from`, `type` and `correlationId` must not be empty');
    }
    const text = payloadText(error === undefined ? message.payload : null);
    const code = error === undefined ? '' : error.code.slice(0, MAX_ERROR_CODE_LENGTH);
    const detail = error === undefined ? '' : error.message.slice(0, MAX_ERROR_MESSAGE_LENGTH);
    const idUnits = from.length + to.length + type.length + cid.length;
    const errorBytes = error === undefined ? 0 : 4 + 3 * (code.length + detail.length);
    const textBytes = text.length <= SMALL_TEXT ? text.length * 3 : Buffer.byteLength(text, 'utf8');
    this.maxBytes = RELAY_ENVELOPE_HEADER_BYTES + 3 * idUnits + errorBytes + textBytes;
    this.#message = message;
    this.#cid = cid;
    this.#text = text;
    this.#code = code;
    this.#detail = detail;
  }

  /** Writes the envelope at `buf[offset]` (room for {@link maxBytes}); returns its length. */
  encodeInto(buf: Buffer, offset: number): number {
    const message = this.#message;
    const cid = this.#cid;
    let at = offset + RELAY_ENVELOPE_HEADER_BYTES;
    const fromBytes = sentFrom.write(buf, message.from, at);
    at += fromBytes;
    const toBytes = message.to.length === 0 ? 0 : sentTo.write(buf, message.to, at);
    at += toBytes;
    const typeBytes = sentType.write(buf, message.type, at);
    at += typeBytes;
    const cidBytes = cid.length === 0 ? 0 : cidCache.write(buf, cid, at);
    at += cidBytes;
    let flags = message.isReply ? FLAG_REPLY : 0;
    if (message.error !== undefined) {
      flags |= FLAG_ERROR;
      const codeBytes = buf.write(this.#code, at + 2, 'utf8');
      buf.writeUInt16BE(codeBytes, at);
      at += 2 + codeBytes;
      const detailBytes = buf.write(this.#detail, at + 2, 'utf8');
      buf.writeUInt16BE(detailBytes, at);
      at += 2 + detailBytes;
    }
    at += writeText(buf, this.#text, at);
    buf[offset] = RELAY_WIRE_VERSION;
    buf[offset + 1] = flags;
    // Plain byte stores: the lengths are known to fit in 16 bits (checked above).
    buf[offset + 2] = fromBytes >>> 8;
    buf[offset + 3] = fromBytes & 0xff;
    buf[offset + 4] = toBytes >>> 8;
    buf[offset + 5] = toBytes & 0xff;
    buf[offset + 6] = typeBytes >>> 8;
    buf[offset + 7] = typeBytes & 0xff;
    buf[offset + 8] = cidBytes >>> 8;
    buf[offset + 9] = cidBytes & 0xff;
    writeU64(buf, message.seq, offset + 10);
    writeU64(buf, message.epoch, offset + 18);
    buf.writeDoubleBE(message.timestamp, offset + 26);
    return at - offset;
  }

  /** The envelope in a buffer of its own. */
  toBytes(): Buffer {
    const buf = Buffer.allocUnsafe(this.maxBytes);
    const n = this.encodeInto(buf, 0);
    return n === buf.length ? buf : buf.subarray(0, n);
  }
}

/**
 * Encodes `message` as a version 2 envelope in a buffer of its own.
 *
 * @throws `ERR_CODEC_NOT_SERIALIZABLE` for a payload JSON cannot carry,
 *   `ERR_RELAY_INVALID_MESSAGE` for a seq, epoch or id the receiver would refuse.
 */
export function encodeRelayEnvelope(message: RelayMessage): Buffer {
  return new RelayEnvelopeEncoder(message).toBytes();
}

/** Reads an unsigned 64-bit big-endian value; undefined when it is not a safe integer. */
function readU64(buf: Buffer, offset: number): number | undefined {
  const high = buf.readUInt32BE(offset);
  if (high > MAX_SAFE_HIGH) return undefined;
  return high * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
}

/** True when `buf[start, end)` holds only ASCII bytes. */
function isAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return false;
  return true;
}

/** True when `at` (inside `buf`, before `end`) falls in the middle of a UTF-8 sequence. */
function splitsChar(buf: Buffer, at: number, end: number): boolean {
  if (at >= end) return false;
  const byte = buf[at] as number;
  return byte >= 0x80 && byte < 0xc0;
}

/**
 * Decodes a version 2 envelope. The envelope is untrusted: every length is checked
 * against the bytes present before anything is read, ids and text must be valid UTF-8,
 * and the payload must be JSON.
 *
 * @throws ProtocolError `ERR_RELAY_UNSUPPORTED_VERSION` when byte 0 is another version,
 *   `ERR_RELAY_INVALID_MESSAGE` for anything else malformed.
 */
export function decodeRelayEnvelope(bytes: Uint8Array): RelayMessage {
  if (bytes.length === 0) throw bad('empty');
  const buf = asBuffer(bytes);
  const version = buf[0] as number;
  if (version !== RELAY_WIRE_VERSION) {
    throw new ProtocolError(
      `relay envelope version ${version} is not supported (this node reads 1 (JSON) and ${RELAY_WIRE_VERSION})`,
      {
        code: 'ERR_RELAY_UNSUPPORTED_VERSION',
        details: { version, supported: [1, RELAY_WIRE_VERSION] },
      },
    );
  }
  const end = buf.length;
  if (end < RELAY_ENVELOPE_HEADER_BYTES) {
    throw bad(`truncated header (${end} of ${RELAY_ENVELOPE_HEADER_BYTES} bytes)`);
  }
  const flags = buf[1] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw bad(`unknown flags 0x${flags.toString(16)}`);
  const fromBytes = buf.readUInt16BE(2);
  const toBytes = buf.readUInt16BE(4);
  const typeBytes = buf.readUInt16BE(6);
  const cidBytes = buf.readUInt16BE(8);
  if (fromBytes === 0 || typeBytes === 0) throw bad('`from` and `type` must be non-empty');
  if (
    fromBytes > MAX_ID_BYTES ||
    toBytes > MAX_ID_BYTES ||
    typeBytes > MAX_ID_BYTES ||
    cidBytes > MAX_ID_BYTES
  ) {
    throw bad(`an id is longer than ${MAX_ID_BYTES} bytes`);
  }
  const seq = readU64(buf, 10);
  if (seq === undefined || seq < 1) throw bad('`seq` must be a safe integer of at least 1');
  const epoch = readU64(buf, 18);
  if (epoch === undefined) throw bad('`epoch` must be a non-negative safe integer');
  const timestamp = buf.readDoubleBE(26);
  if (!Number.isFinite(timestamp)) throw bad('`timestamp` must be a finite number');
  const fromAt = RELAY_ENVELOPE_HEADER_BYTES;
  const toAt = fromAt + fromBytes;
  const typeAt = toAt + toBytes;
  const cidAt = typeAt + typeBytes;
  let at = cidAt + cidBytes;
  if (at > end) throw bad('id lengths run past the end of the envelope');
  let codeAt = at;
  let detailAt = at;
  if ((flags & FLAG_ERROR) !== 0) {
    if (at + 2 > end) throw bad('error code length runs past the end');
    codeAt = at + 2;
    at = codeAt + buf.readUInt16BE(at);
    if (at + 2 > end) throw bad('error code runs past the end');
    detailAt = at + 2;
    at = detailAt + buf.readUInt16BE(at);
    if (at > end) throw bad('error message runs past the end');
  }
  if (at === end) throw bad('payload is missing');
  // Plain ASCII text (the common case) is valid UTF-8 with a character boundary at every
  // byte: one scan in JS, cheaper than a view and a native call. Otherwise one validation
  // of all the text, and each piece must also start on a character boundary (else a
  // character would straddle two fields and both would be invalid alone).
  const ascii = isAscii(buf, fromAt, end);
  if (
    !ascii &&
    (!isUtf8(buf.subarray(fromAt, end)) ||
      splitsChar(buf, toAt, end) ||
      splitsChar(buf, typeAt, end) ||
      splitsChar(buf, cidAt, end) ||
      splitsChar(buf, codeAt, end) ||
      splitsChar(buf, detailAt, end) ||
      splitsChar(buf, at, end))
  ) {
    throw bad('text is not valid UTF-8');
  }
  let payload: JsonValue;
  try {
    // ASCII bytes read the same as Latin-1, which decodes without UTF-8 bookkeeping.
    payload = JSON.parse(buf.toString(ascii ? 'latin1' : 'utf8', at, end)) as JsonValue;
  } catch {
    throw bad('payload is not valid JSON');
  }
  const from = readFrom.read(buf, fromAt, toAt);
  const to = toBytes === 0 ? '' : readTo.read(buf, toAt, typeAt);
  const type = readType.read(buf, typeAt, cidAt);
  if (from.length > MAX_RELAY_ID_LENGTH || to.length > MAX_RELAY_ID_LENGTH) {
    throw bad(`\`from\` and \`to\` must be at most ${MAX_RELAY_ID_LENGTH} characters`);
  }
  if (type.length > MAX_RELAY_ID_LENGTH) {
    throw bad(`\`type\` must be at most ${MAX_RELAY_ID_LENGTH} characters`);
  }
  const message: { -readonly [K in keyof RelayMessage]: RelayMessage[K] } = {
    seq,
    epoch,
    from,
    to,
    type,
    payload,
    timestamp,
    isReply: (flags & FLAG_REPLY) !== 0,
  };
  if (cidBytes > 0) {
    const cid = cidCache.read(buf, cidAt, cidAt + cidBytes);
    if (cid.length > MAX_RELAY_ID_LENGTH) {
      throw bad(`\`correlationId\` must be at most ${MAX_RELAY_ID_LENGTH} characters`);
    }
    message.correlationId = cid;
  }
  if ((flags & FLAG_ERROR) !== 0) {
    message.error = remoteError(
      buf.toString('utf8', codeAt, detailAt - 2),
      buf.toString('utf8', detailAt, at),
    );
  }
  return message;
}

function remoteError(code: string, detail: string): RelayRemoteError {
  return {
    code: code.slice(0, MAX_ERROR_CODE_LENGTH),
    message: detail.slice(0, MAX_ERROR_MESSAGE_LENGTH),
  };
}
