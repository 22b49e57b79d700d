/**
 * The WebSocket bridge protocol, version 1: UTF-8 JSON text frames, one object each.
 * Documented for client authors in docs/ws.md.
 *
 * @module
 */
import { isMajraError } from '../../core/errors.js';
import { ProtocolError } from '../../core/errors.js';

/** The protocol version this bridge speaks. */
export const WS_PROTOCOL_VERSION = 1;

/** Close codes the bridge uses (4000-4999 are application codes). */
export const WsCloseCode = Object.freeze({
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** Binary frame received (the protocol is text only). */
  UNSUPPORTED_DATA: 1003,
  /** Frame larger than `maxFrameBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** No subscribe within `firstSubscribeTimeoutMs`. */
  SUBSCRIBE_TIMEOUT: 4008,
  /** Send buffer over the high-water mark with the `'disconnect'` policy. */
  SLOW_CONSUMER: 4009,
  /** Too many protocol errors. */
  PROTOCOL_ERRORS: 4002,
});

/** Messages a client sends. `id` is echoed in the reply so clients can correlate. */
export type ClientMessage =
  | {
      /** Start receiving messages whose topic matches `pattern`. */
      readonly op: 'subscribe';
      /** A majra pattern (`+`/`*` one level, `#` last level), relative to the tenant. */
      readonly pattern: string;
      /** Optional client-chosen id (up to 128 characters), echoed in the reply. */
      readonly id?: string;
    }
  | {
      /** Stop a subscription made with the same `pattern`. */
      readonly op: 'unsubscribe';
      /** The pattern given to `subscribe`. */
      readonly pattern: string;
      /** Optional client-chosen id (up to 128 characters), echoed in the reply. */
      readonly id?: string;
    }
  | {
      /** Publish to the hub (only when the connection may publish). */
      readonly op: 'publish';
      /** A concrete topic, relative to the tenant. */
      readonly topic: string;
      /** Any JSON value. */
      readonly payload: unknown;
      /** Optional client-chosen id (up to 128 characters), echoed in the reply. */
      readonly id?: string;
    };

/** Messages the server sends. */
export type ServerMessage =
  | {
      /** First frame after the upgrade. */
      readonly type: 'hello';
      /** Protocol version (1). */
      readonly v: number;
      /** Whether this connection may send `publish`. */
      readonly canPublish: boolean;
    }
  | {
      /** Acknowledges a `subscribe`. */
      readonly type: 'subscribed';
      /** The pattern now subscribed. */
      readonly pattern: string;
      /** The `id` of the client frame this answers, when it had one. */
      readonly id?: string;
    }
  | {
      /** Acknowledges an `unsubscribe`. */
      readonly type: 'unsubscribed';
      /** The pattern no longer subscribed. */
      readonly pattern: string;
      /** The `id` of the client frame this answers, when it had one. */
      readonly id?: string;
    }
  | {
      /** Acknowledges a `publish`. */
      readonly type: 'published';
      /** The topic published to. */
      readonly topic: string;
      /** The `id` of the client frame this answers, when it had one. */
      readonly id?: string;
    }
  | {
      /** A hub message matching one of the connection's subscriptions. */
      readonly type: 'message';
      /** Its topic, without the tenant prefix. */
      readonly topic: string;
      /** Its JSON payload. */
      readonly payload: unknown;
      /** Publish time, epoch ms. */
      readonly timestamp: number;
    }
  | {
      /** The subscription's buffer overflowed; messages were skipped. */
      readonly type: 'lagged';
      /** The subscription that lagged. */
      readonly pattern: string;
      /** How many messages it missed. */
      readonly missed: number;
    }
  | {
      /** A client frame was refused. */
      readonly type: 'error';
      /** Stable `ERR_*` code. */
      readonly code: string;
      /** Human-readable reason. */
      readonly message: string;
      /** The `id` of the client frame this answers, when it had one. */
      readonly id?: string;
    };

function bad(message: string): ProtocolError {
  return new ProtocolError(message, { code: 'ERR_WS_BAD_FRAME' });
}

function optionalId(value: Record<string, unknown>): { id?: string } {
  const id = value['id'];
  if (id === undefined) return {};
  if (typeof id !== 'string' || id.length > 128)
    throw bad('`id` must be a string of at most 128 characters');
  return { id };
}

/** Parses and validates one client frame. Throws ProtocolError with a stable code. */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('frame must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const v = record['v'];
  if (v !== undefined && v !== WS_PROTOCOL_VERSION)
    throw bad(`unsupported protocol version ${JSON.stringify(v)}`);
  const id = optionalId(record);
  try {
    return parseOp(record, id);
  } catch (error) {
    // Carry the client's correlation id into the error reply.
    if (id.id !== undefined && error instanceof ProtocolError) {
      throw new ProtocolError(error.message, {
        code: error.code as 'ERR_PROTOCOL',
        details: { id: id.id },
      });
    }
    throw error;
  }
}

function parseOp(record: Record<string, unknown>, id: { id?: string }): ClientMessage {
  const op = record['op'];
  switch (op) {
    case 'subscribe':
    case 'unsubscribe': {
      const pattern = record['pattern'];
      if (typeof pattern !== 'string') throw bad('`pattern` must be a string');
      return { op, pattern, ...id };
    }
    case 'publish': {
      const topic = record['topic'];
      if (typeof topic !== 'string') throw bad('`topic` must be a string');
      if (!('payload' in record)) throw bad('`payload` is missing');
      return { op, topic, payload: record['payload'], ...id };
    }
    default:
      throw new ProtocolError(`unknown op ${JSON.stringify(op)}`, { code: 'ERR_WS_UNKNOWN_OP' });
  }
}

/** Renders any error as a protocol `error` message (never leaks stack traces). */
export function errorMessage(error: unknown, replyTo?: string): ServerMessage {
  const detailId = isMajraError(error) ? error.details?.['id'] : undefined;
  const id = replyTo ?? (typeof detailId === 'string' ? detailId : undefined);
  const code = isMajraError(error) ? error.code : 'ERR_INTERNAL';
  const message = isMajraError(error) ? error.message : 'internal error';
  return id === undefined ? { type: 'error', code, message } : { type: 'error', code, message, id };
}

/** @internal The `message` frame for one hub message, as sent to clients. */
export function encodeMessageFrame(topic: string, payload: unknown, timestamp: number): string {
  return JSON.stringify({ type: 'message', topic, payload, timestamp });
}

/** @internal The HTTP response that refuses an upgrade with `status` (then the socket is closed). */
export function httpRefusal(status: number): string {
  const text = {
    401: 'Unauthorized',
    404: 'Not Found',
    408: 'Request Timeout',
    503: 'Service Unavailable',
  }[status];
  return `HTTP/1.1 ${status} ${text ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}
