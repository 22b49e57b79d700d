import type { Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { ProtocolError } from '../core/errors.js';

/** One relay message: the unit the Relay stamps, deduplicates and correlates. */
export interface RelayMessage {
  /** Per-sender sequence number, from 1, increasing by 1 per message the sender emits. */
  readonly seq: number;
  /** The sender incarnation: a restarted sender has a larger epoch. 0 when unknown. */
  readonly epoch: number;
  /** Sender node id. */
  readonly from: string;
  /** Destination node id; `''` for a broadcast. */
  readonly to: string;
  /** Application message type (the reference's `topic`). */
  readonly type: string;
  /** The application payload (JSON); `null` on a reply that carries `error`. */
  readonly payload: JsonValue;
  /** Creation time, epoch milliseconds. */
  readonly timestamp: number;
  /** Set on requests and their replies. */
  readonly correlationId?: string;
  /** True on a reply. */
  readonly isReply: boolean;
  /** On a reply: the remote handler failed with this error (payload is null). */
  readonly error?: RelayRemoteError;
}

/** The error a remote request handler reported. */
export interface RelayRemoteError {
  /** Stable error code: the handler error's `code` when it had one, else a generic relay code. */
  readonly code: string;
  /** The handler error's message. */
  readonly message: string;
}

/**
 * The JSON wire shape: the reference's serde layout (`topic`, `correlation_id`,
 * `is_reply`, RFC 3339 `timestamp`) plus `epoch` and `error`.
 */
// A type alias (not an interface) so it is assignable to JsonValue.

export type RelayWireMessage = {
  /** {@link RelayMessage.seq}. */
  seq: number;
  /** {@link RelayMessage.epoch}; absent in the reference's messages (read as 0). */
  epoch: number;
  /** Sender node id. */
  from: string;
  /** Destination node id, `''` for a broadcast. */
  to: string;
  /** The message type ({@link RelayMessage.type}), under the reference's field name. */
  topic: string;
  /** The application payload. */
  payload: JsonValue;
  /** Creation time, RFC 3339. */
  timestamp: string;
  /** Request/reply correlation id. */
  correlation_id?: string;
  /** True on a reply. */
  is_reply: boolean;
  /** The remote handler's failure, on a reply. */
  error?: {
    /** Stable error code (an `ERR_*` code for majra handlers). */
    code: string;
    /** Human-readable text. */
    message: string;
  };
};

/** True for a valid `seq`: a safe integer of at least 1. */
export function validSeq(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1;
}

let lastEpoch = 0;
/** A new epoch for a relay of this process: the wall clock in ms, strictly increasing. */
export function nextEpoch(clock: Clock): number {
  lastEpoch = Math.max(Math.floor(clock.now()), lastEpoch + 1);
  return lastEpoch;
}

/** Longest node id, type or correlation id accepted on the wire. */
export const MAX_RELAY_ID_LENGTH = 1024;

let lastStampMs = Number.NaN;
let lastStampText = '';
/** RFC 3339 text of `ms`, cached for the common case of many messages in one millisecond. */
function isoTime(ms: number): string {
  if (ms !== lastStampMs) {
    lastStampText = new Date(ms).toISOString();
    lastStampMs = ms;
  }
  return lastStampText;
}

/** Converts a message to its wire JSON value. */
export function relayMessageToJson(message: RelayMessage): RelayWireMessage {
  const wire: RelayWireMessage = {
    seq: message.seq,
    epoch: message.epoch,
    from: message.from,
    to: message.to,
    topic: message.type,
    payload: message.payload,
    timestamp: isoTime(message.timestamp),
    is_reply: message.isReply,
  };
  if (message.correlationId !== undefined) wire.correlation_id = message.correlationId;
  if (message.error !== undefined) {
    wire.error = { code: message.error.code, message: message.error.message };
  }
  return wire;
}

function bad(reason: string): ProtocolError {
  return new ProtocolError(`invalid relay message: ${reason}`, {
    code: 'ERR_RELAY_INVALID_MESSAGE',
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idString(name: string, value: unknown, allowEmpty: boolean): string {
  if (
    typeof value !== 'string' ||
    (!allowEmpty && value.length === 0) ||
    value.length > MAX_RELAY_ID_LENGTH
  ) {
    throw bad(
      `\`${name}\` must be a${allowEmpty ? '' : ' non-empty'} string of at most ${MAX_RELAY_ID_LENGTH} characters`,
    );
  }
  return value;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

let lastParsedText = '';
let lastParsedMs = 0;
/**
 * Epoch ms of an RFC 3339 timestamp; the last text parsed is cached, since a busy link
 * carries many messages stamped in the same millisecond.
 */
function parseTime(text: string): number {
  if (text === lastParsedText) return lastParsedMs;
  if (!RFC3339.test(text)) throw bad('`timestamp` must be an RFC 3339 string');
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw bad('`timestamp` is not a valid date');
  lastParsedText = text;
  lastParsedMs = ms;
  return ms;
}

/**
 * Validates a parsed wire value. Missing `epoch` (the Rust reference) reads as 0,
 * missing `is_reply` as false; unknown fields are ignored. `seq` must be a safe integer
 * of at least 1.
 *
 * @throws ProtocolError `ERR_RELAY_INVALID_MESSAGE`.
 */
export function relayMessageFromJson(value: unknown): RelayMessage {
  if (!isRecord(value)) throw bad('not an object');
  const { seq, epoch, timestamp } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw bad('`seq` must be a safe integer of at least 1');
  }
  if (
    epoch !== undefined &&
    (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0)
  ) {
    throw bad('`epoch` must be a non-negative safe integer');
  }
  const from = idString('from', value['from'], false);
  const to = idString('to', value['to'], true);
  const type = idString('topic', value['topic'], false);
  if (!('payload' in value)) throw bad('`payload` is missing');
  if (typeof timestamp !== 'string') throw bad('`timestamp` must be an RFC 3339 string');
  const ms = parseTime(timestamp);
  const isReply = value['is_reply'] ?? false;
  if (typeof isReply !== 'boolean') throw bad('`is_reply` must be a boolean');
  const cid = value['correlation_id'];
  const message: {
    -readonly [K in keyof RelayMessage]: RelayMessage[K];
  } = {
    seq,
    epoch: epoch ?? 0,
    from,
    to,
    type,
    payload: value['payload'] as JsonValue,
    timestamp: ms,
    isReply,
  };
  if (cid !== undefined && cid !== null)
    message.correlationId = idString('correlation_id', cid, false);
  const error = value['error'];
  if (error !== undefined && error !== null) {
    if (
      !isRecord(error) ||
      typeof error['code'] !== 'string' ||
      typeof error['message'] !== 'string'
    ) {
      throw bad('`error` must be { code: string, message: string }');
    }
    message.error = { code: error['code'].slice(0, 128), message: error['message'].slice(0, 4096) };
  }
  return message;
}
