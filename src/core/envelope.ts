import { randomUUID } from 'node:crypto';
import { decodeJson, DEFAULT_MAX_BYTES, encodeJson, type JsonValue } from './codec.js';
import { ProtocolError } from './errors.js';
import { systemClock, type Clock } from './clock.js';
import { nonEmptyString } from './validate.js';

/** Where an envelope is going. */
export type Target =
  | {
      /** One node. */
      readonly kind: 'node';
      /** The destination node id. */
      readonly node: string;
    }
  | {
      /** Every subscriber of a topic. */
      readonly kind: 'topic';
      /** The topic. */
      readonly topic: string;
    }
  | {
      /** Every node. */
      readonly kind: 'broadcast';
    };

/** Constructors for {@link Target}. */
export const Target = Object.freeze({
  node: (node: string): Target => ({ kind: 'node', node: nonEmptyString('node', node, 1024) }),
  topic: (topic: string): Target => ({
    kind: 'topic',
    topic: nonEmptyString('topic', topic, 65_536),
  }),
  broadcast: Object.freeze({ kind: 'broadcast' as const }),
});

/** A routing-annotated message: the wire unit of relay and IPC. */
export interface Envelope<P = JsonValue> {
  /** Random UUID v4. */
  readonly id: string;
  /** Sender node id. */
  readonly from: string;
  /** Destination. */
  readonly target: Target;
  /** Application message type, e.g. `'job.submit'`. */
  readonly type: string;
  /** The body. */
  readonly payload: P;
  /** Creation time, epoch milliseconds. */
  readonly timestamp: number;
}

/** Options for {@link createEnvelope}. */
export interface CreateEnvelopeOptions {
  /** Source of `timestamp`. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Overrides the generated id (for replies and tests). */
  readonly id?: string;
}

/** Builds an envelope with a fresh id and the current time. */
export function createEnvelope<P extends JsonValue>(
  from: string,
  target: Target,
  type: string,
  payload: P,
  options: CreateEnvelopeOptions = {},
): Envelope<P> {
  return {
    id: options.id ?? randomUUID(),
    from: nonEmptyString('from', from, 1024),
    target,
    type: nonEmptyString('type', type, 1024),
    payload,
    timestamp: (options.clock ?? systemClock).now(),
  };
}

/** The JSON wire shape (compatible with the Rust reference's serde layout, plus `type`). */
interface EnvelopeWire {
  id: string;
  from: string;
  to: { node: string } | { topic: string } | 'broadcast';
  type: string;
  payload: JsonValue;
  timestamp: string;
}

function targetToWire(target: Target): EnvelopeWire['to'] {
  switch (target.kind) {
    case 'node':
      return { node: target.node };
    case 'topic':
      return { topic: target.topic };
    case 'broadcast':
      return 'broadcast';
  }
}

/** Encodes an envelope as UTF-8 JSON, refusing results over `maxBytes`. */
export function encodeEnvelope(envelope: Envelope, maxBytes = DEFAULT_MAX_BYTES): Uint8Array {
  const wire: EnvelopeWire = {
    id: envelope.id,
    from: envelope.from,
    to: targetToWire(envelope.target),
    type: envelope.type,
    payload: envelope.payload,
    timestamp: new Date(envelope.timestamp).toISOString(),
  };
  return encodeJson(wire, maxBytes);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 3339 with optional fraction of up to 9 digits (the Rust peer emits nanoseconds).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function bad(reason: string): ProtocolError {
  return new ProtocolError(`invalid envelope: ${reason}`, { code: 'ERR_ENVELOPE_INVALID' });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function targetFromWire(to: unknown): Target {
  if (to === 'broadcast') return Target.broadcast;
  if (!isRecord(to)) throw bad('`to` must be "broadcast" or an object');
  const keys = Object.keys(to);
  if (keys.length !== 1) throw bad('`to` must have exactly one tag');
  const node = to['node'];
  const topic = to['topic'];
  if (typeof node === 'string' && node.length > 0) return { kind: 'node', node };
  if (typeof topic === 'string' && topic.length > 0) return { kind: 'topic', topic };
  throw bad(`unknown or malformed target tag ${JSON.stringify(keys[0])}`);
}

/**
 * Validates a parsed JSON value as an envelope. Unknown extra fields are ignored; a
 * missing `type` (as sent by the Rust reference) decodes as `'message'`.
 */
export function envelopeFromJson(value: unknown): Envelope {
  if (!isRecord(value)) throw bad('not an object');
  const { id, from, type, payload, timestamp } = value;
  if (typeof id !== 'string' || !UUID.test(id)) throw bad('`id` must be a UUID string');
  if (typeof from !== 'string' || from.length === 0) throw bad('`from` must be a non-empty string');
  if (type !== undefined && (typeof type !== 'string' || type.length === 0)) {
    throw bad('`type` must be a non-empty string');
  }
  if (!('payload' in value)) throw bad('`payload` is missing');
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp)) {
    throw bad('`timestamp` must be an RFC 3339 string');
  }
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) throw bad('`timestamp` is not a valid date');
  return {
    id,
    from,
    target: targetFromWire(value['to']),
    type: type ?? 'message',
    payload: payload as JsonValue,
    timestamp: ms,
  };
}

/** Decodes UTF-8 JSON bytes into an envelope, refusing input over `maxBytes`. */
export function decodeEnvelope(bytes: Uint8Array | string, maxBytes = DEFAULT_MAX_BYTES): Envelope {
  return envelopeFromJson(decodeJson(bytes, maxBytes));
}
